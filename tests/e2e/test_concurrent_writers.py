"""Two order-service processes take a stream of orders at once on one PostgreSQL
database. A reader polling both sees the feed grow append-only, and invoicing and
shipping, each following a different one of the two, end up with every order
exactly once."""
from __future__ import annotations

import signal
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from msatom.stack import free_port
from tests.e2e.feed_reader import FeedReader, order_id_of
from tests.e2e.running import every_item, gunicorn, http, trouble_in, wait_for_health
from tests.support.orders import order_request

pytestmark = pytest.mark.e2e

ORDERS = 2000
WRITERS = 8
PAGE_SIZE = 50  # 2,000 orders fill 40 archive pages
CATCH_UP_SECONDS = 120


def test_two_order_processes_under_load_keep_the_feed_append_only_and_every_order_arrives_once(
        postgres, tmp_path):
    suffix = uuid.uuid4().hex[:8]
    databases = {name: postgres.create_database(f"{name}_{suffix}") for name in ("order", "invoicing", "shipping")}
    ports = {name: free_port() for name in ("order_a", "order_b", "invoicing", "shipping")}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    processes = {}
    reader = FeedReader([f"{urls['order_a']}/feed", f"{urls['order_b']}/feed"])
    timings = {}
    try:
        started = time.monotonic()
        # Both order processes start together on the empty database: both migrate it.
        for name in ("order_a", "order_b"):
            processes[name] = gunicorn("order", ports[name], tmp_path, 2, DATABASE_URL=databases["order"],
                                             FEED_PAGE_SIZE=str(PAGE_SIZE))
        # Each consumer follows a different order process, once it answers: a first poll
        # that finds no one there logs a warning, which would fail the test.
        for name in ("order_a", "order_b"):
            wait_for_health(processes[name], urls[name], name)
        for name, feed_from in (("invoicing", "order_a"), ("shipping", "order_b")):
            processes[name] = gunicorn(name, ports[name], tmp_path, 2, DATABASE_URL=databases[name],
                                       ORDER_FEED_URL=f"{urls[feed_from]}/feed", POLL_INTERVAL_SECONDS="0.05")
        for name in ("invoicing", "shipping"):
            wait_for_health(processes[name], urls[name], name)
        timings["start"] = time.monotonic() - started

        started = time.monotonic()
        reader.start()
        failures: list[str] = []
        with ThreadPoolExecutor(WRITERS) as pool:
            batches = list(pool.map(lambda index: place_orders(
                urls["order_a" if index % 2 == 0 else "order_b"], ORDERS // WRITERS, failures), range(WRITERS)))
        placed = [order_id for batch in batches for order_id in batch]
        timings["placing"] = time.monotonic() - started
        reader.stop()
        for url in reader.feed_urls:  # one more look at both, now that everything is in
            reader.read(url)

        assert not failures, failures[:10]
        assert len(placed) == ORDERS and len(set(placed)) == ORDERS
        assert not reader.problems, "the feed broke its promise:\n" + "\n".join(reader.problems)
        assert reader.known == ORDERS, f"the reader saw positions 1..{reader.known}, not 1..{ORDERS}"
        in_feed = [order_id_of(reader.entries[position][1]) for position in range(1, ORDERS + 1)]
        assert sorted(in_feed) == sorted(placed), "the feed does not tell of each placed order once"

        started = time.monotonic()
        newest = in_feed[-1]  # the consumers import in feed order: the last one comes last
        for name in ("invoicing", "shipping"):
            copies = wait_for_all(processes[name], urls[name], newest, set(placed), started + CATCH_UP_SECONDS)
            ids = [copy["id"] for copy in copies]
            assert len(ids) == len(set(ids)), f"{name} has duplicates: {len(ids) - len(set(ids))}"
            assert set(ids) == set(placed), (f"{name} lacks {sorted(set(placed) - set(ids))[:20]}, "
                                             f"has unknown {sorted(set(ids) - set(placed))[:20]}")
        timings["catching up"] = time.monotonic() - started

        for name, process in processes.items():
            assert not trouble_in(process.output()), f"{name}'s log:\n" + "\n".join(trouble_in(process.output())[:30])
        print(f"timings (s): { {step: round(seconds, 1) for step, seconds in timings.items()} }, "
              f"feed reads: {reader.reads}")
    finally:
        reader.stop()
        # The consumers first, so that none of them polls an order service that is gone.
        for group in (("invoicing", "shipping"), ("order_a", "order_b")):
            for process in [processes[name] for name in group if name in processes]:
                process.send(signal.SIGTERM)
            for process in [processes[name] for name in group if name in processes]:
                process.stop()


def place_orders(order_url: str, count: int, failures: list[str]) -> list[int]:
    """Place `count` orders one after another on one connection; their ids."""
    session = http()
    placed = []
    for n in range(count):
        request = order_request(customer_id=1 + n % 2, lines=((1 + n % 4, 1 + n % 3),))
        response = session.post(f"{order_url}/", json=request, timeout=30)
        if response.status_code == 201:
            placed.append(response.json()["id"])
        else:
            failures.append(f"POST {order_url}/ answered {response.status_code}: {response.text[:300]}")
    return placed


def wait_for_all(process, url: str, newest: int, wanted: set[int], deadline: float) -> list[dict]:
    """The service's list (invoices, shipments) once it has the newest order, or
    once it has them all, or at the deadline, whatever comes first."""
    session = http()
    while time.monotonic() < deadline:
        if session.get(f"{url}/{newest}", headers={"Accept": "application/json"}, timeout=30).status_code == 200:
            break
        time.sleep(0.2)
    while True:
        copies = every_item(session, f"{url}/")
        if wanted <= {copy["id"] for copy in copies} or time.monotonic() >= deadline:
            return copies
        time.sleep(1)
