"""Long-poll on the order feed (RFC 7240 `Prefer: wait`), over real HTTP, on SQLite and
PostgreSQL: a client whose copy is current is answered when the next entry commits, or
with 304 when its wait is over; a client that is behind, or past the bound of waiting
requests, at once."""
from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import feedparser
import pytest
import requests

import invoicing.models
from common.db import Database
from common.feed import outbox, waiting
from common.feed.client import FeedClient
from common.feed.running import Following
from common.schema import upgrade
from common.settings import Settings
from common.utc import utc_now
from common import parts
from msatom.bootstrap import consumer_for
from msatom.stack import PostgresCluster, wait_until
from order import service
from tests.support.addresses import from_address
from tests.conftest import live_server, running
from tests.support.orders import order_request
from invoicing.importer import import_order as import_invoice
from tests.integration.support import place_order

# How long a test waits for something that happens at once when all is well: long
# enough for a loaded machine, and never a measure of speed.
SOON = 5.0
# What a held request asks for when it should end by news: twice SOON, so an answer
# within SOON cannot be the end of the wait.
LONG_WAIT = 10


@pytest.fixture
def order_service(make_app, settings_for):
    """Start the order service on a database; (app, base URL)."""
    with ExitStack() as servers:

        def start(database_url: str, max_waiting: int = 4):
            app = make_app("order", settings_for("order", database_url=database_url, feed_max_waiting=max_waiting))
            listener = parts.long_poll(app).listener
            if listener is not None:  # PostgreSQL: news arrives once the listener listens
                assert listener.listening.wait(SOON), "the listener did not connect"
            return app, servers.enter_context(live_server(app))

        yield start


@pytest.fixture
def feed_service(order_service, database_url):
    """Start the order service on the test's database (SQLite, PostgreSQL); (app, base URL)."""
    return lambda max_waiting=4: order_service(database_url, max_waiting)


def get_feed(url: str, etag: str | None = None, wait: int | None = None, timeout: float = 40,
             client: str = "127.0.0.1") -> requests.Response:
    """The feed, asked from the address `client`: a few requests at most wait per address."""
    headers = {}
    if etag is not None:
        headers["If-None-Match"] = etag
    if wait is not None:
        headers["Prefer"] = f"wait={wait}"
    return from_address(client).get(url + "/feed", headers=headers, timeout=timeout)


class Waiter(threading.Thread):
    """One waiting GET of the feed in a thread of its own; `answer` once it returns."""

    def __init__(self, url: str, etag: str, wait: int, client: str = "127.0.0.1"):
        super().__init__(daemon=True)
        self.url, self.etag, self.wait, self.client = url, etag, wait, client
        self.answer: requests.Response | None = None
        self.error: Exception | None = None
        self.answered_at: float | None = None

    def run(self):
        try:
            self.answer = get_feed(self.url, self.etag, self.wait, client=self.client)
        except Exception as error:  # noqa: BLE001 - the test looks at it
            self.error = error
        self.answered_at = time.monotonic()

    def result(self, timeout: float) -> requests.Response:
        self.join(timeout)
        assert not self.is_alive(), f"no answer within {timeout} s"
        assert self.error is None, self.error
        return self.answer


def held(app, count: int) -> None:
    wait_until(lambda: parts.long_poll(app).held == count, SOON, f"{count} request(s) held")


def current_etag(url: str) -> str:
    return get_feed(url).headers["ETag"]


def test_a_waiting_client_gets_the_new_entry_as_soon_as_an_order_commits(feed_service):
    app, url = feed_service()
    place_order(url)
    etag = current_etag(url)
    waiter = Waiter(url, etag, LONG_WAIT)
    waiter.start()
    held(app, 1)

    placed_at = time.monotonic()
    order = place_order(url)
    answer = waiter.result(LONG_WAIT + SOON)

    woken_after = waiter.answered_at - placed_at
    print(f"woken {woken_after * 1000:.1f} ms after the order was placed")
    assert answer.status_code == 200
    assert woken_after < SOON, f"answered {woken_after:.1f} s after the order, not when it committed"
    assert answer.headers["Preference-Applied"] == f"wait={LONG_WAIT}"
    assert answer.headers["ETag"] != etag
    newest = feedparser.parse(answer.content).entries[0]
    assert newest.content[0]["src"] == f"{url}/{order['id']}/versions/1"
    assert parts.long_poll(app).held == 0


def test_a_waiting_client_that_takes_deltas_is_woken_with_the_new_entry_alone(feed_service):
    app, url = feed_service()
    place_order(url)
    etag = current_etag(url)
    with ThreadPoolExecutor(1) as waiting:
        answer = waiting.submit(requests.get, url + "/feed", timeout=LONG_WAIT + SOON,
                                headers={"If-None-Match": etag, "Prefer": f"wait={LONG_WAIT}", "A-IM": "feed"})
        held(app, 1)
        order = place_order(url)
        delta = answer.result(LONG_WAIT + SOON)

    assert delta.status_code == 226 and delta.headers["Preference-Applied"] == f"wait={LONG_WAIT}"
    assert [entry.content[0]["src"] for entry in feedparser.parse(delta.content).entries] == [
        f"{url}/{order['id']}/versions/1"]


