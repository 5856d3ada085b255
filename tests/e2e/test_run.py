"""`msatom run` as a user meets it: a real process, real HTTP, real pollers."""
from __future__ import annotations

import json
import re
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from tests.conftest import form_token
from tests.support.orders import order_form, order_request
from tests.e2e.running import (
    BROWSER_ACCEPT, CURL_ACCEPT, MSATOM, MsatomRun, free_port, http, msatom_env, wait_for_json,
)

pytestmark = pytest.mark.e2e

ATOM = "{http://www.w3.org/2005/Atom}"


class Links(HTMLParser):
    """The href of every <a> and <link> in a page."""

    def __init__(self):
        super().__init__()
        self.anchors: list[str] = []
        self.stylesheets: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self.anchors.append(attributes["href"])
        if tag == "link" and attributes.get("rel") == "stylesheet":
            self.stylesheets.append(attributes["href"])


def links_of(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    return parser


def place_json_order(session, base_url, **kwargs) -> dict:
    response = session.post(f"{base_url}/order/", json=order_request(**kwargs), timeout=5)
    assert response.status_code == 201, response.text
    return response.json()


def orders_in_system(session, base_url) -> list[dict]:
    response = session.get(f"{base_url}/order/", headers={"Accept": "application/json"}, timeout=5)
    assert response.status_code == 200
    return response.json()


def assert_invoiced_and_shipped(session, base_url, order: dict) -> None:
    # The pollers run every second, but one that polled before the server listened backs off (2, 4, 8 s ...).
    invoice = wait_for_json(session, f"{base_url}/invoicing/{order['id']}")
    shipment = wait_for_json(session, f"{base_url}/shipping/{order['id']}")
    assert invoice["id"] == order["id"]
    assert invoice["totalAmount"] == order["totalPrice"]
    assert invoice["billingAddress"] == order["billingAddress"]
    assert [(line["count"], line["itemName"]) for line in invoice["lines"]] == \
        [(line["count"], line["item"]["name"]) for line in order["lines"]]
    assert shipment["id"] == order["id"]
    assert shipment["shippingAddress"] == order["shippingAddress"]
    assert [(line["count"], line["itemName"]) for line in shipment["lines"]] == \
        [(line["count"], line["item"]["name"]) for line in order["lines"]]


def test_an_order_placed_with_json_is_invoiced_and_shipped(base_url):
    session = http()
    response = session.post(f"{base_url}/order/", json=order_request(lines=((1, 2), (3, 1))), timeout=5)

    assert response.status_code == 201, response.text
    order = response.json()
    assert response.headers["Location"] == f"{base_url}/order/{order['id']}"
    assert_invoiced_and_shipped(session, base_url, order)


def test_an_order_placed_with_the_web_form_is_invoiced_and_shipped(base_url):
    session = http()
    form = order_form(customer_id="2", lines=(("2", "3"), ("4", "1")))
    new = session.get(f"{base_url}/order/new", headers={"Accept": BROWSER_ACCEPT}, timeout=5)
    form["csrf_token"] = form_token(new.text)
    response = session.post(f"{base_url}/order/", data=form, allow_redirects=False,
                            headers={"Accept": BROWSER_ACCEPT}, timeout=5)

    assert response.status_code == 303, response.text
    location = urljoin(f"{base_url}/order/", response.headers["Location"])
    order_id = int(re.fullmatch(r"/order/(\d+)", urlsplit(location).path)[1])  # the order's page
    shown = session.get(location, headers={"Accept": BROWSER_ACCEPT}, timeout=5)
    assert shown.status_code == 200
    assert "The order has been placed." in shown.text

    order = session.get(f"{base_url}/order/{order_id}", headers={"Accept": "application/json"},
                        timeout=5).json()
    assert order["customer"]["id"] == 2
    assert order["shippingAddress"] == {"street": "Ohlauer Str. 43", "zip": "10999", "city": "Berlin"}
    assert [(line["item"]["id"], line["count"]) for line in order["lines"]] == [(2, 3), (4, 1)]
    assert_invoiced_and_shipped(session, base_url, order)


def whole_feed(session, url: str) -> list[ET.Element]:
    """Every entry of the archived feed at `url` (RFC 5005): the subscription
    document and the archive pages its prev-archive links lead to."""
    entries = []
    while url:
        response = session.get(url, timeout=5)
        assert response.status_code == 200, url
        assert response.headers["Content-Type"].startswith("application/atom+xml"), url
        page = ET.fromstring(response.content)
        entries += page.findall(f"{ATOM}entry")
        prev = page.find(f"{ATOM}link[@rel='prev-archive']")
        url = urljoin(url, prev.get("href")) if prev is not None else None
    return entries


def test_the_feed_links_every_order_to_its_document_for_programs_and_its_page_for_people(base_url):
    session = http()
    placed = place_json_order(session, base_url)

    entries = whole_feed(session, f"{base_url}/order/feed")
    by_title = {entry.findtext(f"{ATOM}title"): entry for entry in entries}
    orders = orders_in_system(session, base_url)
    assert placed["id"] in [order["id"] for order in orders]
    assert len(entries) == len(orders)
    assert set(by_title) == {f"Order {order['id']} placed" for order in orders}

    for order in orders:
        entry = by_title[f"Order {order['id']} placed"]
        # absolute: scheme and host included
        assert entry.find(f"{ATOM}content").get("src") == f"{base_url}/order/{order['id']}/versions/1"
        assert entry.find(f"{ATOM}link[@rel='alternate']").get("href") == f"{base_url}/order/{order['id']}"

    entry = by_title[f"Order {placed['id']} placed"]
    as_curl = session.get(entry.find(f"{ATOM}content").get("src"), headers={"Accept": CURL_ACCEPT}, timeout=5)
    assert as_curl.status_code == 200
    assert as_curl.headers["Content-Type"].startswith("application/json")
    assert as_curl.json() == placed

    as_browser = session.get(entry.find(f"{ATOM}link[@rel='alternate']").get("href"),
                             headers={"Accept": BROWSER_ACCEPT}, timeout=5)
    assert as_browser.status_code == 200
    assert as_browser.headers["Content-Type"].startswith("text/html")
    assert "<html" in as_browser.text
    assert f"Order {placed['id']}" in as_browser.text


def test_the_landing_page_leads_to_three_working_web_uis(base_url):
    session = http()
    landing = session.get(f"{base_url}/", headers={"Accept": BROWSER_ACCEPT}, timeout=5)

    assert landing.status_code == 200
    assert landing.headers["Content-Type"].startswith("text/html")
    anchors = links_of(landing.text).anchors
    for root, heading in (("/order/", "<h1>Orders</h1>"), ("/invoicing/", "<h1>Invoices</h1>"),
                          ("/shipping/", "<h1>Shipments</h1>")):
        assert root in anchors
        page = session.get(urljoin(f"{base_url}/", root), headers={"Accept": BROWSER_ACCEPT}, timeout=5)
        assert page.status_code == 200, root
        assert page.headers["Content-Type"].startswith("text/html"), root
        assert heading in page.text
        stylesheets = links_of(page.text).stylesheets
        assert stylesheets, f"{root} links no stylesheet"
        for href in stylesheets:
            style = session.get(urljoin(f"{base_url}{root}", href), timeout=5)
            assert style.status_code == 200, f"{root} links the stylesheet {href}, which answers {style.status_code}"
            assert style.headers["Content-Type"].startswith("text/css")


def test_ctrl_c_stops_the_whole_system_cleanly(tmp_path):
    system = MsatomRun(tmp_path)
    try:
        system.wait_until_healthy()
        # Let it do real work first: an order that both pollers import.
        session = http()
        order = place_json_order(session, system.url)
        assert_invoiced_and_shipped(session, system.url, order)
    except BaseException:
        system.interrupt(timeout=5)
        raise

    code = system.interrupt(timeout=30)

    output = system.output()
    assert code is not None, f"msatom run did not exit within 30 s of SIGINT; its output:\n{output[-5000:]}"
    assert code == 0, f"msatom run exited with {code}; its output:\n{output[-5000:]}"
    assert "Traceback" not in output, output[-5000:]
    assert (tmp_path / "var" / "order.db").is_file()


def poll_once(folder, feed_url: str, database: str) -> tuple[int, dict, str]:
    """`msatom poll invoicing`: its exit code, the JSON it printed, its output."""
    result = subprocess.run(
        [str(MSATOM), "poll", "invoicing"], cwd=folder, capture_output=True, text=True, timeout=30,
        env=msatom_env(ORDER_FEED_URL=feed_url, DATABASE_URL=f"sqlite:///{database}"),
    )
    output = f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert lines, f"msatom poll printed nothing; {output}"
    try:
        printed = json.loads(lines[-1])
    except ValueError:
        raise AssertionError(f"msatom poll did not print a JSON line; {output}") from None
    return result.returncode, printed, output


def test_poll_command_imports_once_then_reports_nothing_new(base_url, tmp_path):
    session = http()
    place_json_order(session, base_url)
    orders = orders_in_system(session, base_url)
    database = tmp_path / "inv.db"

    code, printed, output = poll_once(tmp_path, f"{base_url}/order/feed", database)
    assert code == 0, output
    assert printed["status"] == 200, output
    assert printed["imported"] == len(orders), output

    code, printed, output = poll_once(tmp_path, f"{base_url}/order/feed", database)
    assert code == 0, output
    assert printed["status"] == 304, output
    assert printed["imported"] == 0, output


def test_poll_command_fails_when_the_feed_cannot_be_reached(tmp_path):
    code, printed, output = poll_once(tmp_path, f"http://127.0.0.1:{free_port()}/order/feed",
                                      tmp_path / "inv.db")

    assert code != 0, output
    assert printed["status"] == "error", output
    assert printed["message"], output
