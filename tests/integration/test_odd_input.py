"""Odd input from the open internet, on PostgreSQL as on SQLite: each is refused with a
400 that names the field (or, for an id out of range, not found), and nothing is stored."""
from __future__ import annotations

import json

import lxml.html
import pytest

from tests.conftest import form_token
from tests.support.orders import order_form, order_request
from tests.integration.support import (BROWSER_ACCEPT, assert_nothing_changed, assert_refused, client_get,
                                       feed_state)


def with_value(path: str, value) -> dict:
    """A valid order request with the value at `path` ("shippingAddress.street", "lines.0.count") replaced."""
    request = order_request()
    *outer, last = path.split(".")
    target = request
    for key in outer:
        target = target[int(key) if key.isdigit() else key]
    target[last] = value
    return request


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


# case: (JSON body, the field named, a part of its sentence)
ODD_JSON = {
    "NUL in a street": (with_value("shippingAddress.street", "Ohlauer\x00Str. 43"), "shippingAddress.street",
                        "The street of the shipping address contains a control character."),
    "lone surrogate": (with_value("shippingAddress.street", "a\ud800b"), "shippingAddress.street",
                       "The street of the shipping address contains an invalid character"),
    "bell in a city": (with_value("billingAddress.city", "Ber\x07lin"), "billingAddress.city",
                       "The city of the billing address contains a control character."),
    "line break in a ZIP code": (with_value("billingAddress.zip", "40\n789"), "billingAddress.zip",
                                 "contains a control character"),
    "right-to-left override": (with_value("shippingAddress.zip", "\u202e99901"), "shippingAddress.zip",
                               "The ZIP code of the shipping address contains a character that changes the direction"),
    "isolate": (with_value("billingAddress.street", "\u2066Main St\u2069"), "billingAddress.street",
                "changes the direction of the text"),
    "only zero-width characters": (with_value("shippingAddress.street", "\u200b\u200b"), "shippingAddress.street",
                                   "Enter the street of the shipping address."),
    "only a Hangul filler and a BOM": (with_value("shippingAddress.city", "\u3164\ufeff"), "shippingAddress.city",
                                       "Enter the city of the shipping address."),
    "customer in Arabic-Indic digits": (with_value("customerId", "\u0663"), "customerId", "Choose a customer."),
    "customer with 5000 digits": (with_value("customerId", "1" * 5000), "customerId", "Choose a customer."),
    "item beyond the database integer": (with_value("lines.0.itemId", "9223372036854775808"), "lines[0].itemId",
                                         "Choose an item."),
    "count in superscript digits": (with_value("lines.0.count", "\u00b2"), "lines[0].count", "The count must be"),
    "JSON nested 100,000 deep": (nested(100_000), "body", "nested more than 32 levels deep"),
}


@pytest.fixture
def api(make_app, settings_for, database_url):
    """The order service on each engine, holding one order (so that the feed has an ETag)."""
    client = make_app("order", settings_for("order", database_url=database_url)).test_client()
    assert client.post("/", json=order_request()).status_code == 201
    return client


@pytest.mark.parametrize("case", ODD_JSON)
def test_odd_json_is_refused_naming_the_field_and_nothing_is_stored(api, case):
    body, field, sentence = ODD_JSON[case]
    before = feed_state(client_get(api))

    response = api.post("/", data=body if isinstance(body, str) else json.dumps(body),
                        content_type="application/json")

    assert_refused(response, {field})
    assert sentence in response.get_json()["details"][field]
    assert_nothing_changed(client_get(api), before)


@pytest.mark.parametrize("page", ["1e30", "9223372036854775807", "2147483648", "%C2%B2", "%D9%A3", "1" * 5000])
def test_an_odd_page_number_is_refused_naming_the_page(api, page):
    response = api.get(f"/?page={page}", headers={"Accept": "application/json"})

    assert_refused(response, {"page"})
    assert response.get_json()["error"] == "The page must be a whole number from 1 to 2147483647."


def numbered_line(number: str) -> dict:
    """The form's one line, numbered `number` instead of 0."""
    return {"lines-0-itemId": None, "lines-0-count": None, f"lines-{number}-itemId": "2", f"lines-{number}-count": "1"}


