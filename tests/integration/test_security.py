"""Forms carry a token only this site's pages know; the JSON API needs none; every
response carries the security headers."""
from __future__ import annotations

import re
from pathlib import Path

import lxml.html
import pytest
import requests
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import Client

from msatom.landing import create_landing_app
from tests.conftest import form_token
from tests.support.orders import order_form, order_request
from tests.integration.support import BROWSER_ACCEPT, browser_of, place_order

ROOT = Path(__file__).resolve().parents[2]
JSON = {"Accept": "application/json"}
REFUSED = "The form has expired or did not come from this site; reload the page and try again."
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
FORM = order_form()


def assert_refused_page(response) -> None:
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert REFUSED in lxml.html.fromstring(response.get_data(as_text=True)).text_content()


def assert_no_orders(client) -> None:
    assert client.get("/", headers=JSON).get_json() == []
    assert b"<entry" not in client.get("/feed").get_data()


@pytest.mark.parametrize("token", ["missing", "made up", "another visitor's"])
def test_an_order_form_without_the_visitors_own_token_is_refused_and_nothing_is_stored(order_app, browser, token):
    browser.get("/new")  # the visitor has seen a form, so has a session
    data = dict(FORM)
    if token == "made up":
        data["csrf_token"] = "IjEyMzQ1Ig.aBcDeF.made-up"
    elif token == "another visitor's":
        data["csrf_token"] = form_token(browser_of(order_app).get("/new").get_data(as_text=True))

    response = browser.post("/", data=data)

    assert_refused_page(response)
    assert_no_orders(browser)


@pytest.mark.parametrize("action", ["add-line", "remove-line-0"])
def test_the_line_buttons_need_the_token_too(browser, action):
    browser.get("/new")

    response = browser.post("/", data={**FORM, "lines-1-itemId": "1", "lines-1-count": "1", "action": action})

    assert_refused_page(response)


def test_cancel_without_the_token_is_refused_and_the_order_stays(browser):
    order_id = browser.post("/", json=order_request()).get_json()["id"]
    browser.get(f"/{order_id}")

    response = browser.post(f"/{order_id}/cancel", data={})

    assert_refused_page(response)
    assert browser.get(f"/{order_id}", headers=JSON).get_json()["status"] == "accepted"


def test_poll_now_without_the_token_is_refused_and_imports_nothing(order_url, consumer_app):
    place_order(order_url)
    browser = browser_of(consumer_app("invoicing", order_url + "/feed"))
    browser.get("/")

    response = browser.post("/poll", data={})

    assert_refused_page(response)
    assert browser.get("/", headers=JSON).get_json() == []


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"},
], ids=["foreign Origin", "null Origin", "Sec-Fetch-Site cross-site"])
def test_a_page_of_another_site_cannot_pass_as_a_json_client(order_app, headers):
    # fetch(url, {method: "POST", mode: "no-cors", headers: {Accept: "application/json"}}) needs no preflight.
    client = order_app.test_client()
    order_id = client.post("/", json=order_request()).get_json()["id"]

    cancel = client.post(f"/{order_id}/cancel", headers={**JSON, **headers})
    place = client.post("/", data=FORM, headers={**JSON, **headers})

    assert (cancel.status_code, cancel.get_json()) == (400, {"error": REFUSED})
    assert place.status_code == 400
    assert [order["status"] for order in client.get("/", headers=JSON).get_json()] == ["accepted"]


def test_the_json_api_needs_no_token(order_url, consumer_app):
    placed = requests.post(order_url + "/", json=order_request(), timeout=5)
    cancelled = requests.post(f"{order_url}/{placed.json()['id']}/cancel", headers=JSON, timeout=5)
    polled = consumer_app("invoicing", order_url + "/feed").test_client().post("/poll", headers=JSON)
    same_origin = requests.post(order_url + "/", json=order_request(), timeout=5,
                                headers={"Origin": order_url, "Sec-Fetch-Site": "same-origin"})

    assert placed.status_code == 201
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert (polled.status_code, polled.get_json()["imported"]) == (200, 2)  # placed and cancelled
    assert same_origin.status_code == 201


def test_a_form_stays_valid_while_the_visitor_looks_at_the_other_services(make_app, settings_for):
    # As in `msatom run` and behind Apache: the three services share one host and its cookies.
    apps = {name: make_app(name, settings_for(name, feed_url="http://127.0.0.1:9/feed"))
            for name in ("order", "invoicing", "shipping")}
    browser = Client(DispatcherMiddleware(create_landing_app(), {f"/{n}": a for n, a in apps.items()}))
    html = {"Accept": BROWSER_ACCEPT}
    token = form_token(browser.get("/order/new", headers=html).get_data(as_text=True))
    for page in ("/invoicing/", "/shipping/"):
        assert form_token(browser.get(page, headers=html).get_data(as_text=True))

    response = browser.post("/order/", data={**FORM, "csrf_token": token}, headers=html)

    assert response.status_code == 303


@pytest.fixture
def clients(order_app, make_app, settings_for):
    consumers = {name: make_app(name, settings_for(name, feed_url="http://127.0.0.1:9/feed"))
                 for name in ("invoicing", "shipping")}
    return {"order": order_app.test_client(), **{n: a.test_client() for n, a in consumers.items()},
            "landing": create_landing_app().test_client()}


@pytest.mark.parametrize("service, path, accept", [
    ("order", "/", BROWSER_ACCEPT), ("order", "/", "application/json"), ("order", "/new", BROWSER_ACCEPT),
    ("order", "/feed", "*/*"), ("order", "/feed/archive/1", "*/*"), ("order", "/42", BROWSER_ACCEPT),
    ("order", "/42", "application/json"), ("order", "/static/style.css", "*/*"), ("order", "/health", "*/*"),
    ("invoicing", "/", BROWSER_ACCEPT), ("invoicing", "/", "application/json"), ("invoicing", "/7", "*/*"),
    ("shipping", "/", BROWSER_ACCEPT), ("shipping", "/health", "*/*"), ("landing", "/", BROWSER_ACCEPT),
])
def test_every_response_carries_the_security_headers(clients, service, path, accept):
    response = clients[service].get(path, headers={"Accept": accept})

    assert {name: response.headers.get(name) for name in HEADERS} == HEADERS


def test_no_page_has_inline_script_or_style_that_the_policy_would_block():
    pages = [*ROOT.glob("*/templates/*.html"), *ROOT.glob("apache/htdocs/*.html")]
    inline = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=|javascript:", re.IGNORECASE)

    assert len(pages) >= 10
    assert [(page.name, inline.findall(page.read_text())) for page in pages if inline.search(page.read_text())] == []
