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


def place(session, base_url, customer_id=1) -> dict:
    response = session.post(f"{base_url}/order/", json=order_request(customer_id=customer_id), timeout=5)
    assert response.status_code == 201, response.text
    return response.json()


def all_order_ids(session, base_url) -> list[int]:
    response = session.get(f"{base_url}/order/", headers={"Accept": "application/json"}, timeout=5)
    assert response.status_code == 200
    return [order["id"] for order in response.json()]


def second_of(order: dict) -> str:
    """The whole second an order was placed in, as HTTP dates count them."""
    return order["placedAt"][:19]


def at_the_start_of_a_second() -> None:
    """Sleep until just after the next whole second of the wall clock, which the
    server shares: what follows then has most of a second to run in."""
    time.sleep(1.02 - time.time() % 1)


# Tries of the hard case below; one in a second's time is enough, this many when the machine is slow.
TRIES = 20


def test_newsboat_reads_every_order_and_a_new_one_after_a_conditional_reload(base_url, tmp_path):
    newsboat = Newsboat(require_program("newsboat"), tmp_path, f"{base_url}/order/feed")
    session = http()
    place(session, base_url, 1)
    ids = all_order_ids(session, base_url)

    newsboat.reload()

    assert newsboat.unread() == len(ids)
    assert newsboat.titles() == {f"Order {order_id} placed" for order_id in ids}

    # newsboat 2.21 keeps the feed's Last-Modified and ETag only from its second
    # reload on, and sends them (If-Modified-Since, If-None-Match) on the ones after.
    newsboat.reload()

    assert newsboat.unread() == len(ids), "a reload with nothing new changed what is unread"
    last_modified, etag = newsboat.validators()
    assert last_modified or etag, "newsboat kept no validator: its next reload would not be conditional"

    # The hard case: a conditional reload in the second of the newest order, then a new
    # order in that same second, so that If-Modified-Since alone cannot tell the feed changed.
    for _ in range(TRIES):
        at_the_start_of_a_second()
        before = place(session, base_url, 2)
        newsboat.reload()
        newest = place(session, base_url, 1)
        newsboat.reload()
        ids += [before["id"], newest["id"]]

        assert newsboat.unread() == len(ids)
        assert newsboat.titles() == {f"Order {order_id} placed" for order_id in ids}
        if second_of(before) == second_of(newest):
            break
    else:
        pytest.fail(f"in {TRIES} tries no reload fell in one second with the orders on either side of it")


def test_newsboat_links_the_feed_to_the_orders_page(base_url, tmp_path):
    newsboat = Newsboat(require_program("newsboat"), tmp_path, f"{base_url}/order/feed")
    place(http(), base_url)

    newsboat.reload()

    with sqlite3.connect(newsboat.cache) as cache:
        title, home = cache.execute("SELECT title, url FROM rss_feed").fetchone()
    assert (title, home) == ("Orders", f"{base_url}/order/")
