"""Every page of the three UIs against axe-core's WCAG A and AA rules, on a desktop
screen and on a phone: no violation; and on every page the first Tab reaches a link
that skips to the content."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.axe import violations
from tests.e2e.test_ui import place_by_api, poll_by_api
from tests.e2e.running import http

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def orders(ui_system) -> dict[str, int]:
    """An order as placed, and one cancelled, both read by invoicing and shipping."""
    accepted, cancelled = (place_by_api(ui_system)["id"] for _ in range(2))
    response = http().post(f"{ui_system.url}/order/{cancelled}/cancel", headers={"Accept": "application/json"},
                            timeout=10)
    assert response.status_code == 200, response.text
    for service in ("invoicing", "shipping"):
        poll_by_api(ui_system, service)
    return {"accepted": accepted, "cancelled": cancelled}


def pages(orders: dict[str, int]) -> list[str]:
    accepted, cancelled = orders["accepted"], orders["cancelled"]
    return ["/", "/order/", "/order/new", f"/order/{accepted}", f"/order/{cancelled}", f"/order/{accepted}/cancel",
            "/order/customers", "/order/items",
            "/invoicing/", f"/invoicing/{accepted}", f"/invoicing/{cancelled}",
            "/shipping/", f"/shipping/{accepted}", f"/shipping/{cancelled}"]


@pytest.mark.parametrize("width", [1280, 375])
def test_every_page_keeps_the_wcag_a_and_aa_rules(browse, orders, width):
    tab = browse(width=width, height=900 if width > 400 else 740, bypass_csp=True)
    found = {}
    for path in pages(orders):
        tab.open(path)
        found[path] = violations(tab.page)
    assert not any(found.values()), "\n".join(f"{path}: {rule}" for path, rules in found.items() for rule in rules)


@pytest.mark.parametrize("width", [1280, 375])
def test_the_pages_that_answer_errors_keep_the_wcag_a_and_aa_rules(browse, width):
    tab = browse(width=width, bypass_csp=True)
    page = tab.page
    for path in ("/order/999999999", "/invoicing/999999999"):
        with tab.expect_error(404):
            tab.open(path, "not found")
        assert violations(page) == []
    tab.open("/order/new")
    with tab.expect_error(400):
        tab.follow(lambda: page.get_by_role("button", name="Place order").click(), "an empty order refused")
    assert violations(page) == []


def test_the_first_tab_on_every_page_offers_a_skip_to_the_content(tab, orders):
    page = tab.page
    for path in [*pages(orders), "/nope", "/order/nope"]:
        if path.endswith("nope"):
            with tab.expect_error(404):
                tab.open(path)
        else:
            tab.open(path)
        page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Skip to the content")
        expect(skip).to_be_focused()
        expect(skip).to_be_in_viewport()  # seen when reached, out of sight before
        page.keyboard.press("Enter")
        expect(page.get_by_role("main")).to_be_focused()
