"""A document that will never do (gone, not JSON, not mappable) does not stop the
consumer: the entry is kept as rejected, with the reason, shown, and can be retried."""
from __future__ import annotations

import json

import pytest
import requests

from common import parts
from tests.conftest import live_server
from tests.integration.support import BROWSER_ACCEPT, handmade_feed, place_order


@pytest.fixture
def shop(order_app, consumer_app):
    """A live order app, a hand-made feed on its origin, and an invoicing app following it."""
    documents: dict[str, bytes] = {}

    def app(environ, start_response):
        path = environ["PATH_INFO"]
        if path in documents:
            status, body, content_type = documents[path]
            start_response(status, [("Content-Type", content_type)])
            return [body]
        return order_app(environ, start_response)

    with live_server(app) as base:
        invoicing = consumer_app("invoicing", f"{base}/handmade-feed")
        yield base, documents, invoicing


def feed_of(base: str, *sources: str) -> tuple[str, bytes, str]:
    entries = [(f"urn:test:{position}", f"{base}{src}", position)
               for position, src in reversed(list(enumerate(sources, start=1)))]
    return "200 OK", handmade_feed(entries), "application/atom+xml"


@pytest.mark.parametrize("answer, reason", [
    (("404 Not Found", b"gone", "text/plain"), "HTTP 404"),
    (("200 OK", b"<html>not json</html>", "text/html"), "did not answer with JSON"),
    (("200 OK", b'{"id": 2}', "application/json"), "has no"),
    (("200 OK", b"[" * 100_000 + b"]" * 100_000, "application/json"), "JSON nested more than 32 levels deep"),
])
def test_an_unusable_document_is_rejected_and_the_entries_behind_it_are_imported(shop, answer, reason):
    base, documents, invoicing = shop
    first, last = place_order(base), place_order(base)
    documents["/broken"] = answer
    documents["/handmade-feed"] = feed_of(base, f"/{first['id']}", "/broken", f"/{last['id']}")

    result = parts.consumer(invoicing).poll()
    client = invoicing.test_client()
    page = client.get("/", headers={"Accept": BROWSER_ACCEPT}).get_data(as_text=True)

    assert (result.status, result.imported, result.rejected) == (200, 2, 1)
    assert client.get(f"/{last['id']}", headers={"Accept": "application/json"}).status_code == 200
    [rejected] = parts.consumer(invoicing).rejected()
    assert rejected.position == 2 and reason in rejected.reason
    assert "Rejected entries" in page and reason in page and "Retry" in page


def test_a_document_with_text_no_service_takes_is_rejected_and_the_entries_behind_it_are_imported(shop):
    base, documents, invoicing = shop
    first, last = place_order(base), place_order(base)
    # A lone surrogate, which no database stores; written as JSON writes it.
    broken = {**last, "customer": {**last["customer"], "name": "Wolff\ud800"}}
    documents["/broken"] = ("200 OK", json.dumps(broken).encode(), "application/json")
    documents["/handmade-feed"] = feed_of(base, f"/{first['id']}", "/broken", f"/{last['id']}")

    result = parts.consumer(invoicing).poll()

    assert (result.status, result.imported, result.rejected) == (200, 2, 1)
    [rejected] = parts.consumer(invoicing).rejected()
    assert rejected.position == 2 and "customer.name contains an invalid character" in rejected.reason


def test_a_rejected_entry_retried_once_its_document_is_mended_is_imported(shop):
    base, documents, invoicing = shop
    order = place_order(base)
    documents["/handmade-feed"] = feed_of(base, "/mended")
    documents["/mended"] = ("404 Not Found", b"gone", "text/plain")
    consumer = parts.consumer(invoicing)
    consumer.poll()
    client = invoicing.test_client()

    still = client.post("/rejected/1/retry", headers={"Accept": "application/json"}).get_json()
    document = requests.get(f"{base}/{order['id']}", timeout=5).content  # the order, as it really is
    documents["/mended"] = ("200 OK", document, "application/json")
    mended = client.post("/rejected/1/retry", headers={"Accept": "application/json"}).get_json()

    assert still["imported"] is False and "404" in still["message"]
    assert mended == {"imported": True, "message": "Imported."}
    assert consumer.rejected() == []
    invoice = client.get(f"/{order['id']}", headers={"Accept": "application/json"}).get_json()
    assert invoice["totalAmount"] == order["totalPrice"]


def test_a_detail_that_fails_for_now_ends_the_poll_and_is_not_rejected(shop):
    base, documents, invoicing = shop
    order = place_order(base)
    documents["/handmade-feed"] = feed_of(base, "/flaky", f"/{order['id']}")
    documents["/flaky"] = ("503 Service Unavailable", b"busy", "text/plain")

    result = parts.consumer(invoicing).poll()

    assert (result.status, result.imported, result.pending) == ("error", 0, 2)
    assert parts.consumer(invoicing).rejected() == []
