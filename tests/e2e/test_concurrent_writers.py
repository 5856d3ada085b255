"""Two order-service processes take a stream of orders at once on one PostgreSQL
database. A reader polling both sees the feed grow append-only, and invoicing and
shipping, each following a different one of the two, end up with every order
exactly once."""
from __future__ import annotations

import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from common.feed.following import parse_page
from msatom.stack import free_port
from tests.support.orders import order_request
from tests.e2e.running import PATIENCE, every_item, gunicorn, http, trouble_in, wait_for_health

pytestmark = pytest.mark.e2e

ORDERS = 2000
WRITERS = 8
PAGE_SIZE = 50  # 2,000 orders fill 40 archive pages
CATCH_UP_SECONDS = 120


class FeedReader:
    """Reads `/feed` of each order process in turn, over and over, as a follower
    would: when the page does not go back to the next position it needs, it
    walks prev-archive links. It records every break of the feed's promise: the
    positions seen so far are always 1..n without a hole, and a position always
    shows the same entry."""

    def __init__(self, feed_urls: list[str]):
        self.feed_urls = feed_urls
        self.session = http()
        self.entries: dict[int, tuple[str, str]] = {}  # position -> (entry id, content src)
        self.known = 0  # positions 1..known have all been seen
        self.reads = 0
        self.problems: list[str] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=PATIENCE)
        assert not self.thread.is_alive(), "the feed reader is still reading"

    def _run(self) -> None:
        while not self.stopping.is_set():
            for url in self.feed_urls:
                self.read(url)
            time.sleep(0.02)

    def read(self, feed_url: str) -> None:
        try:
            self._read(feed_url)
        except Exception as error:  # noqa: BLE001 - reported by the test
            self._problem(f"reading {feed_url} failed: {error!r}")

    def _read(self, feed_url: str) -> None:
        url, pages = feed_url, []
        while url:
            response = self.session.get(url, headers={"Accept": "application/atom+xml"}, timeout=30)
            if response.status_code != 200:
                return self._problem(f"{url} answered {response.status_code}")
            page = parse_page(response.content, url)
            pages.append((url, page))
            url = None if page.reaches_back_to(self.known + 1) else page.prev_archive
        self.reads += 1
        for url, page in pages:
            for entry in page.entries:
                # The links differ between the two processes (their own host); the id may not.
                first_seen = self.entries.setdefault(entry.position, (entry.id, entry.content_src))
                if first_seen[0] != entry.id:
                    self._problem(f"{url}: position {entry.position} showed {first_seen[0]}, now {entry.id}")
        while self.known + 1 in self.entries:
            self.known += 1
        newest = max(self.entries, default=0)
        if newest != self.known:
            missing = sorted(set(range(1, newest + 1)) - set(self.entries))
            self._problem(f"after reading {feed_url} (pages {[u for u, _ in pages]}) positions up to "
                          f"{newest} were seen but {missing[:10]} ({len(missing)} in all) never")

    def _problem(self, text: str) -> None:
        if len(self.problems) < 20:
            self.problems.append(text)


def order_id_of(content_src: str) -> int:
    """The order of an entry's document: /<order id>/versions/<version>."""
    return int(content_src.rstrip("/").rsplit("/", 3)[1])


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
        # Each consumer follows a different order process.
        for name, feed_from in (("invoicing", "order_a"), ("shipping", "order_b")):
            processes[name] = gunicorn(name, ports[name], tmp_path, 2, DATABASE_URL=databases[name],
                                             ORDER_FEED_URL=f"{urls[feed_from]}/feed",
                                             POLL_INTERVAL_SECONDS="0.05")
        for name in processes:
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
