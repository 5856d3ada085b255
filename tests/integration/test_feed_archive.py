"""The order feed as an RFC 5005 archived feed, over real HTTP on SQLite and
PostgreSQL: the subscription document, full archive pages that never change,
and a walk through the whole history."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
import requests
from lxml import etree

from common.feed import HISTORY_NS, POSITION_NS
from tests.conftest import live_server
from tests.integration.support import ATOM, cancel_order, place_order

IMMUTABLE = "public, max-age=31536000, immutable"
NS = {"a": ATOM, "fh": HISTORY_NS, "p": POSITION_NS}


@dataclass
class Page:
    response: requests.Response

    @property
    def root(self):
        return etree.fromstring(self.response.content)

    @property
    def links(self) -> dict[str, str]:
        """The links of RFC 4287 and 5005 (the project's own relations are URIs)."""
        return {link.get("rel"): link.get("href") for link in self.root.xpath("a:link", namespaces=NS)
                if ":" not in link.get("rel")}

    @property
    def own_links(self) -> dict[str, str]:
        return {link.get("rel"): link.get("href") for link in self.root.xpath("a:link", namespaces=NS)
                if ":" in link.get("rel")}

    @property
    def positions(self) -> list[int]:
        return [int(text) for text in self.root.xpath("a:entry/p:position/text()", namespaces=NS)]

    @property
    def archived(self) -> bool:
        return bool(self.root.xpath("fh:archive", namespaces=NS))


def fetch(url: str, **headers) -> Page:
    response = requests.get(url, headers=headers, timeout=5)
    assert response.status_code == 200, (url, response.status_code)
    assert response.headers["Content-Type"].split(";")[0] == "application/atom+xml"
    return Page(response)


@pytest.fixture
def shop(make_app, settings_for, database_url):
    """The order service with pages of 3 entries, on each database engine."""
    app = make_app("order", settings_for("order", feed_page_size=3, database_url=database_url))
    with live_server(app) as url:
        yield url


def place(url: str, count: int) -> list[dict]:
    return [place_order(url) for _ in range(count)]


def test_the_subscription_document_is_the_page_still_filling(shop):
    place(shop, 7)

    feed = fetch(shop + "/feed")
    filling = fetch(shop + "/feed/archive/3")

    assert feed.positions == [7]
    assert feed.links == {"self": shop + "/feed", "current": shop + "/feed", "alternate": shop + "/",
                          "prev-archive": shop + "/feed/archive/2"}
    assert not feed.archived
    assert feed.response.headers["Cache-Control"] == "no-cache"
    # The same page at its archive address, not yet an archive document.
    assert filling.positions == [7]
    assert not filling.archived
    assert filling.links == {"self": shop + "/feed/archive/3", "current": shop + "/feed", "alternate": shop + "/",
                             "prev-archive": shop + "/feed/archive/2"}
    assert filling.response.headers["Cache-Control"] == "no-cache"


def test_full_archive_pages_are_marked_linked_and_cacheable_for_good(shop):
    place(shop, 7)

    first, second = fetch(shop + "/feed/archive/1"), fetch(shop + "/feed/archive/2")

    assert (first.positions, second.positions) == ([3, 2, 1], [6, 5, 4])
    assert first.archived and second.archived
    assert first.links == {"self": shop + "/feed/archive/1", "current": shop + "/feed", "alternate": shop + "/",
                           "next-archive": shop + "/feed/archive/2"}
    assert second.links == {"self": shop + "/feed/archive/2", "current": shop + "/feed", "alternate": shop + "/",
                            "prev-archive": shop + "/feed/archive/1", "next-archive": shop + "/feed/archive/3"}
    for page in (first, second):
        assert page.response.headers["Cache-Control"] == IMMUTABLE
        assert page.response.headers["ETag"]
    assert first.response.headers["ETag"] != second.response.headers["ETag"]


def test_a_full_archive_page_never_changes(shop):
    orders = place(shop, 4)
    before = fetch(shop + "/feed/archive/1").response
    feed_before = fetch(shop + "/feed").response.headers["ETag"]

    place(shop, 3)
    assert cancel_order(shop, orders[0]["id"]).status_code == 200
    assert cancel_order(shop, orders[1]["id"]).status_code == 200
    after = fetch(shop + "/feed/archive/1").response
    revalidated = requests.get(shop + "/feed/archive/1", headers={"If-None-Match": before.headers["ETag"]},
                               timeout=5)

    assert fetch(shop + "/feed").response.headers["ETag"] != feed_before  # the feed did change
    assert after.content == before.content
    assert after.headers["ETag"] == before.headers["ETag"]
    assert revalidated.status_code == 304
    assert revalidated.content == b""


def test_a_page_that_fills_up_becomes_an_archive_page_with_a_next_link(shop):
    place(shop, 2)
    filling = fetch(shop + "/feed/archive/1")
    place(shop, 1)

    full = fetch(shop + "/feed/archive/1")
    feed = fetch(shop + "/feed")

    assert (filling.archived, full.archived) == (False, True)
    assert "next-archive" not in filling.links
    assert full.positions == [3, 2, 1]
    assert full.links["next-archive"] == shop + "/feed/archive/2"
    # /feed, the subscription document, still shows the newest entries, and is no archive.
    assert (feed.positions, feed.archived) == ([3, 2, 1], False)
    assert "next-archive" not in feed.links and "prev-archive" not in feed.links
    following = fetch(shop + "/feed/archive/2")  # already there for the next-archive link
    assert (following.positions, following.archived) == ([], False)


def walk_back(shop: str) -> list[int]:
    """Every position, from /feed along prev-archive links, checking each page lists newest first."""
    seen, url = [], shop + "/feed"
    for _ in range(20):
        page = fetch(url)
        assert page.positions == sorted(page.positions, reverse=True)
        seen += page.positions
        url = page.links.get("prev-archive")
        if url is None:
            return seen
    raise AssertionError("the prev-archive links do not end")


def walk_forward(shop: str) -> list[int]:
    """Every position, from the first page along next-archive links, newest first."""
    seen, url = list[int](), shop + "/feed/archive/1"
    for _ in range(20):
        page = fetch(url)
        seen = page.positions + seen
        url = page.links.get("next-archive")
        if url is None:
            return seen
    raise AssertionError("the next-archive links do not end")


def assert_walks_reach(shop: str, total: int) -> None:
    everything = list(range(total, 0, -1))
    assert walk_back(shop) == everything, f"walking back after {total} entries"
    assert walk_forward(shop) == everything, f"walking forward after {total} entries"


def test_walking_the_archive_reaches_every_position_exactly_once(shop):
    """Walked after each change, across the page boundaries."""
    assert_walks_reach(shop, 0)
    orders = place(shop, 1)
    assert_walks_reach(shop, 1)
    orders += place(shop, 2)
    assert_walks_reach(shop, 3)  # a page just filled: the feed is empty
    orders += place(shop, 1)
    assert_walks_reach(shop, 4)
    for order in (orders[0], orders[2]):
        assert cancel_order(shop, order["id"]).status_code == 200
    assert_walks_reach(shop, 6)
    place(shop, 1)
    assert_walks_reach(shop, 7)


def test_there_is_no_page_before_the_first_nor_after_the_one_filling(shop):
    place(shop, 7)

    answers = {number: requests.get(f"{shop}/feed/archive/{number}", timeout=5).status_code
               for number in (0, 1, 3, 4, 99)}

    assert answers == {0: 404, 1: 200, 3: 200, 4: 404, 99: 404}
