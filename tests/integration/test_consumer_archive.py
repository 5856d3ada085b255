"""Invoicing and shipping following the archived order feed: walking back through
its pages, fetching only what is new, applying cancellations, refusing gaps."""
from __future__ import annotations

import re
import threading
import uuid

import lxml.html
import pytest
from sqlalchemy import select

import invoicing.models
from common import parts
from invoicing.importer import import_order as import_invoice
from shipping.importer import import_order as import_shipment
from tests.support.importing import watched
from tests.conftest import live_server
from tests.integration.support import Origin, cancel_order, handmade_feed, place_order
from tests.support.waiting import PATIENCE

JSON = {"Accept": "application/json"}
TAG = "tag:microservice-atom,2026:order"


@pytest.fixture
def paged(make_app, settings_for):
    """(Origin, base URL): the order service with pages of 3 entries, behind a front
    that notes every request."""
    front = Origin(make_app("order", settings_for("order", feed_page_size=3)))
    with live_server(front) as url:
        yield front, url


def feed_requests(front: Origin) -> list[str]:
    return [path for path in front.paths if path.startswith("/feed")]


def order_requests(front: Origin) -> list[str]:
    return [path for path in front.paths if re.fullmatch(r"/\d+/versions/\d+", path)]


def invoice_ids(consumer) -> list[int]:
    with consumer.db.session() as session:
        return list(session.scalars(select(invoicing.models.Invoice.id).order_by(invoicing.models.Invoice.id)))


def copy_of(app, order_id: int) -> dict:
    response = app.test_client().get(f"/{order_id}", headers=JSON)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --- walking the archive ------------------------------------------------------------------

@pytest.mark.parametrize("embedded", [False, True], ids=["links", "embedded"])
def test_a_new_consumer_jumps_to_the_first_page_and_imports_walking_forward(paged, make_consumer, embedded):
    front, base = paged
    orders = [place_order(base) for _ in range(10)]
    front.paths.clear()
    applied: list[int] = []
    recording = watched(import_invoice, mapping=lambda document: applied.append(document["id"]))
    consumer = make_consumer(invoicing.models, recording, base + "/feed", embedded=embedded)

    result = consumer.poll()

    assert (result.status, result.imported) == (200, 10), result.message
    assert applied == [order["id"] for order in orders]
    assert consumer.poll_state().position == 10
    assert invoice_ids(consumer) == sorted(order["id"] for order in orders)
    subscription = ["/feed", "/feed"] if embedded else ["/feed"]  # the thin one names the embedded one
    assert feed_requests(front) == subscription + [
        "/feed/after/0", "/feed/archive/1", "/feed/archive/2", "/feed/archive/3", "/feed/archive/4"]
    assert len(order_requests(front)) == (0 if embedded else 10)


@pytest.mark.parametrize("history, position", [(12, 0), (12, 5), (60, 7), (60, 44), (200, 150)])
def test_a_consumer_reaches_its_place_in_a_fixed_number_of_requests(paged, make_consumer, history, position):
    """Whatever the history and however far behind: the subscription document, the
    jump, the page it leads to; then the first import."""
    front, base = paged
    for _ in range(position):
        place_order(base)
    consumer = make_consumer(invoicing.models, import_invoice, base + "/feed", embedded=False)
    assert consumer.poll().imported == position
    for _ in range(history - position):
        place_order(base)
    front.paths.clear()
    asked_before_import: list[list[str]] = []
    consumer.applier.import_ = watched(import_invoice,
                                       mapping=lambda document: asked_before_import.append(feed_requests(front)))
    result = consumer.poll()

    assert (result.status, result.imported) == (200, history - position)
    asked = asked_before_import[0]
    assert len(asked) <= 4
    if len(asked) == 4:  # the page after the one the jump led to, read while that one is applied
        assert asked[3] in (f"/feed/archive/{int(asked[2].rsplit('/', 1)[1]) + 1}", "/feed")


