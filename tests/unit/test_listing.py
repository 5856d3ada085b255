"""What a list's URL asks it to find: a status, words, and the links that keep them."""
from __future__ import annotations

import pytest

from common.errors import InputError
from common.listing import MAX_SEARCH, Listing, Search, search_from

STATUSES = ("accepted", "cancelled")
HINT = "an order number or a name"  # what the list is searched by, as its service says it


def test_a_url_without_a_filter_asks_for_every_row():
    search = search_from({}, STATUSES)

    assert search == Search(None, "") and not search.active
    assert search.query(page=2) == "page=2"


def test_the_status_and_the_words_asked_for_are_kept_in_the_links():
    search = search_from({"status": "cancelled", "q": "  rod \t johnson ", "page": "3"}, STATUSES)

    assert (search.status, search.words, search.active) == ("cancelled", ["rod", "johnson"], True)
    assert search.query(page=2) == "status=cancelled&q=rod+johnson&page=2"


def test_an_empty_status_and_search_from_a_form_mean_no_filter():
    assert not search_from({"status": "", "q": "   "}, STATUSES).active


def test_each_status_links_to_its_rows_with_the_same_words_from_the_first_page():
    listing = Listing(Search("cancelled", "johnson"), {"accepted": 55, "cancelled": 5})

    assert listing.total == 60
    assert listing.choices() == [(None, 60, "q=johnson"), ("accepted", 55, "status=accepted&q=johnson"),
                                 ("cancelled", 5, "status=cancelled&q=johnson")]


@pytest.mark.parametrize("args, sentence", [
    ({"status": "shipped"}, "The status must be one of accepted, cancelled; leave it out to see every status."),
    ({"status": "Cancelled"}, "The status must be one of accepted, cancelled; leave it out to see every status."),
    ({"q": "rod\x00"}, "The search contains a control character; search by an order number or a name."),
    ({"q": "x" * (MAX_SEARCH + 1)},
     f"The search has more than {MAX_SEARCH} characters; search by an order number or a name."),
])
def test_a_filter_the_list_cannot_apply_is_refused_with_a_sentence(args, sentence):
    with pytest.raises(InputError) as refused:
        search_from(args, STATUSES, HINT)

    assert refused.value.message == sentence
    assert set(refused.value.details) == set(args)
