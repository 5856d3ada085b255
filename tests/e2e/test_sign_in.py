"""Signing in and out in a real browser, on the production stack through Apache: one
sign-in for every service, and after signing out the pages are refused again."""
from __future__ import annotations

import re
import subprocess
import time

import jwt
import pytest
from playwright.sync_api import expect

from common.auth.tokens import COOKIE
from msatom.stack import Stack
from tests.e2e.axe import violations
from tests.e2e.conftest import msatom_running
from tests.e2e.running import MSATOM, SIGNING_KEY, anonymous, msatom_env
from tests.e2e.test_ui import choose_line, fill_customer_and_addresses
from tests.support.waiting import until

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack_only(ui_system) -> Stack:
    if not isinstance(ui_system, Stack):
        pytest.skip("needs the stack: `msatom run` runs with sign-in off")
    return ui_system


def sign_in(tab, name: str, password: str) -> None:
    page = tab.page
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(password)
    tab.follow(lambda: page.get_by_role("button", name="Sign in").click())


def test_sign_in_once_place_an_order_and_sign_out_everywhere(browse, stack_only):
    stack_only.users("add", "dana", "--role", "sales", "--role", "accounting", "--password-stdin",
                     stdin="danas-password")
    tab = browse(signed_in=None, bypass_csp=True)
    page = tab.page
    caller = page.get_by_role("banner").locator(".caller")

    tab.open("/", "the landing page asks who is signed in, and no error comes of it")
    expect(caller.get_by_role("link", name="Sign in")).to_be_visible()
    tab.open("/order/new", "sent to sign in")
    expect(page).to_have_url(re.compile(r"/account/sign-in\?next=/order/new$"))
    assert violations(page) == []
    with tab.expect_error(401):
        sign_in(tab, "dana", "not-her-password")
    expect(page.get_by_role("alert")).to_contain_text("The name or the password is wrong.")
    sign_in(tab, "dana", "danas-password")

    expect(page).to_have_url(re.compile(r"/order/new$"))
    expect(caller).to_have_text("Signed in as dana · Your account · Sign out")
    fill_customer_and_addresses(page)
    choose_line(page, 0, "iPod nano (1.00 EUR)", "2")
    tab.follow(lambda: page.get_by_role("button", name="Place order").click())
    expect(page.get_by_role("status").filter(has_text="has been placed")).to_be_visible()
    tab.open("/", "the landing page knows her too")
    expect(caller).to_have_text("Signed in as dana · Your account · Sign out")  # the same line
    tab.open("/invoicing/", "the same sign-in in invoicing")
    expect(page.get_by_role("heading", name="Invoices")).to_be_visible()
    with tab.expect_error(403):
        tab.open("/shipping/", "shipping is not for sales")
    expect(page.get_by_text("may not")).to_be_visible()

    tab.open("/")  # the landing page's line signs out as the services' pages do
    tab.follow(lambda: page.get_by_role("button", name="Sign out").click(), "signed out")
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    for path in ("/order/", "/invoicing/"):
        tab.open(path, "refused after signing out")
        expect(page).to_have_url(re.compile(r"/account/sign-in\?next="))
    tab.open("/", "the landing page after signing out")
    expect(caller.get_by_role("link", name="Sign in")).to_be_visible()


def session_token(tab) -> str:
    """The token of the browser's sign-in cookie."""
    [token] = [cookie["value"] for cookie in tab.page.context.cookies() if cookie["name"] == COOKIE]
    return token


def refused(system, token: str) -> bool:
    """Whether the order service refuses `token` by now: it learns of revoked tokens within
    seconds, from the account service's list."""
    answer = anonymous().get(f"{system.url}/order/", headers={"Authorization": f"Bearer {token}",
                                                               "Accept": "application/json"}, timeout=10)
    assert answer.status_code in (200, 401), answer.text
    return answer.status_code == 401