# case: (form fields changed, the id of the message on the page, a part of the message)
ODD_FORMS = {
    "NUL in a street": ({"shippingAddress.street": "Ohlauer\x00Str. 43"}, "shippingAddress.street-error",
                        "contains a control character"),
    "right-to-left override in a city": ({"billingAddress.city": "Monheim\u202e"}, "billingAddress.city-error",
                                         "changes the direction of the text"),
    "only zero-width characters": ({"shippingAddress.street": "\u200b\u200b"}, "shippingAddress.street-error",
                                   "Enter the street"),
    "a line numbered in superscript digits": (numbered_line("\u00b2"), "lines-error", "Add at least one line"),
    "a line numbered in Arabic-Indic digits": (numbered_line("\u0663"), "lines-error", "Add at least one line"),
    "a line numbered past the limit": (numbered_line("100"), "lines-error", "Add at least one line"),
}


def form(changes: dict) -> dict:
    return order_form(lines=(("1", "1"),), **changes)


@pytest.mark.parametrize("case", ODD_FORMS)
def test_an_odd_form_is_shown_again_with_the_message_at_the_field(api, case):
    changes, message_id, message = ODD_FORMS[case]
    before = feed_state(client_get(api))
    token = form_token(api.get("/new", headers={"Accept": BROWSER_ACCEPT}).get_data(as_text=True))

    response = api.post("/", data={**form(changes), "csrf_token": token}, headers={"Accept": BROWSER_ACCEPT})

    assert response.status_code == 400 and response.mimetype == "text/html"
    page = lxml.html.fromstring(response.get_data(as_text=True))
    assert message in page.get_element_by_id(message_id).text_content()
    assert_nothing_changed(client_get(api), before)


@pytest.mark.parametrize("action", ["remove-line-\u00b2", "remove-line-\u0663", "remove-line-99999999999999999999"])
def test_removing_an_odd_line_number_removes_nothing(api, action):
    token = form_token(api.get("/new", headers={"Accept": BROWSER_ACCEPT}).get_data(as_text=True))
    data = {**form({"lines-1-itemId": "2", "lines-1-count": "3", "action": action}), "csrf_token": token}

    response = api.post("/", data=data, headers={"Accept": BROWSER_ACCEPT})

    assert response.status_code == 200
    page = lxml.html.fromstring(response.get_data(as_text=True))
    assert len(page.xpath("//fieldset[@id='lines']//div[@class='line']")) == 2


def test_a_form_at_the_line_limit_adds_no_line_and_says_so(api):
    token = form_token(api.get("/new", headers={"Accept": BROWSER_ACCEPT}).get_data(as_text=True))
    lines = {f"lines-{index}-{name}": "1" for index in range(100) for name in ("itemId", "count")}
    data = {**form({**lines, "action": "add-line"}), "csrf_token": token}

    response = api.post("/", data=data, headers={"Accept": BROWSER_ACCEPT})

    assert response.status_code == 400
    page = lxml.html.fromstring(response.get_data(as_text=True))
    assert "An order has at most 100 lines." in page.get_element_by_id("lines-error").text_content()
    assert len(page.xpath("//fieldset[@id='lines']//div[@class='line']")) == 100


OUT_OF_RANGE = ["%D9%A1", "%EF%BC%91", "2147483648", "99999999999999999999"]  # ١, fullwidth 1, past integer


@pytest.mark.parametrize("path", ["/{}", "/1/versions/{}", "/{}/versions/1", "/feed/archive/{}",
                                  "/feed/after/{}"])
@pytest.mark.parametrize("number", OUT_OF_RANGE)
def test_an_order_id_position_or_page_out_of_range_is_not_found(api, path, number):
    before = feed_state(client_get(api))

    response = api.get(path.format(number), headers={"Accept": "application/json"})

    assert response.status_code == 404
    assert response.get_json()["error"].endswith(".")
    assert_nothing_changed(client_get(api), before)


@pytest.mark.parametrize("number", OUT_OF_RANGE)
def test_cancelling_an_order_out_of_range_is_not_found_and_changes_nothing(api, number):
    before = feed_state(client_get(api))

    response = api.post(f"/{number}/cancel", headers={"Accept": "application/json"})

    assert response.status_code == 404
    assert_nothing_changed(client_get(api), before)


@pytest.mark.parametrize("service", ["invoicing", "shipping"])
@pytest.mark.parametrize("method, path", [("GET", "/{}"), ("POST", "/rejected/{}/retry")])
def test_a_consumer_finds_nothing_out_of_range(make_app, settings_for, database_url, service, method, path):
    settings = settings_for(service, database_url=database_url, feed_url="http://127.0.0.1:9/feed")
    client = make_app(service, settings).test_client()

    for number in OUT_OF_RANGE:
        response = client.open(path.format(number), method=method, headers={"Accept": "application/json"})

        assert response.status_code == 404, number
        assert response.get_json()["error"].endswith(".")
