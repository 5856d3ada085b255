"""The flow at a glance: the landing page reads GET /status of the three services and
shows how far each has come, in a real browser, through Apache on the production stack
and under `make run`, with the consumers following the feed by themselves."""
from __future__ import annotations

import re
from contextlib import contextmanager

import psycopg2
import pytest
from playwright.sync_api import expect
from prometheus_client.parser import text_string_to_metric_families

from msatom.stack import Stack
from tests.e2e.running import PATIENCE, http
from tests.e2e.test_ui import SQUEEZED_VALUES, place_by_api
from tests.support.waiting import until

pytestmark = pytest.mark.e2e

CONSUMERS = {"invoicing": "Invoices", "shipping": "Shipments"}  # service: the heading of its card
JSON = {"Accept": "application/json"}


@pytest.fixture(scope="module", params=["own_stack", "msatom_system"])
def ui_system(request):
    """What the browser talks to (tests/e2e/conftest.py's `browse` opens tabs on it):
    the stack through Apache, and `make run`, each following the feed by itself; the
    stack the module's own, since a test stops its order service."""
    return request.getfixturevalue(request.param)


def card(page, heading: str):
    return page.get_by_role("region", name=heading, exact=True)


def figure(card, term: str):
    """The figure the card shows under `term`."""
    return card.locator(f"dt:text-is('{term}') + dd")


def status(system, service: str) -> dict:
    response = http().get(f"{system.url}/{service}/status", headers=JSON, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def gauge(stack: Stack, service: str, name: str) -> float:
    """A gauge of the service's /metrics, on its own port (gunicorn's workers pool theirs)."""
    text = http().get(f"{stack.service_url(service)}/metrics", timeout=10).text
    values = [sample.value for family in text_string_to_metric_families(text)
              for sample in family.samples if sample.name == name]
    assert values, f"the metrics of {service} have no {name}"
    return values[0]


def test_the_landing_page_shows_how_far_each_service_has_come(browse, ui_system):
    for _ in range(2):
        place_by_api(ui_system)
    newest = status(ui_system, "order")["position"]
    tab = browse()
    page = tab.page
    tab.open("/")

    orders = card(page, "Orders")
    expect(figure(orders, "Newest position")).to_have_text(str(newest))
    for service, heading in CONSUMERS.items():
        consumer = card(page, heading)
        expect(figure(consumer, "Position")).to_have_text(str(newest))  # it catches up by itself
        expect(figure(consumer, "Entries behind")).to_have_text("0")
        expect(figure(consumer, "Seconds behind")).to_have_text("0")
        assert float(figure(consumer, "Imports a minute, last 5 minutes").inner_text()) > 0
        assert status(ui_system, service)["position"] == newest
    assert float(figure(orders, "Orders a minute, last 5 minutes").inner_text()) > 0
    expect(page.get_by_role("status")).to_have_text("Every service answers, and none is behind.")
    assert page.evaluate(SQUEEZED_VALUES) == []
    tab.screenshot("flow")

    narrow = browse(width=375, height=740)
    narrow.open("/")
    expect(figure(card(narrow.page, "Orders"), "Newest position")).to_have_text(str(newest))
    width = narrow.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the flow is {width} px wide: the reader must scroll sideways"


@contextmanager
def imports_refused(stack: Stack):
    """The consumers' databases refuse every new invoice and shipment (a check that no
    new row passes): a consumer reads the feed, fails to apply it and stays behind."""
    with _superuser(stack, "invoicing") as invoicing, _superuser(stack, "shipping") as shipping:
        for cursor, table in ((invoicing, "invoice"), (shipping, "shipment")):
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT refused CHECK (id < 0) NOT VALID")
        try:
            yield
        finally:
            for cursor, table in ((invoicing, "invoice"), (shipping, "shipment")):
                cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT refused")


@contextmanager
def _superuser(stack: Stack, database: str):
    connection = psycopg2.connect(host="127.0.0.1", port=stack.postgres.port, user="postgres", dbname=database)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            yield cursor
    finally:
        connection.close()


def shown_after_refreshes(page, shown, what: str) -> None:
    """Until `shown()` holds of the page, its clock moved on by a refresh (5 seconds)
    before each look: the page asks the services again at once, not when the time is up.
    The looks are half a second apart: the clock also runs out the page's 10 seconds for
    an answer, and a round's questions get their answers well within a second."""
    def refreshed_and_shown() -> bool:
        page.clock.run_for(5_000)
        return shown()
    until(refreshed_and_shown, what, timeout=PATIENCE, every=0.5)


def seconds(figure_shown) -> int:
    return int(figure_shown.inner_text() or 0)


# Only the stack: under `make run` the three services share one process.
@pytest.mark.parametrize("ui_system", ["own_stack"], indirect=True)
def test_a_stopped_order_service_shows_and_the_lag_grows_until_it_is_back(tab, ui_system):
    page = tab.page
    page.clock.install()  # moved on below, so that the test need not wait out the page's refreshes
    tab.open("/")
    summary = page.get_by_role("status")
    behind = {service: figure(card(page, heading), "Seconds behind") for service, heading in CONSUMERS.items()}

    with imports_refused(ui_system):
        place_by_api(ui_system)
        shown_after_refreshes(page, lambda: all(figure(card(page, heading), "Entries behind").inner_text() == "1"
                                                for heading in CONSUMERS.values()), "each consumer 1 entry behind")
        with tab.expect_error(503):
            ui_system.processes["order"].stop()
            try:
                shown_after_refreshes(page, lambda: "The order service does not answer (503)." in summary.inner_text(),
                                      "the order service named as silent")
                assert page.evaluate(SQUEEZED_VALUES) == []
                tab.screenshot("the order service stopped")
                for service, shown in behind.items():
                    before = seconds(shown)
                    # The seconds behind are the server's: they grow as real time passes.
                    shown_after_refreshes(page, lambda: seconds(shown) > before, f"the seconds {service} is behind growing")
                    assert status(ui_system, service)["entriesBehind"] == 1
                    assert gauge(ui_system, service, "msatom_feed_consumer_lag_entries") == 1
                    assert gauge(ui_system, service, "msatom_feed_consumer_lag_seconds") > before
            finally:
                ui_system.start_service("order")
                ui_system.wait_until_healthy("order")
            # Until Apache sends to the service again, the page's questions may still get 503.
            shown_after_refreshes(page, lambda: "The order service does not answer" not in summary.inner_text(),
                                  "the order service answering the page again")

    for service in CONSUMERS:  # "Poll now", rather than waiting out the back-off (up to a minute)
        polled = http().post(f"{ui_system.url}/{service}/poll", headers=JSON, timeout=30)
        assert polled.json()["status"] in (200, 304), polled.text
    shown_after_refreshes(page, lambda: all(figure(card(page, heading), term).inner_text() == "0"
                                            for heading in CONSUMERS.values()
                                            for term in ("Entries behind", "Seconds behind")), "no consumer behind")
    expect(summary).to_have_text("Every service answers, and none is behind.")
    expect(figure(card(page, "Orders"), "Newest position")).to_have_text(re.compile(r"^[1-9]\d*$"))
