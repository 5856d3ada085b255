"""The three web UIs in a real browser, as a person uses them: through Apache (or
`msatom run`), with clicks, typing and "Poll now"."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from tests.support.orders import order_request
from tests.e2e.running import http

pytestmark = pytest.mark.e2e


SHIPPING = {"street": "Ohlauer Str. 43", "zip": "10999", "city": "Berlin"}
BILLING = {"street": "Krischerstr. 100", "zip": "40789", "city": "Monheim am Rhein"}


def fill_customer_and_addresses(page) -> None:
    page.get_by_label("Customer").select_option(label="Rod Johnson")
    for legend, address in (("Shipping address", SHIPPING), ("Billing address", BILLING)):
        group = page.get_by_role("group", name=legend)
        group.get_by_label("Street").fill(address["street"])
        group.get_by_label("ZIP code").fill(address["zip"])
        group.get_by_label("City").fill(address["city"])


def choose_line(page, index: int, item: str, count: str) -> None:
    lines = page.get_by_role("group", name="Lines")
    lines.get_by_label("Item").nth(index).select_option(label=item)
    lines.get_by_label("Count").nth(index).fill(count)


def go_to(tab, service: str) -> None:
    navigation = tab.page.get_by_role("navigation", name="Services")
    tab.follow(lambda: navigation.get_by_role("link", name=service).click())


def poll_now(tab, row_name: str):
    """Click "Poll now" and wait for the row; the page must not reload for it."""
    page = tab.page
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_role("button", name="Poll now").click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=row_name, exact=True))
    expect(row).to_be_visible()
    expect(page.get_by_role("button", name="Poll now")).to_be_enabled()
    assert page.evaluate("window.stillTheSamePage === true"), "Poll now reloaded the whole page"
    tab.screenshot(f"{page.url.split('/')[-2]} after poll now")
    tab.check()
    return row


def place_by_api(system, lines=((1, 1), (3, 2))) -> dict:
    response = http().post(f"{system.url}/order/", json=order_request(lines=lines), timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def poll_by_api(system, service: str) -> None:
    """What the schedule does, from outside the browser."""
    response = http().post(f"{system.url}/{service}/poll", headers={"Accept": "application/json"}, timeout=30)
    assert response.status_code == 200 and response.json()["status"] == 200, response.text


def test_an_order_placed_through_the_form_is_listed_invoiced_and_shipped(tab):
    page = tab.page
    tab.open("/")
    go_to(tab, "Orders")
    tab.follow(lambda: page.get_by_role("link", name="New order").click())
    fill_customer_and_addresses(page)
    choose_line(page, 0, "iPod touch (21.00 EUR)", "3")
    page.get_by_role("button", name="Add a line").click()  # in place: tests/e2e/test_order_form.py
    choose_line(page, 1, "iPod nano (1.00 EUR)", "4")
    tab.screenshot("order new with a second line")
    tab.follow(lambda: page.get_by_role("button", name="Place order").click())

    expect(page.get_by_role("status").filter(has_text="has been placed")).to_be_visible()
    order_id = re.fullmatch(r"Order (\d+).*", page.get_by_role("heading", level=1).inner_text())[1]
    tab.follow(lambda: page.get_by_role("link", name="← All orders").click())
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=f"Order {order_id}", exact=True))
    expect(row).to_contain_text("Rod Johnson")
    expect(row).to_contain_text("67.00")
    tab.follow(lambda: row.get_by_role("link").click())
    order_total = page.locator("[data-total]").inner_text()
    assert order_total == "67.00 EUR"
    expect(page.get_by_role("heading", name=f"Order {order_id}")).to_contain_text("accepted")

    go_to(tab, "Invoices")
    invoice_row = poll_now(tab, f"Invoice for order {order_id}")
    expect(invoice_row).to_contain_text(order_total)
    expect(page.locator("#poller .outcome")).to_have_text("New order changes read")
    tab.follow(lambda: invoice_row.get_by_role("link").click())
    assert page.locator("[data-total]").inner_text() == order_total
    expect(page.get_by_role("row")).to_have_count(4)  # head, two lines, total
    expect(page.get_by_text(BILLING["street"])).to_be_visible()

    go_to(tab, "Shipments")
    shipment_row = poll_now(tab, f"Shipment for order {order_id}")
    expect(shipment_row).to_contain_text("Berlin")
    tab.follow(lambda: shipment_row.get_by_role("link").click())
    contents = page.get_by_role("row")
    expect(contents.filter(has_text="iPod touch")).to_contain_text("3")
    expect(contents.filter(has_text="iPod nano")).to_contain_text("4")
    expect(page.get_by_text(SHIPPING["street"])).to_be_visible()


def test_an_empty_order_is_refused_next_to_its_lines_and_keeps_what_was_typed(tab, ui_system):
    orders_before = http().get(f"{ui_system.url}/order/", timeout=10).json()
    page = tab.page
    tab.open("/order/new")
    fill_customer_and_addresses(page)

    with tab.expect_error(400):
        tab.follow(lambda: page.get_by_role("button", name="Place order").click(), "order new refused")

    lines = page.get_by_role("group", name="Lines")
    expect(lines.get_by_text("Choose an item.")).to_be_visible()
    expect(lines.get_by_label("Item")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_label("Customer")).to_have_value("2")
    shipping = page.get_by_role("group", name="Shipping address")
    expect(shipping.get_by_label("Street")).to_have_value(SHIPPING["street"])
    expect(page.get_by_role("group", name="Billing address").get_by_label("City")).to_have_value(BILLING["city"])
    assert http().get(f"{ui_system.url}/order/", timeout=10).json() == orders_before


def test_cancelling_an_order_shows_on_its_invoice_and_its_shipment(tab, ui_system):
    order_id = place_by_api(ui_system)["id"]
    page = tab.page
    for service, name in (("invoicing", "Invoice"), ("shipping", "Shipment")):
        tab.open(f"/{service}/")
        poll_now(tab, f"{name} for order {order_id}")

    tab.open(f"/order/{order_id}")
    tab.follow(lambda: page.get_by_role("link", name="Cancel order…").click())
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Cancel order {order_id}?")
    expect(page.get_by_text("cannot be undone")).to_be_visible()
    tab.follow(lambda: page.get_by_role("link", name="Keep the order").click())
    expect(page.get_by_role("heading", name=f"Order {order_id}")).to_contain_text("accepted")

    tab.follow(lambda: page.get_by_role("link", name="Cancel order…").click())
    tab.follow(lambda: page.get_by_role("button", name=f"Cancel order {order_id}").click())
    expect(page.get_by_role("status")).to_contain_text("The order has been cancelled.")
    expect(page.get_by_role("heading", name=f"Order {order_id}")).to_contain_text("cancelled")
    expect(page.get_by_role("link", name="Cancel order…")).to_have_count(0)
    expect(page.get_by_role("listitem").filter(has_text="Cancelled")).to_contain_text("version 2")

    for service, name in (("invoicing", "Invoice"), ("shipping", "Shipment")):
        tab.open(f"/{service}/")
        row = page.get_by_role("row").filter(has=page.get_by_role("link", name=f"{name} for order {order_id}"))
        expect(row).to_contain_text("accepted")
        page.get_by_role("button", name="Poll now").click()
        expect(row).to_contain_text("cancelled")
        tab.screenshot(f"{service} after the cancellation")
        tab.follow(lambda: row.get_by_role("link").click())
        expect(page.get_by_role("heading", level=1)).to_contain_text("cancelled")


def test_an_order_its_invoice_and_its_shipment_link_to_each_other(tab, ui_system):
    order_id = place_by_api(ui_system)["id"]
    page = tab.page
    tab.open(f"/order/{order_id}")
    expect(page.get_by_role("listitem").filter(has_text="Placed")).to_contain_text("version 1")

    with tab.expect_error(404):  # invoicing has not polled since the order was placed
        tab.follow(lambda: page.get_by_role("link", name=f"Invoice for order {order_id}").click(), "not read yet")
    expect(page.get_by_text("has not read such an order from the order feed")).to_be_visible()
    # The order service lists every order; a page of an order that may not exist it may not have.
    expect(page.get_by_role("link", name="The orders in the order service")).to_have_attribute("href", "/order/")
    tab.follow(page.go_back)

    for service, name in (("invoicing", "Invoice"), ("shipping", "Shipment")):
        poll_by_api(ui_system, service)
        tab.follow(lambda: page.get_by_role("link", name=f"{name} for order {order_id}").click())
        expect(page.get_by_role("heading", level=1)).to_contain_text(f"{name} for order {order_id}")
        tab.follow(lambda: page.get_by_role("link", name=f"Order {order_id}", exact=True).click())
        expect(page.get_by_role("heading", level=1)).to_contain_text(f"Order {order_id}")


def test_times_read_in_the_readers_time_zone_with_utc_on_hover(browse, ui_system):
    order = place_by_api(ui_system)
    tab = browse(timezone="Asia/Kolkata")
    tab.open(f"/order/{order['id']}")

    placed = datetime.fromisoformat(order["placedAt"].replace("Z", "+00:00"))
    in_kolkata = placed.astimezone(timezone(timedelta(hours=5, minutes=30)))
    shown = tab.page.locator("time").first
    expect(shown).to_contain_text(in_kolkata.strftime("%H:%M:%S"))
    expect(shown).to_contain_text("GMT+5:30")
    expect(shown).to_have_attribute("title", placed.strftime("%Y-%m-%d %H:%M:%S UTC"))


def test_new_invoices_and_the_poller_state_appear_without_a_reload(tab, ui_system):
    page = tab.page
    tab.open("/invoicing/")
    page.evaluate("window.stillTheSamePage = true")
    last_poll = page.locator("#poller dd").first.inner_text()

    order_id = place_by_api(ui_system)["id"]
    poll_by_api(ui_system, "invoicing")

    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=f"Invoice for order {order_id}"))
    expect(row).to_be_visible()  # the page refreshes itself every 5 s; expect() waits up to EXPECT_TIMEOUT_MS
    expect(page.locator("#poller dd").first).not_to_have_text(last_poll)
    assert page.evaluate("window.stillTheSamePage === true"), "the page was reloaded"
    tab.screenshot("invoicing refreshed by itself")


START = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)  # a page's clock where a test moves it by hand

# What reads badly on a phone, measured in the page: an amount broken over two lines
# ("42.00 / EUR"), a label beside its value taking more than 40% of its panel's width,
# a separator ("·") left at the end of a line of the header.
NARROW_PROBLEMS = """() => {
  const problems = [];
  for (const element of document.querySelectorAll("main *, header *")) {
    if (element.children.length || !/\\d EUR$/.test(element.textContent.trim())) continue;
    const text = document.createRange();
    text.selectNodeContents(element);
    const lines = new Set([...text.getClientRects()].map((box) => Math.round(box.top)));
    if (lines.size > 1) problems.push(`an amount on ${lines.size} lines: ${element.textContent.trim()}`);
  }
  for (const label of document.querySelectorAll("dl > dt")) {
    const value = label.nextElementSibling, panel = label.parentElement.getBoundingClientRect();
    const [beside, at] = [label.getBoundingClientRect(), value && value.getBoundingClientRect()];
    if (!value || beside.width === 0 || Math.abs(beside.top - at.top) > 2) continue;  // hidden, or above its value
    if (beside.width > 0.4 * panel.width) problems.push(`the label "${label.textContent.trim()}" takes ` +
                                                        `${Math.round(100 * beside.width / panel.width)}% of its panel`);
  }
  for (const dot of document.querySelectorAll("header .separator")) {
    const [at, next] = [dot, dot.nextElementSibling].map((element) => element.getBoundingClientRect());
    if (at.width && next.top >= at.bottom) problems.push("a line of the header ends in a separator");
  }
  return problems;
}"""


# Each value shown beside its label, with less than 40% of its panel's width, at any width.
SQUEEZED_VALUES = """() => [...document.querySelectorAll("dl > dt")].flatMap((label) => {
  const value = label.nextElementSibling;
  if (!value || label.getBoundingClientRect().width === 0) return [];
  const [panel, at, beside] = [label.parentElement, value, label].map((element) => element.getBoundingClientRect());
  const share = at.width / panel.width;
  return Math.abs(beside.top - at.top) <= 2 && share < 0.4
    ? [`the value of "${label.textContent.trim()}" has ${Math.round(100 * share)}% of its panel`] : [];
})"""


def test_every_page_is_usable_375_pixels_wide_and_leads_to_the_others(browse, ui_system):
    order_id = place_by_api(ui_system)["id"]
    for service in ("invoicing", "shipping"):
        poll_by_api(ui_system, service)
    tab = browse(width=375, height=740)
    page = tab.page
    for path in ("/", "/order/", "/order/new", f"/order/{order_id}", "/order/customers", "/order/items",
                 "/invoicing/", f"/invoicing/{order_id}", "/shipping/", f"/shipping/{order_id}"):
        tab.open(path)
        if path == "/":
            expect(page.locator(".flow .figures").first).to_be_visible()  # the figures, once read
            expect(page.get_by_role("button", name="Sign out")).to_be_visible()  # and who is signed in
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width} px wide: the reader must scroll sideways"
        assert page.evaluate(NARROW_PROBLEMS) + page.evaluate(SQUEEZED_VALUES) == [], path
        navigation = page.get_by_role("navigation", name="Services")
        for service, target in (("Orders", "/order/"), ("Invoices", "/invoicing/"), ("Shipments", "/shipping/")):
            expect(navigation.get_by_role("link", name=service)).to_have_attribute("href", target)
        expect(page.get_by_role("link", name="microservice-atom")).to_have_attribute("href", "/")


def test_rebuilding_from_the_page_asks_for_confirmation_shows_its_progress_and_keeps_the_invoices(tab, ui_system):
    orders = [place_by_api(ui_system) for _ in range(2)]
    poll_by_api(ui_system, "invoicing")
    page = tab.page
    tab.open("/invoicing/")
    rows = [page.get_by_role("row").filter(has=page.get_by_role("link", name=f"Invoice for order {order['id']}",
                                                                    exact=True)) for order in orders]
    panel = page.locator("#rebuild")
    confirm = page.get_by_label("Read the whole feed again and replace this service's data with the result")
    button = page.get_by_role("button", name="Rebuild", exact=True)
    page.evaluate("window.stillTheSamePage = true")

    button.click()  # without the tick the browser keeps the form and asks for it
    assert confirm.evaluate("box => box.validity.valueMissing")
    confirm.check()
    button.click()

    expect(panel).to_contain_text("done")
    position = int(panel.locator("#rebuild-position").inner_text())
    assert position >= len(orders)
    expect(panel.locator("#rebuild-left")).to_have_text("0")
    for row in rows:
        expect(row).to_be_visible()
    assert page.evaluate("window.stillTheSamePage === true"), "the rebuild reloaded the whole page"
    tab.screenshot("invoicing after the rebuild")
    tab.check()
    tab.open("/invoicing/", "invoicing reloaded after the rebuild")
    expect(panel).to_contain_text("done")
    for row in rows:
        expect(row).to_be_visible()


def test_an_open_list_shows_an_import_at_its_next_second_without_a_reload(tab, ui_system):
    page = tab.page
    # The page's clock stands still unless moved on: its refresh every few seconds never
    # comes, only what its timers do in the second moved on.
    page.clock.install(time=START)
    page.clock.pause_at(START + timedelta(seconds=1))
    tab.open("/invoicing/")
    page.evaluate("window.stillTheSamePage = true")
    order_id = place_by_api(ui_system)["id"]
    poll_by_api(ui_system, "invoicing")

    page.clock.run_for(1000)

    expect(page.get_by_role("link", name=f"Invoice for order {order_id}", exact=True)).to_be_visible()
    assert page.evaluate("window.stillTheSamePage") is True  # swapped in place, not reloaded
