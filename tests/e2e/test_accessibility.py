"""Every page of the three UIs and of the account service against axe-core's WCAG A
and AA rules, on a desktop screen and on a phone, with sign-in on (signed in or not)
and off: no violation, and (as every browser test checks) no console error; and on
every page the first Tab reaches a link that skips to the content."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.axe import violations
from tests.e2e.running import http
from tests.e2e.test_ui import place_by_api
from tests.support.waiting import until

pytestmark = pytest.mark.e2e

JSON = {"Accept": "application/json"}


def placed_and_read(system) -> dict[str, int]:
    """An order as placed, and one cancelled, both read by invoicing and shipping."""
    accepted, cancelled = (place_by_api(system)["id"] for _ in range(2))
    response = http().post(f"{system.url}/order/{cancelled}/cancel", headers=JSON, timeout=10)
    assert response.status_code == 200, response.text
    newest = position(system, "order")
    for service in ("invoicing", "shipping"):
        # A poll now, where nothing polls by itself; where something does, it may be first.
        http().post(f"{system.url}/{service}/poll", headers=JSON, timeout=30).raise_for_status()
        until(lambda: position(system, service) == newest, f"{service} reads both orders")
    return {"accepted": accepted, "cancelled": cancelled}


def position(system, service: str) -> int:
    return http().get(f"{system.url}/{service}/status", headers=JSON, timeout=10).json()["position"]


@pytest.fixture(scope="module")
def orders(ui_system) -> dict[str, int]:
    return placed_and_read(ui_system)


@pytest.fixture(scope="module")
def orders_without_sign_in(msatom_system) -> dict[str, int]:
    return placed_and_read(msatom_system)


def pages(orders: dict[str, int]) -> list[str]:
    accepted, cancelled = orders["accepted"], orders["cancelled"]
    return ["/", "/order/", "/order/new", f"/order/{accepted}", f"/order/{cancelled}", f"/order/{accepted}/cancel",
            "/order/customers", "/order/items",
            "/invoicing/", f"/invoicing/{accepted}", f"/invoicing/{cancelled}",
            "/shipping/", f"/shipping/{accepted}", f"/shipping/{cancelled}", "/account/"]


def violations_on(tab, paths) -> dict[str, list[str]]:
    found = {}
    for path in paths:
        tab.open(path)
        found[path] = violations(tab.page)
    return found


def assert_none(found: dict[str, list[str]]) -> None:
    assert not any(found.values()), "\n".join(f"{path}: {rule}" for path, rules in found.items() for rule in rules)


def height_for(width: int) -> int:
    return 900 if width > 400 else 740


@pytest.mark.parametrize("width", [1280, 375])
def test_every_page_keeps_the_wcag_a_and_aa_rules(browse, orders, width):
    """Signed in, and not yet signed in: the sign-in page, and what signing out shows."""
    found = violations_on(browse(width=width, height=height_for(width), bypass_csp=True), pages(orders))
    anonymous = browse(width=width, height=height_for(width), bypass_csp=True, signed_in=None)
    found |= violations_on(anonymous, ["/", "/account/sign-in", "/account/sign-in?signed-out"])
    with anonymous.expect_error(400):
        anonymous.follow(lambda: anonymous.page.get_by_role("button", name="Sign in").click(), "nothing entered")
    found["the sign-in refused"] = violations(anonymous.page)
    assert_none(found)


@pytest.mark.parametrize("width", [1280, 375])
def test_with_sign_in_off_every_page_keeps_the_wcag_a_and_aa_rules(browse, msatom_system, orders_without_sign_in,
                                                                   width):
    """As `make run` serves them: no sign-in, so no caller in the header."""
    tab = browse(width=width, height=height_for(width), bypass_csp=True, signed_in=None, system=msatom_system)
    assert_none(violations_on(tab, [*pages(orders_without_sign_in), "/account/sign-in"]))


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
