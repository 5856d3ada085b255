"""What a feed entry links to never changes: the order as it was at the entry's
version, written with the entry. The current order changes, and says so to caches."""
from __future__ import annotations

import feedparser
import requests
from sqlalchemy import update
from werkzeug.wrappers import Request, Response

import invoicing.models
from common import parts
from invoicing.importer import import_order as import_invoice
from order.models import Customer
from tests.conftest import live_server
from tests.integration.support import cancel_order, place_order

JSON = {"Accept": "application/json"}
PERSONAL = ("Eberhard", "Wolff", "eberhard.wolff@example.com", "Ohlauer Str. 43", "Krischerstr. 100",
            "Rod", "Johnson")


def get(url: str, **headers) -> requests.Response:
    return requests.get(url, headers={**JSON, **headers}, timeout=5)


def test_each_version_of_an_order_stays_as_it_was(order_url):
    order = place_order(order_url)
    cancel_order(order_url, order["id"])

    first, second = get(f"{order_url}/{order['id']}/versions/1"), get(f"{order_url}/{order['id']}/versions/2")

    assert first.json() == order  # as placed, byte for byte what POST answered
    assert (first.json()["status"], first.json()["version"]) == ("accepted", 1)
    assert (second.json()["status"], second.json()["version"]) == ("cancelled", 2)
    assert second.json()["updated"] > first.json()["updated"]
    for answer in (first, second):
        assert answer.headers["Content-Type"] == "application/json"
        assert answer.headers["Cache-Control"] == "private, max-age=31536000, immutable"
        assert answer.headers["ETag"].startswith('"')  # strong: the bytes never change


def test_a_version_answers_304_to_its_etag_and_404_when_it_does_not_exist(order_url):
    order = place_order(order_url)
    url = f"{order_url}/{order['id']}/versions/1"
    etag = get(url).headers["ETag"]

    again = get(url, **{"If-None-Match": etag})
    missing = get(f"{order_url}/{order['id']}/versions/2")

    assert (again.status_code, again.content) == (304, b"")
    assert missing.status_code == 404
    assert missing.json()["error"] == f"Order {order['id']} has no version 2."


def test_a_later_change_of_the_catalog_changes_no_version_but_the_current_order(order_app, order_url):
    order = place_order(order_url)
    with parts.database(order_app).session() as session:
        session.execute(update(Customer).where(Customer.id == 1).values(name="Renamed"))

    assert get(f"{order_url}/{order['id']}/versions/1").json()["customer"]["name"] == "Wolff"
    assert get(f"{order_url}/{order['id']}").json()["customer"]["name"] == "Renamed"


def test_the_current_order_is_revalidated_with_its_etag_and_kept_by_no_shared_cache(order_url):
    order = place_order(order_url)
    url = f"{order_url}/{order['id']}"
    first = get(url)

    unchanged = get(url, **{"If-None-Match": first.headers["ETag"]})
    cancel_order(order_url, order["id"])
    changed = get(url, **{"If-None-Match": first.headers["ETag"]})

    assert first.headers["Cache-Control"] == "private, no-cache"
    assert "Accept" in first.headers["Vary"]
    assert unchanged.status_code == 304
    assert (changed.status_code, changed.json()["status"]) == (200, "cancelled")
    assert changed.headers["ETag"] != first.headers["ETag"]


def test_no_page_of_the_feed_names_a_person(make_app, settings_for):
    app = make_app("order", settings_for("order", feed_page_size=2))
    with live_server(app) as url:
        orders = [place_order(url, customer_id=customer) for customer in (1, 2, 1, 2, 1)]
        cancel_order(url, orders[0]["id"])
        pages = [get(url + "/feed", Accept="application/atom+xml")] + [
            get(f"{url}/feed/archive/{number}", Accept="application/atom+xml") for number in (1, 2, 3)]

    assert [page.status_code for page in pages] == [200] * 4
    assert pages[1].headers["Cache-Control"].startswith("public")
    for page in pages:
        assert not [word for word in PERSONAL if word in page.text], page.url
    summaries = [entry.summary for entry in feedparser.parse(pages[0].content).entries]
    assert summaries == [f"Order {orders[0]['id']} was cancelled.", f"Order {orders[4]['id']}: 2 items for 84.00 EUR."]


class StaleCache:
    """A cache in front of the order service that answers the documents in `stale`
    with an old copy; one that `obeys` a request's Cache-Control: no-cache asks the
    service instead, as RFC 9111 wants. It notes the Cache-Control of every request."""

    def __init__(self, inner, obeys: bool):
        self.inner, self.obeys = inner, obeys
        self.stale: dict[str, bytes] = {}
        self.asked: list[tuple[str, str | None]] = []

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.asked.append((request.path, request.headers.get("Cache-Control")))
        revalidate = "no-cache" in request.headers.get("Cache-Control", "") and self.obeys
        if request.path in self.stale and not revalidate:
            return Response(self.stale[request.path], content_type="application/json")(environ, start_response)
        return self.inner(environ, start_response)


def test_an_older_document_from_a_cache_is_asked_for_again_past_the_caches(order_app, make_consumer):
    cache = StaleCache(order_app, obeys=True)
    with live_server(cache) as base:
        consumer = make_consumer(invoicing.models, import_invoice, base + "/feed", embedded=False)
        order = place_order(base)
        assert consumer.poll().imported == 1
        version_one = get(f"{base}/{order['id']}/versions/1").content
        cancel_order(base, order["id"])
        cache.stale[f"/{order['id']}/versions/2"] = version_one

        result = consumer.poll()

    assert (result.status, result.imported) == (200, 1)
    assert (f"/{order['id']}/versions/2", "no-cache") in cache.asked
    with consumer.db.session() as session:
        assert session.get(invoicing.models.Invoice, order["id"]).status == "cancelled"


def test_a_cache_that_keeps_an_older_document_stops_the_poll_before_that_entry(order_app, make_consumer):
    cache = StaleCache(order_app, obeys=False)
    with live_server(cache) as base:
        consumer = make_consumer(invoicing.models, import_invoice, base + "/feed", embedded=False)
        order = place_order(base)
        assert consumer.poll().imported == 1
        cache.stale[f"/{order['id']}/versions/2"] = get(f"{base}/{order['id']}/versions/1").content
        cancel_order(base, order["id"])

        stuck = [consumer.poll(), consumer.poll()]
        position = consumer.poll_state().position
        cache.stale.clear()
        mended = consumer.poll()

    assert [result.status for result in stuck] == ["error", "error"]
    assert "older than the entry's version 2" in stuck[0].message and "cache" in stuck[0].message
    assert position == 1  # never past the entry whose document it could not have
    assert (mended.status, mended.imported) == (200, 1)
    assert consumer.poll_state().position == 2
    with consumer.db.session() as session:
        assert session.get(invoicing.models.Invoice, order["id"]).status == "cancelled"
