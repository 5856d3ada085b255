"""Chaos on the real stack (PostgreSQL, gunicorn, Apache): while orders are placed
without pause, a consumer is stopped and started, another is killed, and PostgreSQL
restarts. At the end each consumer has every order exactly once."""
from __future__ import annotations

import signal
import threading
import time

import pytest
import requests

from msatom.stack import Stack, wait_until
from tests.conftest import running
from tests.support.orders import order_request
from tests.e2e.running import SIGNING_KEY, PATIENCE, every_item, http, kill_group, wait_for_health, wait_for_items

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def chaos_stack():
    """A stack of the module's own: its tests stop and kill its processes."""
    with running(lambda: Stack(poll_interval=0.2, signing_key=SIGNING_KEY)) as stack:
        yield stack


class Shopper(threading.Thread):
    """Places orders through Apache, one after another, until told to stop;
    a refused or failed request is simply tried again later."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url, self.stopping, self.placed, self.failed = url, threading.Event(), list[int](), 0

    def run(self):
        session = http()
        while not self.stopping.is_set():
            try:
                response = session.post(f"{self.url}/order/", json=order_request(), timeout=10)
            except requests.RequestException:
                self.failed += 1
            else:
                if response.status_code == 201:
                    self.placed.append(response.json()["id"])
                else:
                    self.failed += 1
            time.sleep(0.02)

    def places(self, orders: int, what: str) -> None:
        """Return once `orders` more orders are placed: the chaos's next step waits for them."""
        placed = len(self.placed)
        wait_until(lambda: len(self.placed) >= placed + orders, PATIENCE, f"{orders} orders placed {what}")

    def fails(self, what: str) -> None:
        """Return once an order could not be placed."""
        failed = self.failed
        wait_until(lambda: self.failed > failed, PATIENCE, f"an order failing {what}")


def test_every_order_arrives_once_whatever_breaks_meanwhile(chaos_stack):
    stack = chaos_stack
    shopper = Shopper(stack.url)
    shopper.start()
    try:
        # Each state of the chaos lasts until orders have come in during it.
        shopper.places(5, "before the chaos")
        stack.processes["invoicing"].stop(signal.SIGTERM)   # stopped the polite way ...
        shopper.places(5, "while invoicing is stopped")
        stack.start_service("invoicing")                    # ... and started again
        kill_group(stack.processes["shipping"].process)     # killed outright
        shopper.places(5, "while shipping is killed")
        stack.start_service("shipping")
        shopper.places(5, "while shipping starts again")
        stack.postgres.pause()                              # the database restarts
        shopper.fails("while PostgreSQL is down")
        stack.postgres.resume()
        shopper.places(5, "once PostgreSQL is back")
        for name in ("invoicing", "shipping"):
            wait_for_health(stack.processes[name], stack.service_url(name), name)
        # On a loaded machine the shopper may be slow: give it its orders, however long it takes.
        wait_until(lambda: len(shopper.placed) > 50, PATIENCE, "the shopper placing more than 50 orders")
    finally:
        shopper.stopping.set()
        shopper.join(PATIENCE)
    assert not shopper.is_alive(), "the shopper is still placing orders"  # else its list could still grow

    session = http()
    orders = {order["id"] for order in every_item(session, f"{stack.url}/order/")}
    assert set(shopper.placed) <= orders and len(shopper.placed) > 50
    for name in ("invoicing", "shipping"):
        ids = [item["id"] for item in wait_for_items(session, f"{stack.url}/{name}/", orders)]
        assert len(ids) == len(set(ids)), f"{name} holds an order twice"
        assert set(ids) == orders, f"{name} misses {sorted(orders - set(ids))[:10]}"


def test_consumers_wait_out_a_stopped_order_service_and_catch_up_by_themselves(chaos_stack):
    stack, session = chaos_stack, http()
    stack.processes["order"].stop(signal.SIGTERM)
    while_down = session.post(f"{stack.service_url('invoicing')}/poll", timeout=30,
                              headers={"Accept": "application/json"}).json()
    page = session.get(f"{stack.url}/invoicing/", headers={"Accept": "text/html"}, timeout=10).text

    stack.start_service("order")
    wait_for_health(stack.processes["order"], stack.service_url("order"), "order")
    placed = session.post(f"{stack.url}/order/", json=order_request(), timeout=10).json()["id"]

    assert while_down["status"] == "error" and "cannot be reached" in while_down["message"]
    assert "cannot be reached" in page  # the state every worker of the service shows
    for name in ("invoicing", "shipping"):  # the schedule, backing off, comes back by itself
        assert placed in [item["id"] for item in wait_for_items(session, f"{stack.url}/{name}/", {placed})]