@pytest.mark.parametrize("failure", ["404", "timeout", "malformed"])
def test_a_page_read_ahead_that_fails_ends_the_poll_after_the_batches_before_it(make_app, settings_for,
                                                                              make_consumer, failure):
    """Page 3 is read while page 2 is applied; when it fails, pages 1 and 2 are in and
    the next poll goes on from there."""
    order_app = make_app("order", settings_for("order", feed_page_size=3))
    failing, release = {"/feed/archive/3"}, threading.Event()

    def front(environ, start_response):
        if environ["PATH_INFO"] not in failing:
            return order_app(environ, start_response)
        if failure == "timeout":
            release.wait(PATIENCE)
        if failure == "malformed":
            start_response("200 OK", [("Content-Type", "application/atom+xml")])
            return [b"<feed xmlns='http://www.w3.org/2005/Atom'><entry><id>"]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not here"]

    with live_server(front) as base:
        orders = [place_order(base) for _ in range(10)]
        # Documents inline: the pages are the only requests, and only page 3 waits past the timeout.
        consumer = make_consumer(invoicing.models, import_invoice, base + "/feed", timeout=(3.05, 3.0))
        try:
            failed = consumer.poll()
        finally:
            release.set()
        after_failure = consumer.poll_state().position, invoice_ids(consumer)
        failing.clear()
        mended = consumer.poll()

    assert (failed.status, failed.imported) == ("error", 6), failed.message
    assert after_failure == (6, sorted(order["id"] for order in orders[:6]))
    assert (mended.status, mended.imported) == (200, 4), mended.message
    assert invoice_ids(consumer) == sorted(order["id"] for order in orders)


def test_later_polls_fetch_only_what_is_new(paged, consumer_app):
    front, base = paged
    for _ in range(10):
        place_order(base)
    app = consumer_app("invoicing", base + "/feed", embedded_documents=False)
    assert parts.consumer(app).poll().imported == 10

    newer = [place_order(base), place_order(base)]  # 11 and 12 fill page 4
    front.paths.clear()
    grown = parts.consumer(app).poll()
    after_growth = list(front.paths)
    front.paths.clear()
    idle = parts.consumer(app).poll()
    after_idle = list(front.paths)
    newest = place_order(base)  # 13, alone on the page now filling
    front.paths.clear()
    last = parts.consumer(app).poll()

    assert (grown.status, grown.imported) == (200, 2)
    assert [path for path in after_growth if path.startswith("/feed")] == ["/feed"]  # page 4 is /feed
    # Only the new orders' documents, fetched in whatever order.
    assert sorted(path for path in after_growth if not path.startswith("/feed")) == sorted(
        f"/{order['id']}/versions/1" for order in newer)
    assert (idle.status, after_idle) == (304, ["/feed"])
    assert (last.status, last.imported) == (200, 1)
    assert feed_requests(front) == ["/feed"]
    assert order_requests(front) == [f"/{newest['id']}/versions/1"]


# --- cancellations --------------------------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def consumers(request, make_app, settings_for):
    """make(service, feed_url): invoicing or shipping, each on its own database of
    the engine in the parameter."""

    def make(service: str, feed_url: str):
        changes = {"feed_url": feed_url}
        if request.param == "postgresql":
            postgres = request.getfixturevalue("postgres")
            changes["database_url"] = postgres.create_database(f"test_{service}_{uuid.uuid4().hex[:8]}")
        return make_app(service, settings_for(service, **changes))

    return make


def test_a_cancellation_travels_to_invoicing_and_shipping(order_url, consumers):
    kept, cancelled = place_order(order_url), place_order(order_url, customer_id=2)
    apps = [consumers("invoicing", order_url + "/feed"), consumers("shipping", order_url + "/feed")]
    for app in apps:
        assert parts.consumer(app).poll().imported == 2

    assert cancel_order(order_url, cancelled["id"]).status_code == 200
    results = [parts.consumer(app).poll() for app in apps]

    assert [(result.status, result.imported) for result in results] == [(200, 1), (200, 1)]
    for app in apps:
        copy = copy_of(app, cancelled["id"])
        assert (copy["status"], copy["orderVersion"]) == ("cancelled", 2)
        assert (copy_of(app, kept["id"])["status"], copy_of(app, kept["id"])["orderVersion"]) == ("accepted", 1)
        page = app.test_client().get(f"/{cancelled['id']}", headers={"Accept": "text/html"})
        assert lxml.html.fromstring(page.get_data(as_text=True)).findtext(".//h1/span").strip() == "cancelled"
        assert parts.consumer(app).poll_state().position == 3


def test_an_order_cancelled_before_the_first_poll_arrives_cancelled_once(order_url, consumer_app):
    order = place_order(order_url)
    cancel_order(order_url, order["id"])
    app = consumer_app("shipping", order_url + "/feed")

    result = parts.consumer(app).poll()

    assert (result.status, result.imported) == (200, 2)  # placed, then cancelled: both took effect
    assert [shipment["id"] for shipment in app.test_client().get("/", headers=JSON).get_json()] == [order["id"]]
    assert (copy_of(app, order["id"])["status"], copy_of(app, order["id"])["orderVersion"]) == ("cancelled", 2)


