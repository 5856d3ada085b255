"""The production stack, for real: PostgreSQL, the services under gunicorn and
Apache httpd in front, all on loopback ports."""
from __future__ import annotations

import re
import time
from urllib.parse import urljoin

import feedparser
import pytest
import requests
from lxml import etree

from tests.conftest import form_token
from tests.support.orders import order_form, order_request
from tests.e2e.running import BROWSER_ACCEPT, http, wait_for_json

pytestmark = pytest.mark.e2e
ATOM = "{http://www.w3.org/2005/Atom}"


def place_json(session, stack) -> requests.Response:
    response = session.post(f"{stack.url}/order/", json=order_request(lines=((1, 1), (3, 4))),
                            allow_redirects=False, timeout=10)
    assert response.status_code == 201, response.text
    return response


def test_a_json_order_through_apache_becomes_an_invoice_and_a_shipment(stack):
    session = http()
    response = place_json(session, stack)
    order = response.json()

    assert response.headers["Location"] == f"{stack.url}/order/{order['id']}"
    invoice = wait_for_json(session, f"{stack.url}/invoicing/{order['id']}")
    shipment = wait_for_json(session, f"{stack.url}/shipping/{order['id']}")
    assert invoice["totalAmount"] == order["totalPrice"]
    assert shipment["shippingAddress"] == order["shippingAddress"]


def test_a_form_order_through_apache_redirects_on_the_proxy_and_is_imported(stack):
    session = http()
    form = order_form(customer_id="2")
    new = session.get(f"{stack.url}/order/new", headers={"Accept": BROWSER_ACCEPT}, timeout=10)
    form["csrf_token"] = form_token(new.text)

    response = session.post(f"{stack.url}/order/", data=form, allow_redirects=False,
                            headers={"Accept": BROWSER_ACCEPT}, timeout=10)

    assert response.status_code == 303
    target = urljoin(f"{stack.url}/order/", response.headers["Location"])
    assert re.fullmatch(rf"{re.escape(stack.url)}/order/\d+", target)  # the order's page
    order_id = int(target.rsplit("/", 1)[1])
    page = session.get(target, headers={"Accept": BROWSER_ACCEPT}, timeout=10)
    assert "The order has been placed." in page.text and f"Order {order_id}" in page.text
    invoice = wait_for_json(session, f"{stack.url}/invoicing/{order_id}")
    assert invoice["totalAmount"] == "63.00"


def test_the_feed_through_apache_links_to_the_proxy(stack):
    session = http()
    place_json(session, stack)

    response = session.get(f"{stack.url}/order/feed", timeout=10)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/atom+xml"
    feed = etree.fromstring(response.content)
    links = [feed.find(f"{ATOM}link[@rel='self']").get("href")]
    for entry in feed.iter(f"{ATOM}entry"):
        links += [entry.find(f"{ATOM}content").get("src"), entry.find(f"{ATOM}link").get("href")]
    assert links and all(link.startswith(f"{stack.url}/order/") for link in links), links
    assert not feedparser.parse(response.content).bozo


def test_a_conditional_get_through_apache_gets_304(stack):
    session = http()
    place_json(session, stack)
    # Once the newest order's second is over, Last-Modified is final: a wait for the
    # wall clock itself (the order was stamped before its answer came), not for the system.
    time.sleep(1.1)
    first = session.get(f"{stack.url}/order/feed", timeout=10)

    by_etag = session.get(f"{stack.url}/order/feed", headers={"If-None-Match": first.headers["ETag"]}, timeout=10)
    by_date = session.get(f"{stack.url}/order/feed",
                          headers={"If-Modified-Since": first.headers["Last-Modified"]}, timeout=10)

    assert (by_etag.status_code, by_etag.content) == (304, b"")
    assert (by_date.status_code, by_date.content) == (304, b"")
    place_json(session, stack)
    after = session.get(f"{stack.url}/order/feed", headers={"If-None-Match": first.headers["ETag"]}, timeout=10)
    assert after.status_code == 200


def test_the_landing_page_links_to_the_three_services(stack):
    session = http()
    page = session.get(f"{stack.url}/", timeout=10)

    assert page.status_code == 200
    for path in ("/order/", "/invoicing/", "/shipping/"):
        assert f'href="{path}"' in page.text
        assert session.get(f"{stack.url}{path}", headers={"Accept": BROWSER_ACCEPT}, timeout=10).status_code == 200
    assert session.get(f"{stack.url}/static/style.css", timeout=10).headers["Content-Type"].startswith("text/css")
    redirect = session.get(f"{stack.url}/invoicing", allow_redirects=False, timeout=10)
    assert redirect.status_code == 301 and redirect.headers["Location"].endswith("/invoicing/")


@pytest.mark.parametrize("path", ["/server-status", "/server-info", "/balancer-manager", "/.htaccess"])
def test_nothing_administrative_is_reachable(stack, path):
    assert http().get(f"{stack.url}{path}", timeout=10).status_code == 404


def test_trace_is_refused(stack):
    assert http().request("TRACE", f"{stack.url}/", timeout=10).status_code == 405
