"""The subscription document's news alone (RFC 3229 `A-IM: feed`, `226 IM Used`): a
client that shows the ETag of its copy and asks for a delta gets the entries added
since, with the whole document's validators; anyone else gets the document as before."""
from __future__ import annotations

import pytest
import requests

from common.feed.client import FeedClient
from common.feed.parsing import parse_page
from tests.conftest import live_server
from tests.integration.support import place_order

PAGE = 4  # entries a page of this test's order service


@pytest.fixture
def feed_url(make_app, settings_for):
    with live_server(make_app("order", settings_for("order", feed_page_size=PAGE))) as url:
        yield url


def get_feed(url: str, **headers) -> requests.Response:
    return requests.get(url + "/feed", headers=headers, timeout=5)


def positions(response: requests.Response) -> list[int]:
    return [entry.position for entry in parse_page(response.content, response.url).entries]


def test_a_copy_on_the_newest_page_gets_the_entries_added_since_alone(feed_url):
    place_order(feed_url)
    copy = get_feed(feed_url)
    place_order(feed_url)
    place_order(feed_url)

    delta = get_feed(feed_url, **{"If-None-Match": copy.headers["ETag"], "A-IM": "feed"})
    whole = get_feed(feed_url)

    assert delta.status_code == 226 and delta.headers["IM"] == "feed"
    assert positions(delta) == [2, 3] and positions(whole) == [1, 2, 3]
    assert delta.headers["ETag"] == whole.headers["ETag"]  # what the copy is now up to
    assert delta.headers["Cache-Control"] == "no-store"  # an answer to one copy: no cache keeps it
    assert get_feed(feed_url, **{"If-None-Match": delta.headers["ETag"], "A-IM": "feed"}).status_code == 304


def test_without_a_im_a_client_gets_the_whole_document_as_before(feed_url):
    place_order(feed_url)
    copy = get_feed(feed_url)
    place_order(feed_url)

    answer = get_feed(feed_url, **{"If-None-Match": copy.headers["ETag"]})

    assert answer.status_code == 200 and "IM" not in answer.headers
    assert positions(answer) == [1, 2]


@pytest.mark.parametrize("etag", ['"archive-4-1"', '"feed-20-1"', '"feed-4-x"', '"feed-4-1", "feed-4-2"'])
def test_a_copy_the_feed_cannot_read_gets_the_whole_document(feed_url, etag):
    for _ in range(3):
        place_order(feed_url)

    answer = get_feed(feed_url, **{"If-None-Match": etag, "A-IM": "feed"})

    assert answer.status_code == 200 and positions(answer) == [1, 2, 3]


def test_a_copy_older_than_the_newest_page_gets_the_whole_document_with_its_links_back(feed_url):
    place_order(feed_url)
    copy = get_feed(feed_url)
    for _ in range(PAGE + 1):
        place_order(feed_url)

    answer = get_feed(feed_url, **{"If-None-Match": copy.headers["ETag"], "A-IM": "feed"})

    assert answer.status_code == 200
    assert positions(answer) == [5, 6]  # the newest page; the entries before it are in the archive


def test_the_documents_inline_come_as_a_delta_too(feed_url):
    place_order(feed_url)
    embedded = requests.get(f"{feed_url}/feed?embed=documents", timeout=5)
    order = place_order(feed_url)

    delta = requests.get(f"{feed_url}/feed?embed=documents", timeout=5,
                         headers={"If-None-Match": embedded.headers["ETag"], "A-IM": "feed"})

    entries = parse_page(delta.content, delta.url).entries
    assert delta.status_code == 226 and [entry.position for entry in entries] == [2]
    assert f'"id":{order["id"]}' in entries[0].inline.replace(" ", "")


def test_the_feed_client_reads_a_delta_as_the_subscription_document(feed_url):
    place_order(feed_url)
    client = FeedClient(f"{feed_url}/feed")
    first = client.get_feed(None, None)
    place_order(feed_url)

    news = client.get_feed(first.etag, first.last_modified)

    assert news.status == 200 and news.etag != first.etag
    assert [entry.position for entry in parse_page(news.body, f"{feed_url}/feed").entries] == [2]
