"""The lists of orders, invoices and shipments in a real browser: a person filters one by
status, searches it, and the URL keeps what they asked for, so that a reload or a
bookmark shows the same list."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.orders import order_request
from tests.e2e.axe import violations
from tests.e2e.running import every_item, http
from tests.e2e.test_ui import place_by_api, poll_by_api
from tests.support.waiting import until

pytestmark = pytest.mark.e2e

# (path, what a row's link says before the order's number, who the search finds a row by)
LISTS = [("/order/", "Order", "customer"), ("/invoicing/", "Invoice for order", "customer"),
         ("/shipping/", "Shipment for order", "recipient")]


@pytest.fixture(scope="module")
def johnsons_cancelled(ui_system) -> int:
    """Orders of Eberhard Wolff and Rod Johnson, one of Rod Johnson's cancelled, all read by
    invoicing and shipping: the id of the cancelled one."""
    place_by_api(ui_system)  # customer 1, Eberhard Wolff
    for _ in range(2):
        response = http().post(f"{ui_system.url}/order/", json=order_request(customer_id=2), timeout=10)
        assert response.status_code == 201, response.text
    cancelled = response.json()["id"]
    response = http().post(f"{ui_system.url}/order/{cancelled}/cancel", headers={"Accept": "application/json"},
                           timeout=10)
    assert response.status_code == 200, response.text
    for service in ("invoicing", "shipping"):
        poll_by_api(ui_system, service)
    return cancelled


def listed(system, path: str, query: str) -> list[int]:
    """The ids the JSON list holds for `query`, every page of it."""
    return [row["id"] for row in every_item(http(), f"{system.url}{path}?{query}")]


def expect_rows(page, row_name: str, ids: list[int]) -> None:
    links = page.locator("table.list tbody tr td:first-child a")
    expect(links).to_have_text([f"{row_name} {number}" for number in ids])


@pytest.mark.parametrize("path, row_name, who", LISTS)
def test_a_list_filtered_by_status_and_searched_keeps_both_in_its_url(browse, ui_system, johnsons_cancelled, path,
                                                                      row_name, who):
    tab = browse()
    page = tab.page
    tab.open(path)
    statuses = page.get_by_role("navigation", name=re.compile("by status"))
    expect(statuses.get_by_role("link", name=re.compile("^All"))).to_have_attribute("aria-current", "page")

    tab.follow(lambda: statuses.get_by_role("link", name=re.compile("^Cancelled")).click(), "cancelled")
    expect(page).to_have_url(re.compile(r"\?status=cancelled$"))
    expect(statuses.get_by_role("link", name=re.compile("^Cancelled"))).to_have_attribute("aria-current", "page")
    cancelled = listed(ui_system, path, "status=cancelled")
    assert johnsons_cancelled in cancelled
    expect_rows(page, row_name, cancelled)
    expect(page.locator("table.list tbody tr")).to_have_class(["row-cancelled"] * len(cancelled))

    page.get_by_role("searchbox", name=f"Search by order number or {who}").fill("johnson")
    tab.follow(lambda: page.get_by_role("button", name="Search", exact=True).click(), "cancelled johnson")
    expect(page).to_have_url(re.compile(r"\?status=cancelled&q=johnson$"))
    found = listed(ui_system, path, "status=cancelled&q=johnson")
    assert johnsons_cancelled in found
    expect_rows(page, row_name, found)
    expect(statuses.get_by_role("link", name=re.compile("^All"))).to_have_attribute("href", f"{path}?q=johnson")

    bookmark = page.url
    again = browse()  # a bookmark opened in a fresh browser
    again.page.goto(bookmark)
    again.landed("the bookmark")
    expect_rows(again.page, row_name, found)
    expect(again.page.get_by_role("searchbox")).to_have_value("johnson")
    expect(again.page.get_by_role("navigation", name=re.compile("by status")).get_by_role(
        "link", name=re.compile("^Cancelled"))).to_have_attribute("aria-current", "page")


@pytest.mark.parametrize("path, row_name, who", LISTS)
def test_a_search_that_finds_nothing_says_so_and_leads_back_to_the_whole_list(tab, ui_system, johnsons_cancelled,
                                                                              path, row_name, who):
    page = tab.page
    tab.open(f"{path}?status=cancelled")
    page.get_by_role("searchbox", name=f"Search by order number or {who}").fill("nobody by this name")
    tab.follow(lambda: page.get_by_role("searchbox").press("Enter"), "nothing found")

    noun = {"/order/": "orders", "/invoicing/": "invoices", "/shipping/": "shipments"}[path]
    expect(page.get_by_text(f"No cancelled {noun} match “nobody by this name”.")).to_be_visible()
    expect(page.locator("table.list")).to_have_count(0)
    tab.follow(lambda: page.get_by_role("link", name=f"Show all {noun}").click())
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    expect_rows(page, row_name, listed(ui_system, path, ""))


def test_poll_now_keeps_the_list_filtered(tab, ui_system, johnsons_cancelled):
    page = tab.page
    tab.open("/invoicing/?status=cancelled")
    cancelled = listed(ui_system, "/invoicing/", "status=cancelled")
    newcomer = place_by_api(ui_system)["id"]

    page.get_by_role("button", name="Poll now").click()

    until(lambda: newcomer in listed(ui_system, "/invoicing/", ""), "the poll importing the new order")
    accepted = len(listed(ui_system, "/invoicing/", "status=accepted"))
    statuses = page.get_by_role("navigation", name=re.compile("by status"))
    expect(statuses.get_by_role("link", name=re.compile("^Accepted"))).to_have_text(f"Accepted {accepted}")
    # The counts came with the poll's answer: the rows beside them are those of the filter, not the whole list.
    links = page.locator("table.list tbody tr td:first-child a").all_inner_texts()
    assert links == [f"Invoice for order {number}" for number in cancelled]
    tab.screenshot("invoices filtered after poll now")


@pytest.mark.parametrize("width", [1280, 375])
def test_filtered_and_empty_lists_keep_the_wcag_a_and_aa_rules(browse, johnsons_cancelled, width):
    tab = browse(width=width, height=900 if width > 400 else 740, bypass_csp=True)
    found = {}
    for path, _, _ in LISTS:
        for query in ("?status=cancelled&q=johnson", "?q=nobody"):
            tab.open(path + query)
            width_used = tab.page.evaluate("document.documentElement.scrollWidth")
            assert width_used <= width, f"{path}{query} is {width_used} px wide"
            found[path + query] = violations(tab.page)
    assert not any(found.values()), "\n".join(f"{path}: {rule}" for path, rules in found.items() for rule in rules)
