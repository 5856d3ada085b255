"""The order feed over real HTTP: its headers and conditional GETs, as a feed reader sees them."""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urljoin

import feedparser
import lxml.html
import pytest
import requests

from tests.conftest import live_server
from tests.integration.support import place_order


def get_feed(url: str, **headers) -> requests.Response:
    return requests.get(url + "/feed", headers=headers, timeout=5)


def entry_ids(response: requests.Response) -> list[str]:
    return [entry.id for entry in feedparser.parse(response.content).entries]


def content_links(response: requests.Response) -> list[str]:
    return [entry.content[0]["src"] for entry in feedparser.parse(response.content).entries]


def test_feed_headers(order_url):
    place_order(order_url)

    response = get_feed(order_url)

    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == "application/atom+xml"
    assert response.headers["ETag"].startswith('"') or response.headers["ETag"].startswith('W/"')
    assert "Last-Modified" in response.headers
    assert "no-cache" in response.headers["Cache-Control"]


def test_feed_entries_link_to_the_orders_newest_first(order_url):
    first = place_order(order_url)
    second = place_order(order_url, customer_id=2)

    parsed = feedparser.parse(get_feed(order_url).content)

    assert not parsed.bozo
    assert [entry.content[0]["src"] for entry in parsed.entries] == [
        f"{order_url}/{second['id']}/versions/1", f"{order_url}/{first['id']}/versions/1"]
    assert [entry.id for entry in parsed.entries] == [
        f"tag:microservice-atom,2026:order/{order['id']}/version/1" for order in (second, first)]
    assert [entry.title for entry in parsed.entries] == [f"Order {second['id']} placed", f"Order {first['id']} placed"]
    assert [entry.content[0]["type"] for entry in parsed.entries] == ["application/json"] * 2
    assert parsed.entries[0].summary == f"Order {second['id']}: 2 items for {second['totalPrice']} EUR."
    alternate = [link for link in parsed.entries[0].links if link.rel == "alternate"]
    assert alternate[0].type == "text/html" and alternate[0].href == f"{order_url}/{second['id']}"


def test_the_feed_and_the_orders_page_link_to_each_other(order_url):
    place_order(order_url)

    parsed = feedparser.parse(get_feed(order_url).content)
    page = lxml.html.fromstring(requests.get(order_url + "/", headers={"Accept": "text/html"}, timeout=5).content)

    assert parsed.feed.link == order_url + "/"  # where a reader links the feed's title
    announced = page.xpath("/html/head/link[@rel='alternate']")
    assert [(link.get("type"), link.get("title")) for link in announced] == [("application/atom+xml", "Orders")]
    assert urljoin(order_url + "/", announced[0].get("href")) == order_url + "/feed"


def test_if_none_match_gets_304_without_body_until_a_new_order(order_url):
    place_order(order_url)
    etag = get_feed(order_url).headers["ETag"]

    unchanged = get_feed(order_url, **{"If-None-Match": etag})
    place_order(order_url)
    changed = get_feed(order_url, **{"If-None-Match": etag})

    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert len(entry_ids(changed)) == 2
    assert entry_ids(changed)[1] == entry_ids(get_feed(order_url))[1]


def test_an_empty_feed_is_valid_and_gets_304_until_the_first_order(order_url):
    empty = get_feed(order_url)
    assert empty.status_code == 200
    assert entry_ids(empty) == []

    assert get_feed(order_url, **{"If-None-Match": empty.headers["ETag"]}).status_code == 304
    place_order(order_url)
    assert get_feed(order_url, **{"If-None-Match": empty.headers["ETag"]}).status_code == 200


def test_if_none_match_wins_over_if_modified_since(order_url):
    place_order(order_url)

    response = get_feed(order_url, **{"If-None-Match": '"some-older-state"',
                                      "If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"})

    assert response.status_code == 200
    assert len(entry_ids(response)) == 1


@pytest.fixture
def clocked_order_url(make_app, settings_for, clock):
    app = make_app("order", settings_for("order", clock=clock))
    with live_server(app) as url:
        yield url


def at(clock, second: int, micro: int) -> None:
    clock.now = datetime(2026, 11, 22, 10, 0, second, micro, tzinfo=timezone.utc)


def test_if_modified_since_alone_never_misses_an_order_of_the_same_second(clocked_order_url, clock):
    url = clocked_order_url
    at(clock, 0, 300_000)
    first = place_order(url)
    at(clock, 0, 500_000)
    seen = get_feed(url)
    at(clock, 0, 800_000)
    second = place_order(url)

    response = get_feed(url, **{"If-Modified-Since": seen.headers["Last-Modified"]})

    assert content_links(seen) == [f"{url}/{first['id']}/versions/1"]
    assert response.status_code == 200
    assert content_links(response) == [f"{url}/{second['id']}/versions/1", f"{url}/{first['id']}/versions/1"]
    assert entry_ids(response)[1] == entry_ids(seen)[0]


def test_if_modified_since_gets_304_once_the_second_of_the_newest_order_is_over(clocked_order_url, clock):
    url = clocked_order_url
    at(clock, 0, 300_000)
    place_order(url)
    at(clock, 0, 500_000)
    early = get_feed(url)
    at(clock, 1, 200_000)

    settled = get_feed(url, **{"If-Modified-Since": early.headers["Last-Modified"]})
    assert settled.status_code == 200
    again = get_feed(url, **{"If-Modified-Since": settled.headers["Last-Modified"]})
    at(clock, 5, 0)
    later = get_feed(url, **{"If-Modified-Since": settled.headers["Last-Modified"]})

    assert again.status_code == 304
    assert again.content == b""
    assert later.status_code == 304
