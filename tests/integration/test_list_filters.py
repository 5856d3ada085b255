"""The lists of orders, invoices and shipments find rows by status and by order number
or customer, from the URL's query, in HTML and in JSON; amounts carry their currency."""
from __future__ import annotations

import lxml.html
import pytest

from common import parts
from tests.support.orders import order_request
from tests.integration.support import BROWSER_ACCEPT

JSON = {"Accept": "application/json"}
HTML = {"Accept": BROWSER_ACCEPT}
NOUNS = {"order": "orders", "invoicing": "invoices", "shipping": "shipments"}


@pytest.fixture
def lists(order_app, order_url, consumer_app):
    """Test clients of the three lists, each holding order 1 (Eberhard Wolff), order 2
    (Rod Johnson, cancelled) and order 3 (Rod Johnson)."""
    orders = order_app.test_client()
    for customer in (1, 2, 2):
        assert orders.post("/", json=order_request(customer_id=customer)).status_code == 201
    assert orders.post("/2/cancel", headers=JSON).status_code == 200
    clients = {"order": orders}
    for service in ("invoicing", "shipping"):
        app = consumer_app(service, order_url + "/feed")
        assert parts.consumer(app).poll().imported == 4
        clients[service] = app.test_client()
    return clients


def ids(client, query: str) -> list[int]:
    response = client.get("/" + query, headers=JSON)
    assert response.status_code == 200, response.get_data(as_text=True)
    return [row["id"] for row in response.get_json()]


def page(client, query: str):
    response = client.get("/" + query, headers=HTML)
    assert response.status_code == 200
    return lxml.html.fromstring(response.get_data(as_text=True))


def text(element) -> str:
    return " ".join(element.text_content().split())


def status_filter(html):
    [nav] = html.xpath("//nav[@class='status-filter']")
    return nav


@pytest.mark.parametrize("service", NOUNS)
def test_a_status_shows_its_rows_among_the_counts_of_every_status(lists, service):
    html = page(lists[service], "?status=cancelled")

    nav = status_filter(html)
    assert text(nav) == "All 3 Accepted 2 Cancelled 1"
    assert [text(link) for link in nav.xpath(".//a[@aria-current='page']")] == ["Cancelled 1"]
    assert nav.xpath(".//a/@href") == ["/", "/?status=accepted", "/?status=cancelled"]
    rows = html.xpath("//table[contains(@class, 'list')]/tbody/tr")
    assert [row.get("class") for row in rows] == ["row-cancelled"]
    assert "2" in text(rows[0]) and "cancelled" in text(rows[0]).lower()
    assert ids(lists[service], "?status=cancelled") == [2]
    assert ids(lists[service], "?status=accepted") == [3, 1]


@pytest.mark.parametrize("service", NOUNS)
def test_a_search_finds_rows_by_the_customers_names_or_the_order_number(lists, service):
    client = lists[service]

    assert ids(client, "?q=johnson") == [3, 2]
    assert ids(client, "?q=EBER") == [1]
    assert ids(client, "?q=rod+3") == [3]
    assert ids(client, "?q=2") == [2]
    assert ids(client, "?status=cancelled&q=johnson") == [2]
    assert ids(client, "?q=johnson+wolff") == []


@pytest.mark.parametrize("service", NOUNS)
def test_the_counts_are_those_of_the_rows_the_search_finds_and_the_links_keep_it(lists, service):
    html = page(lists[service], "?q=johnson")

    nav = status_filter(html)
    assert text(nav) == "All 2 Accepted 1 Cancelled 1"
    assert nav.xpath(".//a/@href") == ["/?q=johnson", "/?status=accepted&q=johnson", "/?status=cancelled&q=johnson"]
    assert html.xpath("//form[@role='search']//input[@name='q']/@value") == ["johnson"]


@pytest.mark.parametrize("service", ["order", "invoicing"])
def test_orders_and_invoices_are_found_by_the_customers_email(lists, service):
    assert ids(lists[service], "?q=rod.johnson@") == [3, 2]


