"""Long lists come a page at a time, in HTML and in JSON, on PostgreSQL as on SQLite."""
from __future__ import annotations

import lxml.html
import pytest

from tests.support.orders import order_request
from tests.integration.support import BROWSER_ACCEPT

JSON = {"Accept": "application/json"}


@pytest.fixture
def hundred_and_one_orders(make_app, settings_for, database_url):
    """The order service on each engine, holding 101 orders."""
    client = make_app("order", settings_for("order", database_url=database_url)).test_client()
    for _ in range(101):
        assert client.post("/", json=order_request()).status_code == 201
    return client


def test_json_pages_link_to_their_neighbours_and_together_list_every_order_once(hundred_and_one_orders):
    client = hundred_and_one_orders
    first = client.get("/", headers=JSON)

    assert len(first.get_json()) == 50
    assert first.headers["Link"] == '<http://localhost/?page=2>; rel="next"'
    middle = client.get("/?page=2", headers=JSON)
    assert middle.headers["Link"] == '<http://localhost/?page=1>; rel="prev", <http://localhost/?page=3>; rel="next"'
    last = client.get("/?page=3", headers=JSON)
    assert last.headers["Link"] == '<http://localhost/?page=2>; rel="prev"'
    ids = [order["id"] for page in (first, middle, last) for order in page.get_json()]
    assert ids == list(range(101, 0, -1))


def test_the_html_page_says_which_orders_it_shows_and_leads_to_older_ones(hundred_and_one_orders):
    response = hundred_and_one_orders.get("/?page=2", headers={"Accept": BROWSER_ACCEPT})

    page = lxml.html.fromstring(response.get_data(as_text=True))
    [pager] = page.xpath("//nav[@class='pager']")
    assert " ".join(pager.text_content().split()) == "Orders 51–100 of 101 ← Newer Older →"
    assert pager.xpath(".//a/@href") == ["?page=1", "?page=3"]
    assert len(page.xpath("//table[contains(@class, 'list')]/tbody/tr")) == 50


def test_a_short_list_has_no_pager_and_no_links(order_app):
    client = order_app.test_client()
    client.post("/", json=order_request())

    response = client.get("/", headers={"Accept": BROWSER_ACCEPT})

    assert "Link" not in response.headers
    assert not lxml.html.fromstring(response.get_data(as_text=True)).xpath("//nav[@class='pager']")


@pytest.mark.parametrize("query, status, error", [
    ("?page=zero", 400, "The page must be a whole number from 1 to 2147483647."),
    ("?page=2", 404, "There is no page 2; the list has 1."),
])
def test_a_page_that_does_not_exist_gets_a_sentence(order_app, query, status, error):
    response = order_app.test_client().get("/" + query, headers=JSON)

    assert response.status_code == status
    assert response.get_json()["error"] == error


def test_a_browser_asking_for_a_bad_page_gets_the_sentence_on_an_html_page(order_app):
    response = order_app.test_client().get("/?page=zero", headers={"Accept": BROWSER_ACCEPT})

    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "The page must be a whole number from 1 to 2147483647." in response.get_data(as_text=True)
