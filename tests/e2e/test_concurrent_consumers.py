"""Several processes of one consumer service on one PostgreSQL database import
every order exactly once and log no error."""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from msatom.stack import free_port
from tests.support.orders import order_request
from tests.e2e.running import gunicorn, http, wait_for_health, wait_for_items

pytestmark = pytest.mark.e2e
ORDERS = 40


def test_two_gunicorn_workers_and_a_replica_import_each_order_once(stack):
    # The stack's invoicing runs two workers; a replica process joins them on the same database.
    port = free_port()
    replica = gunicorn("invoicing", port, stack.folder, 2, DATABASE_URL=stack.databases["invoicing"],
                             ORDER_FEED_URL=f"{stack.service_url('order')}/feed", POLL_INTERVAL_SECONDS="0.1",
                             SECRET_KEY=stack.secret_key)
    session = http()
    since = len(stack.processes["invoicing"].output())  # the stack is shared: its log before this test is not ours
    try:
        wait_for_health(replica, f"http://127.0.0.1:{port}", "the replica")
        with ThreadPoolExecutor(8) as pool:
            placed = list(pool.map(lambda _: place(session, stack), range(ORDERS)))
            # Everyone asks for a poll at once as well, next to the schedules.
            list(pool.map(lambda url: session.post(url, headers={"Accept": "application/json"}, timeout=30),
                          [f"{stack.service_url('invoicing')}/poll", f"http://127.0.0.1:{port}/poll"] * 4))
        invoices = wait_for_items(session, f"{stack.url}/invoicing/", set(placed))
    finally:
        replica.stop()

    ids = [invoice["id"] for invoice in invoices]
    assert len(ids) == len(set(ids))
    assert set(placed) <= set(ids)
    for log in (replica.output(), stack.processes["invoicing"].output()[since:]):
        assert not re.search(r"\b(ERROR|CRITICAL)\b|Traceback|poll of .*: ", log), log[-3000:]


def place(session, stack) -> int:
    response = session.post(f"{stack.service_url('order')}/", json=order_request(), timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["id"]
