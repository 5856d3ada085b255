"""Two order processes under gunicorn on one PostgreSQL database get the same
idempotency key at once: one order is placed. A JSON request that comes while the first
runs gets 409 and, once the first is done, the first answer; a form posted to both (a
double click) waits for the first and shows the same order.

No timing is relied on: the first request waits inside its transaction, key and order
taken, on a lock the test holds until it lets it go (tests/e2e/holding.py)."""
from __future__ import annotations

import re
import secrets
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from common.db import Database
from msatom.stack import free_port
from order.models import FeedEntry, IdempotencyKey, Order
from tests.conftest import form_token
from tests.support.orders import order_form, order_request
from tests.e2e.holding import HeldFeed
from tests.e2e.running import BROWSER_ACCEPT, gunicorn, http, trouble_in, wait_for_health
from tests.support.waiting import until

pytestmark = pytest.mark.e2e

FORM = order_form()


@pytest.fixture(scope="module")
def order_processes(postgres, tmp_path_factory):
    """(database URL, [URL of process a, URL of process b]): one worker each, one secret key."""
    folder = tmp_path_factory.mktemp("idempotent-orders")
    database_url = postgres.create_database(f"order_{uuid.uuid4().hex[:8]}")
    ports, secret = [free_port(), free_port()], secrets.token_hex(32)
    processes = [gunicorn("order", port, folder, 1, DATABASE_URL=database_url, SECRET_KEY=secret)
                 for port in ports]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for process, url in zip(processes, urls, strict=True):
            wait_for_health(process, url, "order")
        yield database_url, urls
        for process in processes:
            assert not trouble_in(process.output()), process.output()[-3000:]
    finally:
        for process in processes:
            process.stop()


def counts(database_url: str) -> tuple[int, ...]:
    db = Database(database_url)
    with db.session() as session:
        found = tuple(session.scalar(select(func.count()).select_from(table))
                      for table in (Order, FeedEntry, IdempotencyKey))
    db.dispose()
    return found


def post_order(base_url: str, key: str) -> requests.Response:
    return http().post(f"{base_url}/", json=order_request(), headers={"Idempotency-Key": f'"{key}"'}, timeout=60)


def test_an_api_retry_while_the_first_runs_gets_409_and_afterwards_the_first_answer(order_processes):
    database_url, (a, b) = order_processes
    key, before = str(uuid.uuid4()), counts(database_url)

    with ThreadPoolExecutor(2) as pool, HeldFeed(database_url) as feed:
        first_sent = pool.submit(post_order, a, key)
        until(lambda: feed.waiting() == 1, "the first request waiting inside its transaction")
        second_sent = pool.submit(post_order, b, key)
        until(lambda: second_sent.done() or feed.waiting() == 2, "the second request answered or waiting")
        answered_while_the_first_ran = second_sent.done()
    first, second = first_sent.result(), second_sent.result()
    retry = post_order(b, key)

    assert answered_while_the_first_ran, f"the second request waited for the first and got {second.status_code}"
    assert second.status_code == 409 and "still being processed" in second.json()["error"]
    assert first.status_code == 201
    assert (retry.status_code, retry.content, retry.headers["Location"]) == (
        201, first.content, first.headers["Location"])
    assert counts(database_url) == (before[0] + 1, before[1] + 1, before[2] + 1)


def test_a_form_posted_to_two_processes_at_once_places_one_order_and_both_show_it(order_processes):
    database_url, (a, b) = order_processes
    browser = http()
    page = browser.get(f"{a}/new", headers={"Accept": BROWSER_ACCEPT}, timeout=30).text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page)
    assert key, "the form carries no key"
    form = {**FORM, "csrf_token": form_token(page), "idempotency_key": key[1]}
    before = counts(database_url)

    def post_form(base_url: str) -> requests.Response:
        return http().post(f"{base_url}/", data=form, cookies=browser.cookies, allow_redirects=False,
                           headers={"Accept": BROWSER_ACCEPT}, timeout=60)

    with ThreadPoolExecutor(2) as pool, HeldFeed(database_url) as feed:
        first_sent = pool.submit(post_form, a)
        until(lambda: feed.waiting() == 1, "the first post waiting inside its transaction")
        second_sent = pool.submit(post_form, b)
        until(lambda: second_sent.done() or feed.waiting() == 2, "the second post answered or waiting")
        second_waits_for_the_key = feed.waiting("advisory") == 1
    first, second = first_sent.result(), second_sent.result()

    assert [first.status_code, second.status_code] == [303, 303], (first.text[:300], second.text[:300])
    assert first.headers["Location"] == second.headers["Location"]
    assert second_waits_for_the_key, "the second post did not wait for the first one's key"
    assert counts(database_url) == (before[0] + 1, before[1] + 1, before[2] + 1)
