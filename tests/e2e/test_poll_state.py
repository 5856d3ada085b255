"""The poller's state where a person looks first: a line beside the heading of the
invoice and shipment lists, in plain words, with "Poll now" next to it; while the
order service cannot be read, the line and an empty list say so; while the page's own
service is stopped, the page says so and recovers by itself."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from msatom.stack import Stack
from tests.e2e.running import http
from tests.e2e.test_ui import place_by_api

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def ui_system(own_ui_system):
    """The system for people, the module's own: tests stop its order service and its
    invoicing, and one counts on a shipments list nothing else fills."""
    return own_ui_system


def newest_position(system) -> int:
    """The newest position of the order feed, as the order service tells it."""
    response = http().get(f"{system.url}/order/status", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["position"]


def poll_now(tab) -> None:
    """Click "Poll now" and wait until it is done; the page must not reload for it."""
    page = tab.page
    page.evaluate("window.stillTheSamePage = true")
    button = page.get_by_role("button", name="Poll now")
    button.click()
    expect(button).to_have_text("Poll now")  # "Polling…" while it posts
    expect(button).to_be_enabled()
    assert page.evaluate("window.stillTheSamePage === true"), "Poll now reloaded the whole page"


def test_fresh_it_says_up_to_date_when_it_checked_and_how_much_it_read(tab, ui_system):
    order_id = place_by_api(ui_system)["id"]
    newest = newest_position(ui_system)
    page = tab.page
    tab.open("/invoicing/")
    status = page.locator("#poll-status")

    poll_now(tab)

    expect(status).to_contain_text("Up to date · checked ")
    expect(status).to_contain_text(f" · {newest} of {newest} order changes read")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=f"Invoice for order {order_id}"))
    expect(row).to_be_visible()
    # Measured in one step: the page swaps its live regions for fresh ones every few seconds.
    line, heading, first_row = page.evaluate("""(order) => {
        const box = (element) => { const r = element.getBoundingClientRect(); return {y: r.y, height: r.height}; };
        const link = [...document.querySelectorAll("tr a")].find(
            (a) => a.textContent.trim() === `Invoice for order ${order}`);
        return [box(document.querySelector("#poll-status")), box(document.querySelector("h1")), box(link.closest("tr"))];
    }""", order_id)
    assert abs(line["y"] - heading["y"]) < heading["height"] + line["height"], "the status line is not by the heading"
    assert line["y"] < first_row["y"], "the status line is below the list"
    details = page.locator("#poller")
    expect(details).to_contain_text(re.compile(r"New order changes read|Nothing new"))
    expect(details.locator("dt:text-is('Feed position') + dd")).to_have_text(f"{newest} of {newest}")
    expect(details).not_to_contain_text("304")
    tab.screenshot("invoicing up to date")

    checked = status.locator("time")
    first_said = checked.inner_text()
    expect(checked).not_to_have_text(first_said)  # the page keeps "… ago" current by itself
    expect(checked).to_have_text(re.compile(r"^\d+ (s|min) ago$"))
    tab.check()


def test_failing_it_says_it_cannot_read_the_order_service_and_recovered_it_is_up_to_date(tab, ui_system):
    if not isinstance(ui_system, Stack):
        pytest.skip("needs the stack, where the order service can stop on its own")
    page = tab.page
    tab.open("/shipping/")  # nothing else in this module polls shipping: its list is empty
    status = page.locator("#poll-status")
    empty = page.locator("#shipments .empty")

    ui_system.processes["order"].stop()
    try:
        poll_now(tab)
        expect(status).to_contain_text("Cannot read from the order service · next try in ")
        expect(status).not_to_contain_text(" of ")  # how many there are is not known now
        expect(empty).to_contain_text("No shipments yet, and none can arrive now")
        expect(page.locator("#poller .outcome")).to_contain_text(
            "Could not read from the order service: ")
        expect(page.locator("#poller")).to_contain_text("cannot be reached")
        expect(page.locator("#poller")).not_to_contain_text("Behind")
        tab.screenshot("shipping while the order service is stopped")
        tab.check()
    finally:
        ui_system.start_service("order")
        ui_system.wait_until_healthy("order")

    order_id = place_by_api(ui_system)["id"]
    newest = newest_position(ui_system)
    poll_now(tab)

    expect(status).to_contain_text("Up to date · checked ")
    expect(status).to_contain_text(f" · {newest} of {newest} order changes read")
    expect(page.get_by_role("link", name=f"Shipment for order {order_id}")).to_be_visible()
    expect(empty).to_have_count(0)
    expect(page.locator("#poller .outcome")).to_have_text("New order changes read")
    tab.screenshot("shipping after the order service is back")


def test_a_page_whose_service_stops_says_so_and_recovers_by_itself(tab, ui_system):
    if not isinstance(ui_system, Stack):
        pytest.skip("needs the stack, where one service can stop on its own")
    page = tab.page
    tab.open("/invoicing/")
    problem = page.get_by_role("status").filter(has_text="Not refreshed")

    with tab.expect_error(503):
        ui_system.processes["invoicing"].stop()
        try:
            expect(problem).to_contain_text("the service answered 503")
            tab.screenshot("invoicing while its service is stopped")
        finally:
            ui_system.start_service("invoicing")
            ui_system.wait_until_healthy("invoicing")
        # Until Apache sends to the service again, the page's questions may still get 503.
        expect(problem).to_have_count(0)
        with page.expect_response(lambda answer: answer.url.endswith("/invoicing/status") and answer.ok):
            pass  # its look at the status each second, answered again

    expect(page.get_by_role("button", name="Poll now")).to_be_visible()
