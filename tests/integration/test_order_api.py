"""The order service's API and web UI: placing orders, reading them, refusing bad input."""
from __future__ import annotations

import re
from ipaddress import ip_network

import lxml.html
import pytest
import requests
from lxml import etree

from tests.support.orders import order_form, order_request
from tests.integration.support import (ATOM, BROWSER_ACCEPT, assert_nothing_changed, assert_refused, client_get,
                                       feed_state, place_order, post_form)

MONEY = re.compile(r"^\d+\.\d{2}$")


def get_json(url: str, **kwargs) -> requests.Response:
    return requests.get(url, headers={"Accept": "*/*"}, timeout=5, **kwargs)


# --- placing and reading an order ---------------------------------------------------

def test_post_json_creates_the_order_with_its_absolute_location(order_url):
    response = requests.post(order_url + "/", json=order_request(lines=((1, 2), (3, 1))), timeout=5)

    assert response.status_code == 201
    order = response.json()
    assert response.headers["Location"] == f"{order_url}/{order['id']}"
    assert order["customer"] == {"id": 1, "firstname": "Eberhard", "name": "Wolff",
                                 "email": "eberhard.wolff@example.com"}
    assert order["shippingAddress"] == {"street": "Ohlauer Str. 43", "zip": "10999", "city": "Berlin"}
    assert order["billingAddress"] == {"street": "Krischerstr. 100", "zip": "40789",
                                       "city": "Monheim am Rhein"}
    assert [(line["count"], line["item"]["id"], line["item"]["price"]) for line in order["lines"]] == [
        (2, 1, "42.00"), (1, 3, "1.00")]
    assert order["totalPrice"] == "85.00"
    assert (order["status"], order["version"]) == ("accepted", 1)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", order["updated"])
    # The Location answers with that same order.
    assert get_json(response.headers["Location"]).json() == order


def test_an_order_is_json_for_curl_and_html_for_a_browser(order_url):
    order = place_order(order_url)
    url = f"{order_url}/{order['id']}"

    as_json = get_json(url)
    as_html = requests.get(url, headers={"Accept": BROWSER_ACCEPT}, timeout=5)

    assert as_json.status_code == 200
    assert as_json.headers["Content-Type"].startswith("application/json")
    assert as_json.json()["id"] == order["id"]
    assert as_html.status_code == 200
    assert as_html.headers["Content-Type"].startswith("text/html")
    page = lxml.html.fromstring(as_html.text)
    assert f"Order {order['id']}" in page.findtext(".//h1")
    assert "Ohlauer Str. 43" in as_html.text


def test_an_order_reads_back_as_it_was_placed_on_every_database(make_app, settings_for, database_url):
    app = make_app("order", settings_for("order", database_url=database_url))
    client = app.test_client()
    lines = ((4, 1), (1, 2), (3, 5), (1, 1))  # not by item, an item twice

    placed = client.post("/", json=order_request(customer_id=2, lines=lines))
    read = client.get(placed.headers["Location"], headers={"Accept": "application/json"})

    assert placed.status_code == 201
    assert [(line["item"]["id"], line["count"]) for line in placed.get_json()["lines"]] == list(lines)
    assert read.get_json() == placed.get_json()


def test_an_unknown_order_is_a_404_with_a_json_error(order_url):
    response = get_json(order_url + "/999")

    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/json")
    assert "999" in response.json()["error"]


def test_the_catalog_is_seeded_with_ids_from_1(order_url):
    customers = get_json(order_url + "/customers").json()
    items = get_json(order_url + "/items").json()

    assert len(customers) >= 2 and len(items) >= 4
    assert [c["id"] for c in customers] == list(range(1, len(customers) + 1))
    assert [i["id"] for i in items] == list(range(1, len(items) + 1))
    assert all(c["firstname"] and c["name"] and "@" in c["email"] for c in customers)
    assert all(i["name"] and MONEY.match(i["price"]) for i in items)


