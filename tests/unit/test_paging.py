"""Pages of a long list: which items, and which neighbours."""
from __future__ import annotations

import pytest

from common.errors import InputError
from common.paging import MAX_PAGE, Page, page_number


def test_a_full_first_page_has_only_an_older_neighbour():
    page = Page(items=list(range(50)), number=1, size=50, total=120)

    assert (page.count, page.first_index, page.last_index) == (3, 1, 50)
    assert (page.newer, page.older) == (None, 2)


def test_the_last_page_holds_the_rest_and_has_only_a_newer_neighbour():
    page = Page(items=list(range(20)), number=3, size=50, total=120)

    assert (page.first_index, page.last_index) == (101, 120)
    assert (page.newer, page.older) == (2, None)


def test_an_empty_list_is_one_empty_page():
    page: Page[int] = Page(items=[], number=1, size=50, total=0)

    assert (page.count, page.first_index, page.last_index, page.newer, page.older) == (1, 0, 0, None, None)


@pytest.mark.parametrize("raw, number", [(None, 1), ("1", 1), ("12", 12), (str(MAX_PAGE), MAX_PAGE)])
def test_the_page_asked_for(raw, number):
    assert page_number(raw) == number


@pytest.mark.parametrize("raw", ["0", "-1", "two", "1.5", "", "1e30", "\u00b2", "\u0663", str(MAX_PAGE + 1),
                                 "9223372036854775807", "1" * 5000])
def test_a_page_that_is_not_a_whole_number_in_range_is_refused_with_a_sentence(raw):
    with pytest.raises(InputError, match=f"The page must be a whole number from 1 to {MAX_PAGE}."):
        page_number(raw)
