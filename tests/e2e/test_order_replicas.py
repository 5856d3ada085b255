"""Two order replicas behind Apache's balancer on one PostgreSQL database: 8 writers
place 2,000 orders through Apache while invoicing and shipping follow the feed, and
one replica is killed halfway. Apache routes around it and the writers send again,
with the same Idempotency-Key, what got no answer: no order is lost or placed twice,
the feed stays append-only, and each consumer ends with every order exactly once."""
from __future__ import annotations

import signal
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from msatom.stack import Stack
from tests.conftest import running
from tests.e2e.feed_reader import FeedReader, order_id_of
from tests.e2e.running import SIGNING_KEY, TROUBLE, every_item, http, wait_for_items
from tests.support.orders import order_request
from tests.support.waiting import until

pytestmark = pytest.mark.e2e

ORDERS = 2000
WRITERS = 8
# What a client sends again with the same key: no answer, Apache's 502/503 (the
# replica died with the request, or none could be reached), 409 (the first attempt
# is still being processed).
SEND_AGAIN = {409, 502, 503}


@pytest.fixture(scope="module")
def replicated():
    with running(lambda: Stack(poll_interval=0.2, signing_key=SIGNING_KEY, order_replicas=2)) as stack:
        yield stack


class Writers:
    """Clients placing orders through Apache, each with a key of its own, sent again
    until it is answered."""

    def __init__(self, url: str):
        self.url = url
        self.placed: list[int] = []
        self.sent_again = 0
        self.refusals: list[str] = []
        self.lock = threading.Lock()

    def place_all(self, count: int) -> None:
        with ThreadPoolExecutor(WRITERS) as pool:
            list(pool.map(self._place, [count // WRITERS] * WRITERS))

    def _place(self, count: int) -> None:
        session = http()
        for n in range(count):
            order_id = self._place_one(session, order_request(customer_id=1 + n % 2, lines=((1 + n % 4, 1),)))
            with self.lock:
                self.placed.append(order_id)

    def _place_one(self, session: requests.Session, order: dict) -> int:
        headers = {"Idempotency-Key": f'"{uuid.uuid4()}"'}
        while True:
            try:
                response = session.post(f"{self.url}/order/", json=order, headers=headers, timeout=30)
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
                response = None  # no answer, or one cut off by the replica's death: send it again
            if response is not None and response.status_code not in SEND_AGAIN:
                if response.status_code != 201:
                    self.refusals.append(f"{response.status_code}: {response.text[:200]}")
                return response.json().get("id")
            with self.lock:
                self.sent_again += 1


def test_orders_placed_on_two_replicas_while_one_dies_arrive_once_everywhere(replicated):
    stack = replicated
    writers = Writers(stack.url)
    reader = FeedReader([f"{stack.url}/order/feed"], through_replicas=True)
    reader.start()
    try:
        placing = threading.Thread(target=writers.place_all, args=(ORDERS,))
        placing.start()
        until(lambda: len(writers.placed) >= ORDERS // 3, "a third of the orders placed")
        stack.stop_replica("order", 1, signal.SIGKILL)  # with whatever it was doing
        placing.join()
    finally:
        reader.stop()
    reader.read(reader.feed_urls[0])  # once more, now that everything is in

    assert not writers.refusals, writers.refusals[:10]
    assert len(writers.placed) == len(set(writers.placed)) == ORDERS
    listed = [order["id"] for order in every_item(http(), f"{stack.url}/order/")]
    assert sorted(listed) == sorted(writers.placed), "an order placed twice, or one lost"
    assert not reader.problems, "the feed broke its promise:\n" + "\n".join(reader.problems)
    assert reader.known == ORDERS
    assert sorted(order_id_of(reader.entries[p][1]) for p in range(1, ORDERS + 1)) == sorted(writers.placed)
    for consumer in ("invoicing", "shipping"):
        ids = [item["id"] for item in wait_for_items(http(), f"{stack.url}/{consumer}/", set(writers.placed))]
        assert sorted(ids) == sorted(writers.placed), f"{consumer} lacks or repeats orders"
    # A poll held by the killed replica fails once (a warning) and the next one goes on;
    # nothing worse may appear.
    for name in ("order", "invoicing", "shipping"):
        serious = [line for line in stack.processes[name].output().splitlines()
                   if TROUBLE.search(line) and " poll of " not in line]
        assert not serious, f"{name}'s log:\n" + "\n".join(serious[:20])
    print(f"sent again: {writers.sent_again}, feed reads: {reader.reads}, unanswered: {reader.unanswered}")