@pytest.mark.parametrize("service, import_order", [("invoicing", import_invoice), ("shipping", import_shipment)])
def test_a_stale_or_repeated_version_changes_nothing(order_url, consumer_app, clock, service, import_order):
    placed = place_order(order_url)
    cancelled = cancel_order(order_url, placed["id"]).json()
    app = consumer_app(service, order_url + "/feed")
    parts.consumer(app).poll()
    stored = copy_of(app, placed["id"])

    with parts.consumer(app).db.session() as session:
        stale = import_order(session, placed, clock())  # version 1, replayed after version 2
        repeated = import_order(session, cancelled, clock())

    assert (stale, repeated) == (False, False)
    assert copy_of(app, placed["id"]) == stored
    assert (stored["status"], stored["orderVersion"]) == ("cancelled", 2)


# --- feeds that cannot be followed ------------------------------------------------------------

def entries(base: str, orders: list[dict], positions: list[int]) -> list[tuple[str, str, int]]:
    """Hand-made entries for `orders` at `positions`, newest first as a feed lists them."""
    made = [(f"{TAG}/{order['id']}/version/1", f"{base}/{order['id']}", position)
            for order, position in zip(orders, positions, strict=True)]
    return list(reversed(made))


def test_a_gap_in_positions_is_refused_and_nothing_after_it_is_imported(origin, make_consumer):
    front, base = origin
    orders = [place_order(base) for _ in range(4)]
    front.feed = handmade_feed(entries(base, orders[:2] + orders[3:], [1, 2, 4]))
    consumer = make_consumer(invoicing.models, import_invoice, base + "/handmade-feed")

    refused = consumer.poll()

    assert refused.status == "error"
    assert re.search(r"\b2\b.*\b4\b", refused.message), refused.message
    assert orders[3]["id"] not in invoice_ids(consumer)
    assert consumer.poll_state().position <= 2

    front.feed = handmade_feed(entries(base, orders, [1, 2, 3, 4]))  # the publisher repairs its feed
    repaired = consumer.poll()

    assert (repaired.status, refused.imported + repaired.imported) == (200, 4)
    assert invoice_ids(consumer) == [order["id"] for order in orders]
    assert consumer.poll_state().position == 4


def test_a_feed_that_does_not_reach_back_to_the_next_position_is_refused(origin, make_consumer):
    front, base = origin
    orders = [place_order(base) for _ in range(2)]
    front.feed = handmade_feed(entries(base, orders, [3, 4]))  # no prev-archive to positions 1 and 2

    refused = make_consumer(invoicing.models, import_invoice, base + "/handmade-feed").poll()

    assert refused.status == "error"
    assert re.search(r"\b0\b.*\b3\b", refused.message), refused.message
    assert refused.imported == 0


def test_a_prev_archive_link_to_another_origin_is_not_followed(origin, make_consumer):
    front, base = origin
    orders = [place_order(base) for _ in range(2)]
    asked = []

    def elsewhere(environ, start_response):
        asked.append(environ["PATH_INFO"])
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"no"]

    with live_server(elsewhere) as foreign:
        front.feed = handmade_feed(entries(base, orders, [3, 4]), prev_archive=foreign + "/feed/archive/1")
        consumer = make_consumer(invoicing.models, import_invoice, base + "/handmade-feed")

        refused = consumer.poll()

    assert refused.status == "error"
    assert "origin" in refused.message and foreign in refused.message
    assert asked == []
    assert invoice_ids(consumer) == []


@pytest.mark.parametrize("service", ["invoicing", "shipping"])
def test_catching_up_by_links_and_embedded_gives_the_same_copies(paged, consumer_app, service, tmp_path):
    front, base = paged
    orders = [place_order(base, customer_id=1 + n % 2, lines=((1 + n % 4, 1 + n % 3),)) for n in range(11)]
    for order in orders[::4]:
        cancel_order(base, order["id"])
    by_links = consumer_app(service, base + "/feed", embedded_documents=False,
                            database_url=f"sqlite:///{tmp_path / 'by-links.db'}")
    embedded = consumer_app(service, base + "/feed", database_url=f"sqlite:///{tmp_path / 'embedded.db'}")

    results = [parts.consumer(app).poll() for app in (by_links, embedded)]

    def copies(app) -> list[dict]:
        listed = app.test_client().get("/", headers=JSON).get_json()
        return [{key: value for key, value in copy.items() if key != "importedAt"} for copy in listed]

    assert [(result.status, result.imported) for result in results] == [(200, 14), (200, 14)]
    assert copies(by_links) == copies(embedded)
    assert {copy["id"] for copy in copies(embedded)} == {order["id"] for order in orders}