@pytest.mark.parametrize("query", ["?q=%25", "?q=_", "?q=%5C"])
def test_wildcards_in_a_search_are_plain_characters(lists, query):
    assert ids(lists["order"], query) == []


@pytest.mark.parametrize("service", NOUNS)
def test_a_search_that_finds_nothing_says_so_and_leads_back_to_every_row(lists, service):
    html = page(lists[service], "?status=cancelled&q=wolff")

    [nothing] = html.xpath("//p[contains(@class, 'nothing-found')]")
    noun = NOUNS[service]
    assert text(nothing) == f"No cancelled {noun} match “wolff”. Show all {noun}"
    assert nothing.xpath(".//a/@href") == ["/"]
    assert not html.xpath("//table[contains(@class, 'list')]")


@pytest.mark.parametrize("service", NOUNS)
@pytest.mark.parametrize("query, sentence", [
    ("?status=shipped", "The status must be one of accepted, cancelled; leave it out to see every status."),
    ("?status=cancelled&page=two", "The page must be a whole number from 1 to 2147483647."),
    ("?q=rod%00", "The search contains a control character; search by an order number or a name."),
])
def test_a_filter_the_list_cannot_apply_gets_400_with_a_sentence(lists, service, query, sentence):
    as_json = lists[service].get("/" + query, headers=JSON)
    as_html = lists[service].get("/" + query, headers=HTML)

    assert (as_json.status_code, as_json.get_json()["error"]) == (400, sentence)
    assert as_html.status_code == 400 and sentence in as_html.get_data(as_text=True)
    links = {text(link): link.get("href") for link in lxml.html.fromstring(as_html.get_data(as_text=True)).xpath("//main//a")}
    assert links["The same page without the choices in its address"] == "/"  # the list, all of it


def test_the_pages_of_a_filtered_list_keep_the_filter(order_app):
    client = order_app.test_client()
    for customer in [2] * 51 + [1]:
        assert client.post("/", json=order_request(customer_id=customer)).status_code == 201

    first = client.get("/?q=rod", headers=JSON)

    assert len(first.get_json()) == 50
    assert first.headers["Link"] == '<http://localhost/?q=rod&page=2>; rel="next"'
    second = client.get("/?q=rod&page=2", headers=JSON)
    assert [order["id"] for order in second.get_json()] == [1]
    assert second.headers["Link"] == '<http://localhost/?q=rod&page=1>; rel="prev"'
    [pager] = page(client, "?q=rod&page=2").xpath("//nav[@class='pager']")
    assert text(pager) == "Orders 51–51 of 51 ← Newer"
    assert pager.xpath(".//a/@href") == ["?q=rod&page=1"]


def test_orders_and_items_name_their_currency(lists):
    orders = lists["order"]

    order = orders.get("/1", headers=JSON).get_json()
    assert order["currency"] == "EUR" and order["lines"][0]["item"]["currency"] == "EUR"
    assert {item["currency"] for item in orders.get("/items", headers=JSON).get_json()} == {"EUR"}
    assert [text(cell) for cell in page(orders, "").xpath("//td[@data-label='Total']")] == ["84.00 EUR"] * 3
    assert page(orders, "1").xpath("//td[@data-total]/text()") == ["84.00 EUR"]
    assert "42.00 EUR" in text(page(orders, "items"))
    assert "2 items for 84.00 EUR" in text(page(orders, "3/cancel"))


def test_an_invoice_shows_its_amounts_in_the_currency_copied_from_the_order(lists):
    invoices = lists["invoicing"]

    assert invoices.get("/1", headers=JSON).get_json()["currency"] == "EUR"
    assert [text(cell) for cell in page(invoices, "").xpath("//td[@data-label='Total']")] == ["84.00 EUR"] * 3
    detail = page(invoices, "1")
    assert detail.xpath("//td[@data-total]/text()") == ["84.00 EUR"]
    assert [text(cell) for cell in detail.xpath("//tbody/tr/td[@class='number']")] == ["2", "42.00 EUR", "84.00 EUR"]
