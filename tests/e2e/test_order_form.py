"""The new-order form in a real browser, as a person fills it in: lines added and
removed in place, amounts and the total as they choose, the billing address taken
from the shipping address, the problems listed as links, and one order per form."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from msatom.stack import Stack
from tests.e2e.holding import HeldFeed
from tests.e2e.running import every_item, http
from tests.e2e.test_ui import SHIPPING, choose_line, fill_customer_and_addresses
from tests.support.waiting import until

pytestmark = pytest.mark.e2e


def handled(page, condition) -> bool:
    """`condition()` once the test has handled the browser's events sent so far: a round
    trip to the browser that waits for no page (a page whose post is held is not done loading)."""
    page.context.cookies()
    return condition()


def newest_order(system) -> dict:
    return every_item(http(), f"{system.url}/order/")[0]


def place(tab) -> int:
    """Click "Place order"; the number of the order placed."""
    page = tab.page
    tab.follow(lambda: page.get_by_role("button", name="Place order").click())
    expect(page.get_by_role("status").filter(has_text="has been placed")).to_be_visible()
    return int(re.fullmatch(r".*/order/(\d+)", page.url)[1])


def test_lines_are_added_and_removed_in_place_and_focus_goes_to_the_line(tab, ui_system):
    page = tab.page
    tab.open("/order/new")
    lines = page.get_by_role("group", name="Lines")
    items = lines.get_by_label("Item")
    page.evaluate("window.stillTheSamePage = true")

    for count in (2, 3):
        page.get_by_role("button", name="Add a line").click()
        expect(items).to_have_count(count)
        expect(items.nth(count - 1)).to_be_focused()
    for index, item in enumerate(("iPod (42.00 EUR)", "iPod touch (21.00 EUR)", "Apple TV (100.00 EUR)")):
        choose_line(page, index, item, str(index + 1))
    tab.screenshot("three lines added in place")

    page.get_by_role("button", name="Remove line 2").click()
    expect(items).to_have_count(2)
    expect(items.nth(1)).to_be_focused()  # the line that followed the one removed
    expect(items.nth(1)).to_have_value("4")
    page.get_by_role("button", name="Remove line 2").click()
    expect(page.get_by_role("button", name="Add a line")).to_be_focused()  # no line followed
    expect(page.get_by_role("button", name=re.compile("^Remove"))).to_have_count(0)  # the last line stays
    assert page.evaluate("window.stillTheSamePage === true"), "adding or removing a line reloaded the page"
    tab.check()

    page.get_by_role("button", name="Add a line").click()
    choose_line(page, 1, "iPod nano (1.00 EUR)", "5")
    fill_customer_and_addresses(page)
    tab.screenshot("order new with two lines")  # the README's picture of the form
    order_id = place(tab)
    order = newest_order(ui_system)
    assert order["id"] == order_id
    assert [(line["item"]["name"], line["count"]) for line in order["lines"]] == [("iPod", 1), ("iPod nano", 5)]


def test_the_line_amounts_and_the_total_follow_the_items_and_counts_chosen(tab):
    page = tab.page
    tab.open("/order/new")
    amounts, total = page.get_by_label("Amount"), page.get_by_label("Total")
    expect(amounts.first).to_have_text("–")
    expect(total).to_have_text("0.00 EUR")

    choose_line(page, 0, "iPod touch (21.00 EUR)", "3")
    expect(amounts.first).to_have_text("63.00 EUR")
    expect(total).to_have_text("63.00 EUR")
    page.get_by_role("button", name="Add a line").click()
    choose_line(page, 1, "Apple TV (100.00 EUR)", "12")
    expect(amounts.nth(1)).to_have_text("1,200.00 EUR")
    expect(total).to_have_text("1,263.00 EUR")
    tab.screenshot("amounts and total")

    page.get_by_role("group", name="Lines").get_by_label("Count").first.fill("0")
    expect(amounts.first).to_have_text("–")  # not a count an order takes
    expect(total).to_have_text("1,200.00 EUR")
    page.get_by_role("button", name="Remove line 2").click()
    expect(total).to_have_text("0.00 EUR")


def test_the_page_without_script_shows_the_amounts_and_the_total_after_a_line_is_added(browse):
    tab = browse(script=False)
    page = tab.page
    tab.open("/order/new")
    choose_line(page, 0, "iPod touch (21.00 EUR)", "3")

    tab.follow(lambda: page.get_by_role("button", name="Add a line").click(), "order new with a second line")

    expect(page.get_by_label("Amount").first).to_have_text("63.00 EUR")
    expect(page.get_by_label("Amount").nth(1)).to_have_text("–")
    expect(page.get_by_label("Total")).to_have_text("63.00 EUR")
    expect(page.get_by_role("group", name="Lines").get_by_label("Item").nth(1)).to_be_focused()


@pytest.mark.parametrize("script", [True, False], ids=["with script", "without script"])
def test_billing_same_as_shipping_hides_the_billing_address_and_bills_the_shipping_address(browse, ui_system,
                                                                                           script):
    tab = browse(script=script)
    page = tab.page
    tab.open("/order/new")
    fill_customer_and_addresses(page)
    billing = page.get_by_role("group", name="Billing address")
    choose_line(page, 0, "iPod nano (1.00 EUR)", "2")

    billing.get_by_label("Same as the shipping address").check()
    expect(billing.get_by_label("Street")).to_be_hidden()
    tab.screenshot("billing same as shipping")
    order_id = place(tab)

    order = http().get(f"{ui_system.url}/order/{order_id}", timeout=10).json()
    assert order["billingAddress"] == order["shippingAddress"] == SHIPPING


@pytest.mark.parametrize("script", [True, False], ids=["with script", "without script"])
def test_the_error_summary_takes_focus_and_its_links_lead_to_the_fields(browse, script):
    tab = browse(script=script)
    page = tab.page
    tab.open("/order/new")
    page.get_by_role("group", name="Shipping address").get_by_label("Street").fill(SHIPPING["street"])

    with tab.expect_error(400):
        tab.follow(lambda: page.get_by_role("button", name="Place order").click(), "order new refused")

    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading", level=2)).to_have_text("The order was not placed: 7 problems")
    for link, field in (("Customer: choose a customer.", page.get_by_label("Customer")),
                        ("Line 1: choose an item.", page.get_by_label("Item")),
                        ("Billing address: enter the city of the billing address.",
                         page.get_by_role("group", name="Billing address").get_by_label("City"))):
        summary.get_by_role("link", name=link).click()
        expect(field).to_be_focused()
    expect(summary.get_by_role("link")).to_have_count(7)
    tab.screenshot("focus on a field from the summary")


class FilledForm:
    """The new-order form filled in, ready to be placed: the orders there were before,
    the POSTs the page sends, and a click in the middle of "Place order"."""

    def __init__(self, tab, ui_system):
        self.page, self.url = tab.page, f"{ui_system.url}/order/"
        self.orders_before = len(every_item(http(), self.url))
        tab.open("/order/new")
        fill_customer_and_addresses(self.page)
        choose_line(self.page, 0, "iPod nano (1.00 EUR)", "2")
        button = self.page.get_by_role("button", name="Place order")
        button.scroll_into_view_if_needed()
        self.box = button.bounding_box()
        self.posts: list[str] = []
        self.page.on("request", lambda request: self.posts.append(request.url) if request.method == "POST" else None)

    def click(self) -> None:
        self.page.mouse.click(self.box["x"] + self.box["width"] / 2, self.box["y"] + self.box["height"] / 2)

    def orders_placed(self) -> int:
        return len(every_item(http(), self.url)) - self.orders_before


def test_a_double_click_on_place_order_posts_the_form_once(tab, ui_system):
    page = tab.page
    form = FilledForm(tab, ui_system)
    held = []
    # The first click's post waits here until the second click has been made.
    page.route(tab.url("/order/"), lambda route: held.append(route))

    form.click()
    until(lambda: handled(page, lambda: held), "the first click's post held")
    form.click()
    tab.follow(held[0].continue_)

    expect(page).to_have_url(re.compile(r"/order/\d+$"))
    assert form.posts == [tab.url("/order/")] and len(held) == 1
    assert form.orders_placed() == 1


def test_a_double_click_on_place_order_without_script_places_one_order(browse, ui_system):
    if not isinstance(ui_system, Stack):
        pytest.skip("needs the stack, whose database can hold the first click's request")
    tab = browse(script=False)
    page = tab.page
    form = FilledForm(tab, ui_system)

    # The first click's order waits in its transaction until the second click has been sent.
    with HeldFeed(ui_system.databases["order"]) as feed:
        form.click()
        until(lambda: feed.waiting() == 1, "the first click's order waiting")
        form.click()
        until(lambda: feed.waiting() == 2, "the second click's order waiting")

    expect(page).to_have_url(re.compile(r"/order/\d+$"))
    # The browser gave up the first post when it sent the second: the double click happened.
    abandoned = f"request failed: POST {tab.url('/order/')}: net::ERR_ABORTED"
    assert form.posts == [tab.url("/order/")] * 2 and tab.problems.count(abandoned) == 1, (form.posts, tab.problems)
    tab.problems.remove(abandoned)
    tab.landed("order placed after a double click")
    assert form.orders_placed() == 1
    newest = every_item(http(), form.url)[0]
    expect(page).to_have_url(re.compile(rf"/order/{newest['id']}$"))
    expect(page.get_by_role("status").filter(has_text="has been placed")).to_be_visible()


def test_back_and_place_order_again_shows_the_order_placed_and_a_changed_form_is_a_new_order(tab, ui_system):
    page = tab.page
    form = FilledForm(tab, ui_system)
    first = place(tab)

    tab.follow(page.go_back, "back on the form after placing")
    expect(page.get_by_label("Customer")).to_have_value(re.compile(r"^\d+$"))  # the browser kept what was typed
    assert place(tab) == first  # the same form again: the order already placed
    assert form.orders_placed() == 1

    tab.follow(page.go_back, "back on the form to change it")
    choose_line(page, 0, "iPod nano (1.00 EUR)", "3")
    second = place(tab)
    assert second != first
    assert form.orders_placed() == 2


def test_a_fixed_field_loses_its_message_and_its_line_of_the_summary_as_it_is_fixed(tab, ui_system):
    page = tab.page
    tab.open("/order/new")
    count = page.get_by_role("group", name="Lines").get_by_label("Count")
    count.fill("0")
    with tab.expect_error(400):
        tab.follow(lambda: page.get_by_role("button", name="Place order").click(), "an empty order refused")
    heading = page.locator("#error-summary").get_by_role("heading", level=2)
    expect(heading).to_have_text("The order was not placed: 9 problems")
    street = page.get_by_role("group", name="Shipping address").get_by_label("Street")

    street.fill(SHIPPING["street"])
    expect(street).not_to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("Enter the street of the shipping address.")).to_have_count(0)  # under it, and in the summary
    expect(heading).to_have_text("The order was not placed: 8 problems")

    count.fill("1001")  # still more than an order line may hold: the message stays
    expect(count).to_have_attribute("aria-invalid", "true")
    expect(heading).to_have_text("The order was not placed: 8 problems")
    count.fill("12")
    expect(count).not_to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("The count must be a whole number")).to_have_count(0)
    expect(heading).to_have_text("The order was not placed: 7 problems")
    tab.screenshot("fixed fields lose their messages")