def test_without_news_the_wait_ends_with_304_and_says_it_waited(feed_service):
    app, url = feed_service()
    place_order(url)
    etag = current_etag(url)

    started = time.monotonic()
    answer = get_feed(url, etag, wait=1)
    took = time.monotonic() - started

    assert answer.status_code == 304
    assert answer.headers["Preference-Applied"] == "wait=1"
    assert answer.headers["ETag"] == etag
    assert "Prefer" in answer.headers["Vary"]
    assert 0.9 <= took < SOON, took


def test_an_empty_feed_is_waited_on_too(feed_service):
    app, url = feed_service()
    etag = current_etag(url)
    waiter = Waiter(url, etag, LONG_WAIT)
    waiter.start()
    held(app, 1)

    place_order(url)

    assert waiter.result(SOON).status_code == 200


def test_a_client_that_is_behind_gets_the_feed_at_once(feed_service):
    app, url = feed_service()
    place_order(url)
    stale = current_etag(url)
    place_order(url)

    started = time.monotonic()
    answer = get_feed(url, stale, wait=LONG_WAIT)

    assert answer.status_code == 200
    assert time.monotonic() - started < SOON
    assert "Preference-Applied" not in answer.headers
    assert len(feedparser.parse(answer.content).entries) == 2


def test_without_prefer_the_feed_answers_at_once_as_before(feed_service):
    app, url = feed_service()
    place_order(url)
    etag = current_etag(url)

    started = time.monotonic()
    unchanged, fresh = get_feed(url, etag), get_feed(url)

    assert time.monotonic() - started < SOON
    assert (unchanged.status_code, fresh.status_code) == (304, 200)
    assert "Preference-Applied" not in unchanged.headers and "Preference-Applied" not in fresh.headers


@pytest.mark.parametrize("prefer", ["wait=0", "wait=soon", "respond-async", "wait=-3"])
def test_no_wait_worth_the_name_is_answered_at_once(feed_service, prefer):
    app, url = feed_service()
    etag = current_etag(url)

    started = time.monotonic()
    answer = requests.get(url + "/feed", headers={"If-None-Match": etag, "Prefer": prefer}, timeout=SOON)

    assert answer.status_code == 304
    assert time.monotonic() - started < SOON
    assert "Preference-Applied" not in answer.headers


def test_a_long_wait_is_capped_at_30_seconds(feed_service):
    app, url = feed_service()
    waiter = Waiter(url, current_etag(url), 3600)
    waiter.start()
    held(app, 1)

    place_order(url)

    answer = waiter.result(SOON)
    assert answer.status_code == 200
    assert answer.headers["Preference-Applied"] == f"wait={waiting.MAX_WAIT_SECONDS}" == "wait=30"


def test_past_the_bound_a_request_is_answered_at_once_and_health_answers_meanwhile(feed_service):
    """Of 4 places, the 2 not kept for requests with a credential, each from an address of its own."""
    app, url = feed_service(max_waiting=4)
    etag = current_etag(url)
    waiters = [Waiter(url, etag, LONG_WAIT, client=f"127.0.0.{31 + n}") for n in range(2)]
    for waiter in waiters:
        waiter.start()
    held(app, 2)

    started = time.monotonic()
    third = get_feed(url, etag, wait=LONG_WAIT, client="127.0.0.33")
    health = requests.get(url + "/health", timeout=SOON)
    metrics = requests.get(url + "/metrics", timeout=SOON).text
    took = time.monotonic() - started

    assert third.status_code == 304
    assert "Preference-Applied" not in third.headers
    assert health.status_code == 200
    assert took < SOON
    assert "msatom_feed_waiting_requests 2.0" in metrics
    place_order(url)  # ends the two waits
    assert [waiter.result(SOON).status_code for waiter in waiters] == [200, 200]
    assert "msatom_feed_waiting_requests 0.0" in requests.get(url + "/metrics", timeout=SOON).text


def test_a_client_that_goes_away_frees_its_place(feed_service):
    app, url = feed_service(max_waiting=1)
    etag = current_etag(url)
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=SOON) as client:
        client.sendall(f"GET /feed HTTP/1.1\r\nHost: {host}\r\nIf-None-Match: {etag}\r\n"
                       f"Prefer: wait={LONG_WAIT}\r\n\r\n".encode())
        held(app, 1)
    held(app, 0)  # within SOON, long before its wait of LONG_WAIT ends


def test_stopping_answers_the_held_requests_at_once(feed_service):
    app, url = feed_service()
    waiter = Waiter(url, current_etag(url), LONG_WAIT)
    waiter.start()
    held(app, 1)

    parts.long_poll(app).stop()

    answer = waiter.result(SOON)
    assert answer.status_code == 304
    assert answer.headers["Preference-Applied"] == f"wait={LONG_WAIT}"
    assert "Preference-Applied" not in get_feed(url, answer.headers["ETag"], wait=LONG_WAIT).headers


