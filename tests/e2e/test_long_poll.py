"""Long-poll on the order feed with real processes: two order services under gunicorn
on one PostgreSQL database, Apache in front of one of them. An order placed through
one wakes a client waiting on the other (LISTEN/NOTIFY); a wait of 25 s passes Apache
and gunicorn uncut; a restart while a client waits never answers it 200 wrongly."""
from __future__ import annotations

import re
import signal
import socket
import threading
import time
import uuid

import feedparser
import pytest
import requests

from common.feed.waiting import Sharing
from msatom.gunicorn_conf import RESERVED_THREADS
from msatom.stack import PROXY_SOURCE, THREADS, free_port, start_apache, wait_until
from tests.support.addresses import from_address
from tests.support.orders import order_request
from tests.support.waiting import until
from tests.e2e.running import gunicorn, http, trouble_in, wait_for_health

pytestmark = pytest.mark.e2e

SOON = 5.0  # what happens at once when all is well, with room for a loaded machine
LONG_WAIT = 10  # a wait that news should end: twice SOON
# The places of order service A's two workers that requests without a credential may
# take: half of each worker's are kept for those with one (Sharing.fair).
ANONYMOUS_PLACES = 2 * ((THREADS - RESERVED_THREADS) - Sharing.fair(THREADS - RESERVED_THREADS).kept)


class Services:
    def __init__(self, postgres, folder):
        self.folder = folder
        self.database = postgres.create_database(f"order_{uuid.uuid4().hex[:8]}")
        self.ports = {"a": free_port(), "b": free_port(), "apache": free_port()}
        self.url = {name: f"http://127.0.0.1:{port}" for name, port in self.ports.items()}
        self.processes = {}

    def start(self, name: str) -> None:
        settings = {"DATABASE_URL": self.database, "TRUSTED_PROXIES": PROXY_SOURCE}
        if name == "a":
            # A gunicorn timeout far below the waits: it must not cut a held request.
            settings["GUNICORN_CMD_ARGS"] = "--timeout 5"
        self.processes[name] = gunicorn("order", self.ports[name], self.folder, 2, **settings)

    def wait_for(self, name: str) -> None:
        wait_for_health(self.processes[name], self.url[name], name)

    def stop(self) -> None:
        for process in self.processes.values():
            process.send(signal.SIGTERM)
        for process in self.processes.values():
            process.stop()


@pytest.fixture(scope="module")
def services(postgres, tmp_path_factory):
    """Order services A and B on one database; Apache on "apache" in front of A."""
    services = Services(postgres, tmp_path_factory.mktemp("long-poll"))
    try:
        for name in ("a", "b"):
            services.start(name)
        services.processes["apache"] = start_apache(
            services.ports["apache"], services.folder, PROXY_SOURCE, order=services.url["a"],
            invoicing="http://127.0.0.1:9", shipping="http://127.0.0.1:9")
        for name in ("a", "b"):
            services.wait_for(name)
        wait_for_health(services.processes["apache"], f"{services.url['apache']}/order", "apache")
        yield services
    finally:
        services.stop()
    for name in ("a", "b"):
        log = services.processes[name].output()
        assert "WORKER TIMEOUT" not in log and not trouble_in(log), f"{name}'s log:\n{log[-3000:]}"


class Waiter(threading.Thread):
    """One waiting GET of a feed in a thread of its own."""

    def __init__(self, feed_url: str, etag: str, wait: int, client: requests.Session | None = None):
        super().__init__(daemon=True)
        self.feed_url, self.etag, self.wait = feed_url, etag, wait
        self.client = client or http()  # a consumer's credential by default
        self.answer: requests.Response | None = None
        self.error: Exception | None = None
        self.answered_at: float | None = None

    def run(self):
        try:
            self.answer = self.client.get(self.feed_url, timeout=self.wait + 30,
                                     headers={"If-None-Match": self.etag, "Prefer": f"wait={self.wait}"})
        except requests.RequestException as error:
            self.error = error
        self.answered_at = time.monotonic()

    def finish(self, timeout: float) -> None:
        self.join(timeout)
        assert not self.is_alive(), f"no answer within {timeout} s"