# --- bad input ------------------------------------------------------------------------

def without(key: str, field: str) -> dict:
    request = order_request()
    del request[key][field]
    return request


def with_lines(*lines) -> dict:
    return {**order_request(), "lines": list(lines)}


BAD_JSON_ORDERS = {
    "empty order": ({}, {"customerId", "lines", "shippingAddress.street", "billingAddress.city"}),
    "no lines": (with_lines(), {"lines"}),
    "count 0": (with_lines({"itemId": 1, "count": 0}), {"lines[0].count"}),
    "count -1": (with_lines({"itemId": 1, "count": -1}), {"lines[0].count"}),
    "unknown item": (with_lines({"itemId": 1, "count": 1}, {"itemId": 99, "count": 1}), {"lines[1].itemId"}),
    "unknown customer": ({**order_request(), "customerId": 99}, {"customerId"}),
    "missing address field": (without("billingAddress", "zip"), {"billingAddress.zip"}),
}


# Each case runs on its own fresh service; the cases that are about the raw bytes of a
# request go over loopback HTTP, the others through the app's WSGI test client (the same
# app and database, without the half second a live server takes to stop).

@pytest.fixture
def api(order_app):
    client = order_app.test_client()
    client.post("/", json=order_request())  # so that the feed has an ETag a new order would change
    return client


@pytest.mark.parametrize("case", BAD_JSON_ORDERS)
def test_bad_json_order_is_refused_and_nothing_is_stored(api, case):
    before = feed_state(client_get(api))
    data, fields = BAD_JSON_ORDERS[case]

    response = api.post("/", json=data)

    assert_refused(response, fields)
    assert_nothing_changed(client_get(api), before)


def test_unknown_item_error_names_the_item(api):
    response = api.post("/", json=with_lines({"itemId": 99, "count": 1}))

    assert response.status_code == 400
    assert "99" in response.get_json()["details"]["lines[0].itemId"]


@pytest.mark.parametrize("body, content_type", [
    (b'{"customerId": 1, "lines": [', "application/json"),
    (b"customerId=1", "text/plain"),
], ids=["malformed JSON", "not JSON content type"])
def test_a_body_that_is_not_a_json_order_is_refused(order_url, body, content_type):
    place_order(order_url)

    def get(path, headers):
        return requests.get(order_url + path, headers=headers, timeout=5)

    before = feed_state(get)

    response = requests.post(order_url + "/", data=body, headers={"Content-Type": content_type}, timeout=5)

    assert_refused(response, {"body"})
    assert_nothing_changed(get, before)


# --- the HTML form flow -----------------------------------------------------------------



def line_rows(page) -> list[tuple[str, str]]:
    """(chosen item id, count) of each line the form shows."""
    rows = []
    for line in page.xpath("//fieldset[@id='lines']//div[@class='line']"):
        chosen = line.xpath(".//select/option[@selected]/@value")
        count = line.xpath(".//input[contains(@name, '-count')]/@value")
        rows.append((chosen[0] if chosen else "", count[0]))
    return rows


def test_a_valid_form_leads_to_the_new_order_with_a_notice(browser):
    response = post_form(browser, order_form())

    assert response.status_code == 303
    shown = browser.get(response.headers["Location"])
    assert shown.status_code == 200
    page = lxml.html.fromstring(shown.get_data(as_text=True))
    assert page.xpath("string(//*[@role='status'])").strip().startswith("The order has been placed.")
    order = browser.get(response.headers["Location"], headers={"Accept": "application/json"}).get_json()
    assert order["lines"][0]["count"] == 3
    assert order["lines"][0]["item"]["id"] == 2
    assert page.xpath("string(//h1)").split()[:2] == ["Order", str(order["id"])]