def test_the_listener_listens_again_after_postgresql_restarts(order_service):
    """PostgreSQL only: a cluster of the test's own, restarted under the listener; an
    order committed afterwards by another process (another engine) still wakes a
    waiting client."""
    with running(PostgresCluster) as cluster:
        database_url = cluster.create_database("restarted")
        app, url = order_service(database_url)
        listener = parts.long_poll(app).listener
        writer = Database(database_url)  # another process, as far as this one can tell
        outbox.install(writer)
        try:
            cluster.pause()
            wait_until(lambda: not listener.listening.is_set(), SOON, "the listener noticing the restart")
            cluster.resume()
            wait_until(lambda: listener.listening.is_set() and listener.connections >= 2, 30,
                       "the listener listening again")

            etag = current_etag(url)
            waiter = Waiter(url, etag, LONG_WAIT)
            waiter.start()
            held(app, 1)
            placed_at = time.monotonic()
            with writer.session() as session:
                service.place_order(session, order_request(), utc_now)

            answer = waiter.result(LONG_WAIT + SOON)
            assert answer.status_code == 200
            assert waiter.answered_at - placed_at < SOON
        finally:
            writer.dispose()
            parts.long_poll(app).close()  # before the cluster goes


def test_waiting_requests_do_not_hold_database_connections(feed_service):
    """Twenty clients wait; the pool (5 + 10 overflow on PostgreSQL) still serves orders."""
    app, url = feed_service(max_waiting=40)  # 20 places for requests without a credential
    etag = current_etag(url)
    with ThreadPoolExecutor(20) as pool:
        answers = [pool.submit(get_feed, url, etag, LONG_WAIT, client=f"127.0.0.{60 + n}") for n in range(20)]
        held(app, 20)
        place_order(url)
        assert {answer.result(SOON).status_code for answer in answers} == {200}


def test_a_woken_consumer_applies_what_the_wait_brought_without_asking_again(feed_service, make_consumer):
    app, base = feed_service()
    asked: list[str] = []
    consumer = make_consumer(invoicing.models, import_invoice, f"{base}/feed")
    get_feed_of_client = consumer.client.get_feed

    def noted(etag, last_modified, url=None, wait=0):
        asked.append(f"{url} wait={wait}")
        return get_feed_of_client(etag, last_modified, url, wait)

    consumer.client.get_feed = noted
    consumer.poll()  # the feed is empty: nothing to take, validators saved
    woken: list[bool] = []
    waiting = threading.Thread(target=lambda: woken.append(consumer.wait_for_news(25)))
    waiting.start()
    held(app, 1)
    order = place_order(base)
    waiting.join(SOON)
    asked_before_poll = list(asked)

    result = consumer.poll()

    assert woken == [True]
    assert (result.status, result.imported) == (200, 1)
    assert asked == asked_before_poll  # the poll asked nothing more
    with consumer.db.session() as session:
        assert session.get(invoicing.models.Invoice, order["id"]) is not None


def test_of_two_processes_of_a_service_one_waits_on_the_feed_and_the_other_takes_over_when_it_stops(
        order_service, postgres_url, tmp_path):
    """Each process (here a database engine of its own) runs the service's following;
    one leads: news wakes that one alone instead of every worker, each to read the
    same page."""
    app, base = order_service(f"sqlite:///{tmp_path / 'order.db'}")
    upgrade(Database(postgres_url), invoicing.models.MIGRATIONS)
    asked: dict[str, list[str]] = {"one": [], "other": []}
    followings = {}
    for name in asked:
        consumer = consumer_for(Database(postgres_url), invoicing.models, import_invoice,
                                FeedClient(f"{base}/feed"), Settings(service="invoicing", database_url=postgres_url))
        consumer.client.get_feed = noting(asked[name], consumer.client.get_feed)
        followings[name] = Following(consumer, wait_seconds=2, interval_seconds=0.1).start()
    held(app, 1)
    first = place_order(base)
    wait_until(lambda: invoice_exists(postgres_url, first["id"]), SOON, "the first invoice")
    held(app, 1)

    leader, standby = sorted(asked, key=lambda name: -len(asked[name]))
    assert asked[standby] == [] and asked[leader]
    followings[leader].stop()  # as its process stops: its wait ends, and the lead with it
    second = place_order(base)
    wait_until(lambda: invoice_exists(postgres_url, second["id"]), SOON * 2, "the second invoice")
    assert asked[standby]
    followings[standby].stop()


def noting(asked: list[str], get_feed):
    def noted(*args, **kwargs):
        asked.append("feed")
        return get_feed(*args, **kwargs)
    return noted


def invoice_exists(url: str, order_id: int) -> bool:
    with Database(url).session() as session:
        return session.get(invoicing.models.Invoice, order_id) is not None
