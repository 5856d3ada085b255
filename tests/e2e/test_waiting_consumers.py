"""Consumers that wait on the feed (long-poll, their default) under gunicorn on
PostgreSQL: killed while they wait, and with the order service restarted under them,
they lose nothing and double nothing."""
from __future__ import annotations

import signal

import pytest
from prometheus_client.parser import text_string_to_metric_families

from msatom.stack import free_port, wait_until
from tests.support.orders import order_request
from tests.e2e.running import PATIENCE, every_item, gunicorn, http, kill_group, wait_for_health

pytestmark = pytest.mark.e2e


def held_requests(order_url: str) -> float:
    """The requests the order service holds waiting for its next entry."""
    text = http().get(f"{order_url}/metrics", timeout=10).text
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == "msatom_feed_waiting_requests")


def test_waiting_consumers_lose_and_double_nothing_when_killed_or_when_the_order_service_restarts(
        postgres, tmp_path):
    order_port, invoicing_port = free_port(), free_port()
    order_url, invoicing_url = f"http://127.0.0.1:{order_port}", f"http://127.0.0.1:{invoicing_port}"
    order_db, invoicing_db = postgres.create_database("order_waiting"), postgres.create_database("invoicing_waiting")
    client = http()

    def start_order():
        process = gunicorn("order", order_port, tmp_path, workers=2, DATABASE_URL=order_db)
        wait_for_health(process, order_url, "order")
        return process

    def start_invoicing():
        process = gunicorn("invoicing", invoicing_port, tmp_path, workers=2, DATABASE_URL=invoicing_db,
                                 ORDER_FEED_URL=f"{order_url}/feed", POLL_INTERVAL_SECONDS="1")
        wait_for_health(process, invoicing_url, "invoicing")
        return process

    def place(count: int) -> list[int]:
        return [client.post(f"{order_url}/", json=order_request(), timeout=10).json()["id"] for _ in range(count)]

    def holds(ids: list[int]) -> bool:
        return sorted(invoice["id"] for invoice in every_item(client, f"{invoicing_url}/")) == sorted(ids)

    order, invoicing = start_order(), start_invoicing()
    try:
        placed = place(5)
        wait_until(lambda: holds(placed), PATIENCE, "the first orders invoiced")
        wait_until(lambda: held_requests(order_url) >= 1, PATIENCE, "invoicing waiting on the feed")

        kill_group(invoicing.process, signal.SIGKILL)  # while it waits
        placed += place(5)
        invoicing = start_invoicing()
        wait_until(lambda: holds(placed), PATIENCE, "the orders placed while invoicing was away")
        wait_until(lambda: held_requests(order_url) >= 1, PATIENCE, "invoicing waiting again")

        order.stop()  # under the waiting consumer
        order = start_order()
        placed += place(5)
        wait_until(lambda: holds(placed), 2 * PATIENCE, "the orders placed after the order service restarted")
        ids = [invoice["id"] for invoice in every_item(client, f"{invoicing_url}/")]
        assert len(ids) == len(set(ids)) == 15
    finally:
        invoicing.stop()
        order.stop()
