"""Helpers of the integration tests: placing orders, hand-made feeds, a controllable origin."""
from __future__ import annotations

import re
import threading
from xml.sax.saxutils import escape, quoteattr

import requests
from werkzeug.wrappers import Request, Response

from common.feed import POSITION_NS
from tests.conftest import form_token
from tests.support.orders import order_request

ATOM = "http://www.w3.org/2005/Atom"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def browser_of(app):
    """A test client of `app` that asks for pages as a browser does."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT"] = BROWSER_ACCEPT
    return client


def post_form(browser, data: dict):
    """Post the order form as a browser does: with the token of the form page it showed."""
    token = form_token(browser.get("/new").get_data(as_text=True))
    return browser.post("/", data={**data, "csrf_token": token})


def place_order(base_url: str, **request) -> dict:
    """Place a valid order over HTTP; the order as JSON."""
    response = requests.post(base_url + "/", json=order_request(**request), timeout=5)
    assert response.status_code == 201, response.text
    return response.json()


def handmade_feed(entries: list[tuple[str, str, int]], prev_archive: str | None = None) -> bytes:
    """An Atom feed listing (entry id, content src, position) in the order given,
    with a prev-archive link when one is given."""
    updated = "2026-11-22T10:00:00Z"
    parts = [f'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="{ATOM}" xmlns:msatom="{POSITION_NS}">',
             "<id>urn:test:handmade</id><title>Handmade</title>",
             f"<updated>{updated}</updated><author><name>Test</name></author>"]
    if prev_archive:
        parts.append(f'<link rel="prev-archive" href={quoteattr(prev_archive)}/>')
    for entry_id, src, position in entries:
        parts.append(
            f"<entry><id>{escape(entry_id)}</id><title>Entry</title><updated>{updated}</updated>"
            f'<content type="application/json" src={quoteattr(src)}/>'
            f"<msatom:position>{position}</msatom:position></entry>")
    parts.append("</feed>")
    return "\n".join(parts).encode()


def feed_state(get) -> tuple[list, str]:
    """The order list and the feed's ETag, as `get(path, headers)` returns them."""
    orders = get("/", {"Accept": "application/json"})
    etag = get("/feed", {}).headers["ETag"]
    return _json(orders), etag


def _json(response):
    return response.get_json() if hasattr(response, "get_json") else response.json()


def assert_refused(response, fields: set[str]) -> None:
    assert response.status_code == 400
    body = _json(response)
    assert set(body) == {"error", "details"}
    assert isinstance(body["error"], str) and body["error"].endswith(".") and len(body["error"]) > 10
    assert fields <= set(body["details"])
    assert all(isinstance(message, str) and message for message in body["details"].values())


def assert_nothing_changed(get, before: tuple[list, str]) -> None:
    assert feed_state(get) == before
    assert get("/feed", {"If-None-Match": before[1]}).status_code == 304


def client_get(client):
    return lambda path, headers: client.get(path, headers=headers)


class Origin:
    """A WSGI app in front of a real app: it can serve a hand-made feed at
    /handmade-feed and make the order documents (/<id>, /<id>/versions/<v>) fail or hang; everything
    else goes to the real app unchanged. It notes the path of every request."""

    def __init__(self, inner):
        self.inner = inner
        self.feed: bytes | None = None
        self.detail_failure: str | None = None  # None, "500", "hang" or "redirect"
        self.redirect_to = ""  # where "redirect" sends a client asking for /<id>
        self.release = threading.Event()
        self.detail_requests = 0
        self.paths: list[str] = []

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.paths.append(request.path)
        if request.path == "/handmade-feed" and self.feed is not None:
            return Response(self.feed, content_type="application/atom+xml")(environ, start_response)
        if re.fullmatch(r"/\d+(/versions/\d+)?", request.path):
            self.detail_requests += 1
            if self.detail_failure == "500":
                return Response("broken", status=500)(environ, start_response)
            if self.detail_failure == "redirect":
                return Response(status=302, headers={"Location": self.redirect_to + request.path})(
                    environ, start_response)
            if self.detail_failure == "hang":
                self.release.wait(5)
                return Response("too late", status=503)(environ, start_response)
        return self.inner(environ, start_response)


def cancel_order(base_url: str, order_id: int) -> requests.Response:
    """Cancel an order over HTTP as a program does (JSON)."""
    return requests.post(f"{base_url}/{order_id}/cancel", headers={"Accept": "application/json"}, timeout=5)