def waiting_now(service_url: str) -> float:
    """The gauge of held requests in the service's /metrics, summed over its workers."""
    text = http().get(f"{service_url}/metrics", timeout=SOON).text
    match = re.search(r"^msatom_feed_waiting_requests (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def held(service_url: str, count: int) -> None:
    wait_until(lambda: waiting_now(service_url) == count, SOON * 2, f"{count} request(s) held by {service_url}")


def etag_of(feed_url: str) -> str:
    return http().get(feed_url, timeout=SOON).headers["ETag"]


def place(service_url: str) -> dict:
    response = http().post(f"{service_url}/", json=order_request(), timeout=SOON * 2)
    assert response.status_code == 201, response.text
    return response.json()


def test_an_order_placed_through_one_process_wakes_a_client_waiting_on_the_other(services):
    place(services.url["a"])
    waiter = Waiter(f"{services.url['b']}/feed", etag_of(f"{services.url['b']}/feed"), LONG_WAIT)
    waiter.start()
    held(services.url["b"], 1)

    placed_at = time.monotonic()
    order = place(services.url["a"])
    waiter.finish(LONG_WAIT + SOON)

    assert waiter.error is None, waiter.error
    woken_after = waiter.answered_at - placed_at
    print(f"B answered {woken_after * 1000:.1f} ms after the order was placed through A")
    assert waiter.answer.status_code == 200
    assert woken_after < SOON
    assert waiter.answer.headers["Preference-Applied"] == f"wait={LONG_WAIT}"
    newest = feedparser.parse(waiter.answer.content).entries[0]
    assert newest.content[0]["src"].endswith(f"/{order['id']}/versions/1")
    held(services.url["b"], 0)


def test_a_wait_of_25_seconds_passes_apache_and_gunicorn_uncut(services):
    feed_url = f"{services.url['apache']}/order/feed"
    etag = etag_of(feed_url)

    started = time.monotonic()
    answer = http().get(feed_url, headers={"If-None-Match": etag, "Prefer": "wait=25"}, timeout=60)
    took = time.monotonic() - started

    assert answer.status_code == 304, answer.text[:500]
    assert answer.headers["Preference-Applied"] == "wait=25"
    assert 24.5 <= took < 25 + SOON, took


def test_a_restart_while_a_client_waits_never_answers_it_200(services):
    feed_url = f"{services.url['b']}/feed"
    etag = etag_of(feed_url)
    waiter = Waiter(feed_url, etag, 20)
    waiter.start()
    held(services.url["b"], 1)

    stopping_at = time.monotonic()
    services.processes["b"].stop(signal.SIGTERM)
    waiter.finish(SOON * 3)

    # Nothing was placed: a 200 would be wrong. The stopping worker answers at once.
    outcome = waiter.error or waiter.answer.status_code
    print(f"the waiting client got {outcome!r} {waiter.answered_at - stopping_at:.2f} s after SIGTERM")
    assert waiter.error is None and waiter.answer.status_code == 304, outcome
    assert waiter.answered_at - stopping_at < SOON

    services.start("b")
    services.wait_for("b")
    waiter = Waiter(feed_url, etag, LONG_WAIT)
    waiter.start()
    held(services.url["b"], 1)
    place(services.url["a"])
    waiter.finish(LONG_WAIT + SOON)
    assert waiter.error is None and waiter.answer.status_code == 200


def test_a_client_that_goes_away_frees_its_place_under_gunicorn(services):
    etag = etag_of(f"{services.url['b']}/feed")
    with socket.create_connection(("127.0.0.1", services.ports["b"]), timeout=SOON) as client:
        client.sendall(f"GET /feed HTTP/1.1\r\nHost: 127.0.0.1\r\nIf-None-Match: {etag}\r\n"
                       f"Prefer: wait=25\r\n\r\n".encode())
        held(services.url["b"], 1)
    held(services.url["b"], 0)  # within seconds, long before its wait of 25 s ends


def test_anonymous_waiters_from_many_addresses_leave_a_consumer_its_place(services):
    """40 anonymous waiting requests through Apache, from 10 addresses, take only the
    places not kept for requests with a credential, two an address: a consumer's
    request is still held, and woken as soon as an order is placed."""
    feed_url = f"{services.url['apache']}/order/feed"
    etag = etag_of(feed_url)
    anonymous = [Waiter(feed_url, etag, 25, from_address(f"127.0.9.{1 + n % 10}")) for n in range(40)]
    for waiter in anonymous:
        waiter.start()
    # Those refused a place are answered at once; the others stay held.
    until(lambda: waiting_now(services.url["a"]) == sum(waiter.is_alive() for waiter in anonymous),
          "each anonymous waiter held or answered", every=0.1)
    anonymous_held = sum(waiter.is_alive() for waiter in anonymous)
    assert anonymous_held <= ANONYMOUS_PLACES
    consumer = Waiter(feed_url, etag, 25)
    consumer.start()
    held(services.url["a"], anonymous_held + 1)

    placed_at = time.monotonic()
    place(services.url["b"])
    consumer.finish(SOON)
    for waiter in anonymous:
        waiter.finish(SOON)

    woken_after = consumer.answered_at - placed_at
    print(f"{anonymous_held} of 40 anonymous waiters held; the consumer woken {woken_after * 1000:.0f} ms after "
          "the order was placed")
    assert consumer.error is None and consumer.answer.status_code == 200
    assert consumer.answer.headers["Preference-Applied"] == "wait=25"
    refused = [waiter.answer for waiter in anonymous if "Preference-Applied" not in waiter.answer.headers]
    assert len(refused) >= 40 - ANONYMOUS_PLACES and {answer.status_code for answer in refused} == {304}
    assert all(waiter.error is None for waiter in anonymous)


def test_a_worker_holds_all_its_threads_but_four_and_answers_the_next_at_once(services):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    single = gunicorn("order", port, services.folder, 1, DATABASE_URL=services.database)
    try:
        wait_for_health(single, url, "one worker")
        most = THREADS - RESERVED_THREADS
        etag = etag_of(f"{url}/feed")
        waiters = [Waiter(f"{url}/feed", etag, LONG_WAIT) for _ in range(most)]
        for waiter in waiters:
            waiter.start()
        held(url, most)

        started = time.monotonic()
        next_one = http().get(f"{url}/feed", headers={"If-None-Match": etag, "Prefer": "wait=10"}, timeout=SOON)
        health = http().get(f"{url}/health", timeout=SOON)

        assert (next_one.status_code, health.status_code) == (304, 200)
        assert "Preference-Applied" not in next_one.headers
        assert time.monotonic() - started < SOON
        place(url)
        for waiter in waiters:
            waiter.finish(SOON)
        assert [waiter.answer.status_code for waiter in waiters] == [200] * most
    finally:
        single.stop()
