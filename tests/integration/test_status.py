"""GET /status of every service: the order feed's newest position and the pace of
orders; each consumer's position, how far behind it knows itself to be, what it does
now and the pace of its imports. The services and the consumers share one clock the
test moves."""
from __future__ import annotations

import threading

import pytest

from common.utc import iso_utc
from common import parts
from msatom.stack import free_port, wait_until
from tests.conftest import live_server
from tests.integration.support import Origin, cancel_order, place_order

BROWSER = {"Accept": "text/html"}


def status(app) -> dict:
    """/status as a browser asks for it: JSON all the same, kept by no cache."""
    response = app.test_client().get("/status", headers=BROWSER)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()


@pytest.fixture
def shop(make_app, settings_for, clock):
    """make(consumer, feed_url, **settings) -> that consumer, polling only when asked,
    on the order service's clock; and the order service itself."""

    def consumer(service: str, feed_url: str, **settings):
        return make_app(service, settings_for(service, feed_url=feed_url, clock=clock, **settings))

    return consumer, make_app("order", settings_for("order", clock=clock))


def test_the_order_service_tells_its_newest_position_and_the_orders_placed_a_minute(shop, clock):
    _, order = shop
    assert status(order) == {"service": "order", "position": 0, "updated": None, "ordersPerMinute": 0.0}
    with live_server(order) as url:
        place_order(url)
        place_order(url)
        clock.advance(minutes=5, seconds=1)  # out of the window of 5 minutes
        first = place_order(url)["id"]
        clock.advance(seconds=30)
        place_order(url)
        place_order(url)
        assert cancel_order(url, first).status_code == 200  # an entry, but no order placed

    assert status(order) == {"service": "order", "position": 6, "updated": iso_utc(clock.now),
                             "ordersPerMinute": 0.6}


@pytest.mark.parametrize("service", ["invoicing", "shipping"])
def test_a_consumer_caught_up_tells_its_position_and_the_imports_a_minute(shop, clock, service):
    consumer, order = shop
    with live_server(order) as url:
        app = consumer(service, url + "/feed")
        for _ in range(3):
            place_order(url)
        clock.advance(seconds=10)
        assert parts.consumer(app).poll().imported == 3

    assert status(app) == {"service": service, "position": 3, "entriesBehind": 0, "secondsBehind": 0,
                           "state": "waiting", "reason": None, "retryInSeconds": None,
                           "polledAt": iso_utc(clock.now), "importsPerMinute": 0.6}


def test_a_consumer_behind_counts_the_seconds_while_the_order_service_is_stopped(shop, clock):
    consumer, order = shop
    front, port = Origin(order), free_port()
    with live_server(front, port) as url:
        app = consumer("invoicing", url + "/feed", embedded_documents=False)
        place_order(url)  # the oldest entry not applied: 10 s old at the poll
        clock.advance(seconds=4)
        place_order(url)
        front.detail_failure = "500"  # the documents cannot be had: the poll ends before them
        clock.advance(seconds=6)
        assert parts.consumer(app).poll().pending == 2

        behind = status(app)
        assert (behind["position"], behind["entriesBehind"], behind["secondsBehind"]) == (0, 2, 10)
        assert behind["state"] == "failing"  # not backing off: it polls only when asked
        assert "HTTP 500" in behind["reason"]
        clock.advance(seconds=5)
        assert status(app)["secondsBehind"] == 15  # as old as the answer, not as the poll

    clock.advance(seconds=15)
    assert parts.consumer(app).poll().status == "error"  # the order service does not answer
    stopped = status(app)
    assert (stopped["entriesBehind"], stopped["secondsBehind"]) == (2, 30)
    assert "cannot be reached" in stopped["reason"]

    front.detail_failure = None
    with live_server(front, port):
        assert parts.consumer(app).poll().imported == 2
    caught_up = status(app)
    assert (caught_up["position"], caught_up["entriesBehind"], caught_up["secondsBehind"]) == (2, 0, 0)
    assert (caught_up["state"], caught_up["reason"]) == ("waiting", None)


def test_a_consumer_that_follows_the_feed_backs_off_after_a_failure_and_says_when_it_tries_again(make_consumer):
    from invoicing import models
    from invoicing.importer import import_order

    dead = make_consumer(models, import_order, f"http://127.0.0.1:{free_port()}/feed")
    assert dead.poll().status == "error"

    following, asked_only = dead.standing(follows=True), dead.standing(follows=False)
    assert following.state == "backing off"
    assert 0 < following.retry_in_seconds <= 2
    assert "cannot be reached" in following.reason
    assert (asked_only.state, asked_only.retry_in_seconds) == ("failing", None)


def test_a_consumer_says_polling_while_a_poll_runs(shop):
    consumer, order = shop
    front = Origin(order)
    with live_server(front) as url:
        app = consumer("shipping", url + "/feed", embedded_documents=False)
        place_order(url)
        front.detail_failure = "hang"  # the document is held until released
        poll = threading.Thread(target=parts.consumer(app).poll)
        poll.start()
        try:
            wait_until(lambda: front.detail_requests > 0, 10, "the poll asking for the document")
            assert status(app)["state"] == "polling"
        finally:
            front.release.set()
            poll.join(10)
    assert status(app)["state"] == "failing"
