"""Invoicing and shipping following a real order service over HTTP."""
from __future__ import annotations

import json
import re

import lxml.html
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

import invoicing.models
from common import parts
from common.feed import running
from invoicing.importer import import_order as import_invoice
from tests.support.importing import watched
from tests.conftest import live_server
from tests.support.waiting import until
from tests.integration.support import BROWSER_ACCEPT, Origin, handmade_feed, place_order

JSON = {"Accept": "application/json"}


def poll_over_http(app) -> dict:
    response = app.test_client().post("/poll", headers=JSON)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def detail(app, order_id: int):
    return app.test_client().get(f"/{order_id}", headers=JSON)


def listed_ids(app) -> list[int]:
    return [document["id"] for document in app.test_client().get("/", headers=JSON).get_json()]


def start_page_text(app, xpath: str) -> str:
    """The text of a part of the service's start page, as a person reads it."""
    response = app.test_client().get("/", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 200
    page = lxml.html.fromstring(response.get_data(as_text=True))
    return " ".join(page.xpath(xpath)[0].text_content().split())


def poller_panel(app) -> str:
    """The details of the poller's state, below the list."""
    return start_page_text(app, "//section[contains(@class, 'poller')]")


def status_line(app) -> str:
    """The poller's state in a line beside the page's heading."""
    return start_page_text(app, "//*[@id='poll-status']")


def invoice_count(consumer) -> int:
    with consumer.db.session() as session:
        return session.scalar(select(func.count()).select_from(invoicing.models.Invoice))


def invoices(consumer) -> list:
    with consumer.db.session() as session:
        return list(session.scalars(select(invoicing.models.Invoice)))


# --- the normal flow ---------------------------------------------------------------------

def test_orders_become_invoices_with_equal_totals(order_url, consumer_app):
    orders = [place_order(order_url, lines=((1, 2), (3, 5))), place_order(order_url, customer_id=2)]
    app = consumer_app("invoicing", order_url + "/feed")

    result = parts.consumer(app).poll()

    assert (result.status, result.imported) == (200, 2)
    assert sorted(listed_ids(app)) == sorted(order["id"] for order in orders)
    for order in orders:
        invoice = detail(app, order["id"]).get_json()
        assert invoice["id"] == order["id"]
        assert (invoice["status"], invoice["orderVersion"]) == ("accepted", 1)
        assert invoice["totalAmount"] == order["totalPrice"]
        assert invoice["billingAddress"] == order["billingAddress"]
        assert invoice["customer"]["email"] == order["customer"]["email"]
        assert [(line["count"], line["itemName"], line["price"]) for line in invoice["lines"]] == [
            (line["count"], line["item"]["name"], line["item"]["price"]) for line in order["lines"]]


def test_orders_become_shipments_to_the_shipping_address(order_url, consumer_app):
    order = place_order(order_url, lines=((2, 1), (4, 3)))
    app = consumer_app("shipping", order_url + "/feed")

    result = poll_over_http(app)

    assert (result["status"], result["imported"]) == (200, 1)
    shipment = detail(app, order["id"]).get_json()
    assert (shipment["status"], shipment["orderVersion"]) == ("accepted", 1)
    assert shipment["shippingAddress"] == order["shippingAddress"]
    assert shipment["customer"]["name"] == order["customer"]["name"]
    assert [(line["count"], line["itemName"]) for line in shipment["lines"]] == [
        (line["count"], line["item"]["name"]) for line in order["lines"]]


def test_polling_twice_imports_once(order_url, consumer_app):
    order = place_order(order_url)
    app = consumer_app("invoicing", order_url + "/feed")

    first = poll_over_http(app)
    second = poll_over_http(app)

    assert (first["status"], first["imported"]) == (200, 1)
    assert (second["status"], second["imported"]) == (304, 0)
    assert listed_ids(app) == [order["id"]]


def test_a_new_order_after_a_304_is_imported(order_url, consumer_app):
    place_order(order_url)
    app = consumer_app("invoicing", order_url + "/feed")
    poll_over_http(app)
    assert poll_over_http(app)["status"] == 304

    newer = place_order(order_url)
    result = poll_over_http(app)

    assert (result["status"], result["imported"]) == (200, 1)
    assert detail(app, newer["id"]).status_code == 200
    assert len(listed_ids(app)) == 2


def test_post_poll_from_a_browser_redirects_to_the_start_page(order_url, consumer_app):
    place_order(order_url)
    app = consumer_app("invoicing", order_url + "/feed")

    browser = app.test_client()
    browser.environ_base["HTTP_ACCEPT"] = BROWSER_ACCEPT
    [form] = lxml.html.fromstring(browser.get("/").get_data(as_text=True)).xpath("//form[.//button='Poll now']")

    response = browser.post(form.get("action"), data=dict(form.form_values()))

    assert response.status_code == 303
    assert response.headers["Location"] in ("/", "http://localhost/")
    assert len(listed_ids(app)) == 1


def test_an_unchanged_feed_after_a_restart_gets_304(order_url, consumer_app):
    first = place_order(order_url)
    before = consumer_app("invoicing", order_url + "/feed")
    assert parts.consumer(before).poll().status == 200

    restarted = consumer_app("invoicing", order_url + "/feed")  # same database file
    result = parts.consumer(restarted).poll()

    assert (result.status, result.imported) == (304, 0)
    newer = place_order(order_url)
    assert parts.consumer(restarted).poll().imported == 1
    assert sorted(listed_ids(restarted)) == [first["id"], newer["id"]]


# --- what the feed repeats, what crashes --------------------------------------------------

def test_a_repeated_order_version_imports_once(origin, consumer_app):
    front, base = origin
    order = place_order(base)
    entry = (f"tag:example.org,2026:order/{order['id']}/version/1", f"{base}/{order['id']}")
    front.feed = handmade_feed([(*entry, 2), (*entry, 1)])  # the same version at two positions
    app = consumer_app("invoicing", base + "/handmade-feed")

    first = parts.consumer(app).poll()
    again = parts.consumer(app).poll()  # this feed has no validators: 200 again

    assert (first.status, first.imported) == (200, 1)
    assert (again.status, again.imported) == (200, 0)
    assert listed_ids(app) == [order["id"]]
    assert detail(app, order["id"]).get_json()["orderVersion"] == 1


def test_an_entry_repeated_in_one_feed_is_imported_once(origin, consumer_app):
    front, base = origin
    first, second = place_order(base), place_order(base)
    entries = [(f"tag:example.org,2026:order/{order['id']}/version/1", f"{base}/{order['id']}", position)
               for position, order in ((2, second), (1, first))]
    front.feed = handmade_feed([entries[0], entries[1], entries[1]])
    app = consumer_app("invoicing", base + "/handmade-feed")

    result = parts.consumer(app).poll()

    assert (result.status, result.imported) == (200, 2), result.message
    assert sorted(listed_ids(app)) == sorted([first["id"], second["id"]])


def test_a_crash_before_commit_imports_nothing_and_the_next_poll_imports_once(order_url, make_consumer):
    order = place_order(order_url)
    calls: list[int] = []

    def crashes_once(batch):
        calls.extend(rows.head["id"] for rows in batch)
        if len(calls) == 1:
            raise RuntimeError("the process dies before the commit")

    consumer = make_consumer(invoicing.models, watched(import_invoice, stored=crashes_once), order_url + "/feed")

    failed = consumer.poll()

    assert failed.status == "error" and failed.imported == 0
    assert failed.message
    assert invoice_count(consumer) == 0
    assert consumer.poll_state().etag is None and consumer.poll_state().last_modified is None

    retried = consumer.poll()
    settled = consumer.poll()

    assert (retried.status, retried.imported) == (200, 1)
    assert (settled.status, settled.imported) == (304, 0)
    assert calls == [order["id"], order["id"]]
    assert [invoice.id for invoice in invoices(consumer)] == [order["id"]]


def test_a_detail_answering_500_is_an_error_and_imported_after_recovery(origin, consumer_app):
    front, base = origin
    order = place_order(base)
    app = consumer_app("invoicing", base + "/feed", embedded_documents=False)
    front.detail_failure = "500"

    failed = poll_over_http(app)

    assert failed["status"] == "error"
    assert failed["imported"] == 0
    assert "500" in failed["message"]
    assert detail(app, order["id"]).status_code == 404
    assert "500" in poller_panel(app)

    front.detail_failure = None
    recovered = poll_over_http(app)

    assert (recovered["status"], recovered["imported"]) == (200, 1)
    assert detail(app, order["id"]).get_json()["totalAmount"] == order["totalPrice"]


def test_a_detail_that_does_not_answer_in_time_is_an_error_and_imported_later(origin, make_consumer):
    front, base = origin
    order = place_order(base)
    consumer = make_consumer(invoicing.models, import_invoice, base + "/feed", timeout=(2.0, 0.3), embedded=False)
    front.detail_failure = "hang"

    failed = consumer.poll()

    assert failed.status == "error"
    assert "in time" in failed.message
    assert invoice_count(consumer) == 0

    front.detail_failure = None
    front.release.set()
    recovered = consumer.poll()

    assert (recovered.status, recovered.imported) == (200, 1)
    assert invoice_count(consumer) == 1
    assert consumer.poll().status == 304
    assert [invoice.id for invoice in invoices(consumer)] == [order["id"]]


def test_a_content_link_to_another_origin_is_refused(origin, consumer_app):
    front, order_base = origin  # B: the real order service, counting detail requests
    order = place_order(order_base)
    foreign = Origin(NotFound())  # A: a feed whose entry points at B
    foreign.feed = handmade_feed([("urn:test:order-1", f"{order_base}/{order['id']}", 1)])
    with live_server(foreign) as feed_base:
        app = consumer_app("invoicing", feed_base + "/handmade-feed")

        result = parts.consumer(app).poll()
        panel = poller_panel(app)

    assert result.status == "error"
    assert "origin" in result.message and f"{order_base}/{order['id']}" in result.message
    assert front.detail_requests == 0
    assert listed_ids(app) == []
    assert "origin" in panel


def test_a_redirect_to_another_origin_is_not_followed(origin, consumer_app):
    front, order_base = origin
    order = place_order(order_base)
    asked = []

    def elsewhere(environ, start_response):  # another origin, serving a valid copy of the order
        asked.append(environ["PATH_INFO"])
        return Response(json.dumps(order), content_type="application/json")(environ, start_response)

    with live_server(elsewhere) as elsewhere_base:
        front.detail_failure, front.redirect_to = "redirect", elsewhere_base
        app = consumer_app("invoicing", order_base + "/feed", embedded_documents=False)

        result = parts.consumer(app).poll()

    assert result.status == "error"
    assert "redirect" in result.message
    assert asked == []
    assert listed_ids(app) == []


# --- what a person and a program see of a consumer ------------------------------------------

def test_the_start_page_shows_the_last_outcome_of_the_poller(order_url, consumer_app):
    place_order(order_url)
    app = consumer_app("invoicing", order_url + "/feed")
    assert "Not checked yet" in poller_panel(app)
    assert status_line(app) == "Not checked yet"

    parts.consumer(app).poll()
    after_import = poller_panel(app)
    parts.consumer(app).poll()
    after_nothing_new = poller_panel(app)

    assert "New order changes read" in after_import and "never" not in after_import
    assert "Nothing new" in after_nothing_new and "New order changes read" not in after_nothing_new
    assert start_page_text(app, "//dt[.='Feed position']/following-sibling::dd[1]") == "1 of 1"
    assert status_line(app).startswith("Up to date · checked ")
    assert status_line(app).endswith(" · 1 of 1 order changes read")


def test_while_it_waits_on_the_feed_the_status_line_says_so_and_since_when(order_url, consumer_app):
    place_order(order_url)
    app = consumer_app("invoicing", order_url + "/feed", poll_interval_seconds=3600, poll_wait_seconds=5)
    until(lambda: status_line(app).startswith("Up to date"), "its first poll, by itself")

    assert re.fullmatch(r"Up to date · waiting for new orders since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC · "
                        r"1 of 1 order changes read", status_line(app)), status_line(app)


def test_while_it_catches_up_the_status_line_says_how_far_of_the_newest_it_saw(order_url, consumer_app, monkeypatch):
    for _ in range(3):
        place_order(order_url)
    app = consumer_app("invoicing", order_url + "/feed")
    applier, said = parts.consumer(app).applier, []
    apply = applier.apply

    def apply_and_look(changes):
        tally = apply(changes)
        said.append(status_line(app))
        return tally

    monkeypatch.setattr(running, "BATCH", 1)  # a transaction for each entry, a look after each
    monkeypatch.setattr(applier, "apply", apply_and_look)
    parts.consumer(app).poll()

    assert said == ["Catching up · 1 of 3 order changes read", "Catching up · 2 of 3 order changes read",
                    "Checking now"]  # all taken in; the first check is not over yet
    assert status_line(app).endswith(" · 3 of 3 order changes read")


def test_an_invoice_is_404_until_imported_then_json(order_url, consumer_app):
    order = place_order(order_url, lines=((4, 1), (2, 2)))
    app = consumer_app("invoicing", order_url + "/feed")

    before = detail(app, order["id"])
    parts.consumer(app).poll()
    after = detail(app, order["id"])
    page = app.test_client().get(f"/{order['id']}", headers={"Accept": BROWSER_ACCEPT})

    assert before.status_code == 404
    assert before.get_json()["error"]
    assert after.status_code == 200
    assert after.get_json()["totalAmount"] == order["totalPrice"] == "142.00"
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "142.00" in page.get_data(as_text=True)


def test_health_of_every_service(order_app, consumer_app):
    answers = [order_app.test_client().get("/health")]
    for service in ("invoicing", "shipping"):
        # /health is about the service's own database: no feed needs to answer.
        answers.append(consumer_app(service, "http://127.0.0.1:9/feed").test_client().get("/health"))

    assert [(answer.status_code, answer.get_json()) for answer in answers] == [(200, {"status": "ok"})] * 3


def test_a_wait_while_the_services_own_database_is_away_just_ends(order_url, make_consumer, monkeypatch):
    consumer = make_consumer(invoicing.models, import_invoice, order_url + "/feed")

    def away():
        raise OperationalError("SELECT 1", {}, Exception("the database restarts"))

    monkeypatch.setattr(consumer.applier, "tracking", away)

    assert consumer.wait_for_news(1) is False  # the loop pauses and polls again; the poll reports
