"""A feed reader nobody here wrote, newsboat, reads the running system's feed."""
from __future__ import annotations

import sqlite3
import time

import pytest

from tests.conftest import require_program
from tests.support.orders import order_request
from tests.e2e.newsboat import Newsboat
from tests.e2e.running import http

pytestmark = pytest.mark.e2e


def place(session, base_url, customer_id=1) -> int:
    response = session.post(f"{base_url}/order/", json=order_request(customer_id=customer_id), timeout=5)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def all_order_ids(session, base_url) -> list[int]:
    response = session.get(f"{base_url}/order/", headers={"Accept": "application/json"}, timeout=5)
    assert response.status_code == 200
    return [order["id"] for order in response.json()]


def at_the_start_of_a_second() -> None:
    """Sleep until just after the next whole second of the wall clock (which the
    server shares): what follows then very likely runs within one second."""
    time.sleep(1.02 - time.time() % 1)


def test_newsboat_reads_every_order_and_a_new_one_after_a_conditional_reload(base_url, tmp_path):
    newsboat = Newsboat(require_program("newsboat"), tmp_path, f"{base_url}/order/feed")
    session = http()
    # The hard case: the new order lands in the same (HTTP, whole) second as the
    # reload before it, so If-Modified-Since alone cannot tell the feed changed.
    at_the_start_of_a_second()
    placed = [place(session, base_url, 1), place(session, base_url, 2)]
    ids = all_order_ids(session, base_url)
    assert set(placed) <= set(ids)

    newsboat.reload()

    assert newsboat.unread() == len(ids)
    assert newsboat.titles() == {f"Order {order_id} placed" for order_id in ids}

    # newsboat 2.21 keeps the feed's Last-Modified and ETag only from its second
    # reload on, and sends them (If-Modified-Since, If-None-Match) on the ones after.
    newsboat.reload()

    assert newsboat.unread() == len(ids), "a reload with nothing new changed what is unread"
    last_modified, etag = newsboat.validators()
    assert last_modified or etag, "newsboat kept no validator: its next reload would not be conditional"

    newest = place(session, base_url, 1)
    newsboat.reload()

    assert newsboat.unread() == len(ids) + 1
    assert newsboat.titles() == {f"Order {order_id} placed" for order_id in [*ids, newest]}


def test_newsboat_links_the_feed_to_the_orders_page(base_url, tmp_path):
    newsboat = Newsboat(require_program("newsboat"), tmp_path, f"{base_url}/order/feed")
    place(http(), base_url)

    newsboat.reload()

    with sqlite3.connect(newsboat.cache) as cache:
        title, home = cache.execute("SELECT title, url FROM rss_feed").fetchone()
    assert (title, home) == ("Orders", f"{base_url}/order/")