def test_an_invalid_form_shows_the_errors_next_to_the_fields_and_keeps_the_typed_values(browser):
    typed_street = "Grüner Weg 7 <Hinterhaus>"
    data = order_form(**{"shippingAddress.street": typed_street, "billingAddress.city": "",
                        "lines-0-itemId": None, "lines-0-count": None})

    response = post_form(browser, data)

    assert response.status_code == 400
    assert response.mimetype == "text/html"
    page = lxml.html.fromstring(response.get_data(as_text=True))
    assert page.get_element_by_id("shippingAddress.street").get("value") == typed_street
    assert page.get_element_by_id("billingAddress.zip").get("value") == "40789"
    city = page.get_element_by_id("billingAddress.city")
    assert city.get("aria-invalid") == "true"
    assert "city" in page.get_element_by_id("billingAddress.city-error").text_content()
    assert "line" in page.get_element_by_id("lines-error").text_content()
    assert page.xpath("//*[@role='alert']")
    assert browser.get("/", headers={"Accept": "application/json"}).get_json() == []


def test_an_invalid_count_in_the_form_is_shown_on_that_line(browser):
    response = post_form(browser, order_form(**{"lines-0-count": "0"}))

    assert response.status_code == 400
    page = lxml.html.fromstring(response.get_data(as_text=True))
    line = page.xpath("//fieldset[@id='lines']//div[contains(@class, 'line')]")[0]
    assert "1 to" in line.xpath(".//span[@class='field-error']")[0].text_content()
    assert line_rows(page) == [("2", "0")]
    assert browser.get("/", headers={"Accept": "application/json"}).get_json() == []


def test_add_line_renders_the_form_with_one_more_line(browser):
    response = post_form(browser, order_form(action="add-line"))

    assert response.status_code == 200
    page = lxml.html.fromstring(response.get_data(as_text=True))
    assert line_rows(page) == [("2", "3"), ("", "1")]
    assert page.get_element_by_id("shippingAddress.street").get("value") == "Ohlauer Str. 43"
    assert browser.get("/", headers={"Accept": "application/json"}).get_json() == []


def test_remove_line_renders_the_form_with_one_fewer_line(browser):
    data = order_form(**{"lines-1-itemId": "4", "lines-1-count": "5", "action": "remove-line-0"})

    response = post_form(browser, data)

    assert response.status_code == 200
    page = lxml.html.fromstring(response.get_data(as_text=True))
    assert line_rows(page) == [("4", "5")]
    assert browser.get("/", headers={"Accept": "application/json"}).get_json() == []


# --- behind a proxy -------------------------------------------------------------------------

PROXY = {"X-Forwarded-Host": "shop.example.com", "X-Forwarded-Proto": "https",
         "X-Forwarded-Prefix": "/order", "X-Forwarded-For": "203.0.113.9"}


def test_location_and_feed_links_follow_the_forwarded_host_scheme_and_prefix(make_app, settings_for):
    # Believed from a trusted proxy only (here the test client's peer, 127.0.0.1), for a site in PUBLIC_URL.
    order_app = make_app("order", settings_for("order", trusted_proxies=(ip_network("127.0.0.1"),),
                                               public_url=("https://shop.example.com",)))
    client = order_app.test_client()

    placed = client.post("/", json=order_request(), headers=PROXY)
    feed = client.get("/feed", headers=PROXY)

    assert placed.status_code == 201
    order_id = placed.get_json()["id"]
    assert placed.headers["Location"] == f"https://shop.example.com/order/{order_id}"
    root = etree.fromstring(feed.get_data())
    ns = {"a": ATOM}
    assert root.xpath("a:link[@rel='self']/@href", namespaces=ns) == ["https://shop.example.com/order/feed"]
    entry = root.xpath("a:entry", namespaces=ns)[0]
    assert entry.xpath("a:content/@src", namespaces=ns) == [f"https://shop.example.com/order/{order_id}/versions/1"]
    assert entry.xpath("a:link[@rel='alternate']/@href", namespaces=ns) == [
        f"https://shop.example.com/order/{order_id}"]