def test_signing_in_again_ends_the_browsers_older_session_and_signing_out_everywhere_ends_all(browse, stack_only):
    stack_only.users("add", "erin", "--role", "sales", "--password-stdin", stdin="erins-password")
    first, second = (browse(signed_in=None) for _ in range(2))
    # The second browser waits on a page that refreshes nothing in the background: a
    # list's refresh would meet the end of its session before the test looks.
    for tab, page in ((first, "/order/"), (second, "/account/")):
        tab.open(f"/account/sign-in?next={page}")
        sign_in(tab, "erin", "erins-password")
        expect(tab.page).to_have_url(re.compile(f"{page}$"))
    older = session_token(first)

    first.open("/account/sign-in?next=/order/", "signing in again in the same browser")
    sign_in(first, "erin", "erins-password")
    expect(first.page).to_have_url(re.compile(r"/order/$"))
    assert session_token(first) != older
    until(lambda: refused(stack_only, older), "the browser's older token refused")
    assert not refused(stack_only, session_token(second)), "another browser's session ended with it"

    first.open("/account/")
    first.follow(lambda: first.page.get_by_role("button", name="Sign out everywhere").click(), "signed out everywhere")
    expect(first.page.get_by_text("You are signed out.")).to_be_visible()
    with second.expect_error(401):  # from each worker as soon as its copy of the revoked list has it
        until(lambda: second.page.goto(second.url("/order/")).status == 401, "the other browser refused",
              every=0.5)
        second.landed("the other browser, signed out everywhere")
    expect(second.page.get_by_role("heading", name="Sign in again")).to_be_visible()
    expect(second.page.get_by_role("main")).to_contain_text("signed out everywhere")
    second.follow(lambda: second.page.get_by_role("main").get_by_role("link", name="Sign in").click())
    expect(second.page).to_have_url(re.compile(r"/account/sign-in\?next=/order/$"))


IDLE_SECONDS = 9  # a browser's sign-in, unused, on the system below


@pytest.fixture
def briefly_idle_system(tmp_path):
    """`msatom run` with sign-in on, where a browser's sign-in ends after 9 idle seconds,
    and an account `frank`."""
    running = msatom_running(tmp_path, SIGNING_KEY=SIGNING_KEY.hex(), SESSION_IDLE_SECONDS=str(IDLE_SECONDS))
    system = next(running)
    try:
        subprocess.run([str(MSATOM), "user", "add", "frank", "--role", "sales", "--password-stdin"], cwd=tmp_path,
                       env=msatom_env(), input="franks-password\n", capture_output=True, text=True, check=True)
        yield system
    finally:
        next(running, None)  # stops it


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_a_browser_in_use_stays_signed_in_and_one_left_idle_is_sent_to_sign_in(browse, briefly_idle_system):
    tab = browse(signed_in=None, system=briefly_idle_system)
    tab.open("/account/sign-in?next=/order/new")
    sign_in(tab, "frank", "franks-password")
    expect(tab.page).to_have_url(re.compile(r"/order/new$"))
    first = claims(session_token(tab))

    # In use: each page opened once a third of the sign-in's life has passed renews it.
    for page in ("/account/", "/order/new", "/account/", "/order/new", "/account/"):
        due = claims(session_token(tab))
        until(lambda: time.time() >= due["iat"] + (due["exp"] - due["iat"]) / 3, "the sign-in due for renewal",
              timeout=IDLE_SECONDS)
        tab.open(page, "renewed on the way")
        expect(tab.page).to_have_url(re.compile(f"{page}$"))
        expect(tab.page.get_by_role("banner")).to_contain_text("Signed in as frank")
    last = session_token(tab)
    assert time.time() > first["exp"], "the browser stayed signed in past its first token's end"
    assert claims(last)["jti"] == first["jti"] and claims(last)["auth_time"] == first["auth_time"]

    # Idle on a page that asks nothing in the background, until the sign-in has ended.
    until(lambda: time.time() >= claims(last)["exp"], "the idle sign-in ended", timeout=IDLE_SECONDS + 1)
    tab.open("/order/new", "sent to sign in again")
    expect(tab.page).to_have_url(re.compile(r"/account/sign-in\?next=/order/new$"))
    refused = anonymous().get(f"{briefly_idle_system.url}/order/new", timeout=10,
                              headers={"Authorization": f"Bearer {last}", "Accept": "application/json"})
    assert refused.status_code == 401 and "expired" in refused.json()["error"]
