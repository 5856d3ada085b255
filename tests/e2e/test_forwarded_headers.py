"""Forwarded headers on the real stack (PostgreSQL, gunicorn, Apache): a client's
X-Forwarded-* and Forwarded headers change no link, whether sent through Apache
(which replaces them) or straight to the order service's gunicorn (which trusts
only Apache's address); Apache's own still give links on its host under /order."""
from __future__ import annotations

import pytest
from lxml import etree

from common.feed import HISTORY_NS
from tests.support.orders import order_request
from tests.e2e.running import http

pytestmark = pytest.mark.e2e

SPOOFED = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https", "X-Forwarded-Port": "6666",
           "X-Forwarded-Prefix": "/poisoned", "X-Forwarded-For": "203.0.113.66", "X-Forwarded-Server": "evil",
           "Forwarded": "for=203.0.113.66;host=evil.example;proto=https"}


def place(session, base_url: str, headers: dict[str, str]) -> str:
    """A new order; its Location."""
    response = session.post(f"{base_url}/", json=order_request(), headers=headers, allow_redirects=False,
                            timeout=10)
    assert response.status_code == 201, response.text
    return response.headers["Location"]


def page_links(session, url: str, headers: dict[str, str]) -> tuple[list[str], bool]:
    """Every href and src of the feed document at `url`, and whether it is a full archive page."""
    response = session.get(url, headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    root = etree.fromstring(response.content)
    return root.xpath("//@href | //@src"), bool(root.xpath("h:archive", namespaces={"h": HISTORY_NS}))


@pytest.fixture(scope="module")
def first_archive_page_full(stack):
    """Orders placed until /feed/archive/1 is full, whatever FEED_PAGE_SIZE the stack has."""
    session = http()
    for _ in range(200):
        if page_links(session, f"{stack.url}/order/feed/archive/1", {})[1]:
            return
        place(session, f"{stack.url}/order", {})
    pytest.fail("/order/feed/archive/1 is not full after 200 orders")


@pytest.mark.parametrize("route", ["through Apache", "straight to gunicorn"])
def test_spoofed_forwarded_headers_change_no_link(stack, first_archive_page_full, route):
    session = http()
    base = f"{stack.url}/order" if route == "through Apache" else stack.service_url("order")

    location = place(session, base, SPOOFED)
    feed, _ = page_links(session, f"{base}/feed", SPOOFED)
    archive, full = page_links(session, f"{base}/feed/archive/1", SPOOFED)

    assert full
    assert location.startswith(f"{base}/"), location
    assert feed and all(link.startswith(f"{base}/") for link in feed), feed
    assert archive and all(link.startswith(f"{base}/") for link in archive), archive


def test_through_apache_links_name_its_host_and_the_order_prefix(stack, first_archive_page_full):
    session = http()

    location = place(session, f"{stack.url}/order", {})
    feed, _ = page_links(session, f"{stack.url}/order/feed", {})
    archive, _ = page_links(session, f"{stack.url}/order/feed/archive/1", {})

    assert location.startswith(f"{stack.url}/order/"), location
    assert all(link.startswith(f"{stack.url}/order/") for link in feed + archive), feed + archive
    assert f"{stack.url}/order/feed" in feed and f"{stack.url}/order/feed/archive/2" in archive


@pytest.mark.parametrize("route", ["through Apache", "straight to gunicorn"])
def test_a_made_up_host_gets_no_link_location_or_cached_page_naming_it(stack, first_archive_page_full, route):
    """The stack sets no PUBLIC_URL: every service answers for loopback hosts alone."""
    session = http()
    made_up = {"Host": "evil.example"}
    for service in ("order", "invoicing", "shipping", "account"):
        base = f"{stack.url}/{service}" if route == "through Apache" else stack.service_url(service)
        paths = [""] + (["/feed", "/feed/archive/1", "/feed/archive/1"] if service == "order" else [])
        for path in paths:
            answer = session.get(f"{base}{path}", headers=made_up, allow_redirects=False, timeout=10)
            assert "evil" not in answer.text and "evil" not in answer.headers.get("Location", "")
            if route == "through Apache" and not path:  # Apache's own redirect to the prefix with its slash
                assert (answer.status_code, answer.headers["Location"]) == (301, f"{stack.url}/{service}/")
            else:
                assert answer.status_code == 400, (service, path, answer.status_code)

    archive, full = page_links(session, f"{stack.url}/order/feed/archive/1", {})  # what the cache keeps
    assert full and all(link.startswith(f"{stack.url}/order/") for link in archive), archive
