"""Every route of every app, as caches, proxies and HTTP linters see it: one table
built from the apps' URL maps, so that a route added later cannot forget.

Served as `make run` serves them (msatom.cli: the site on waitress), over real HTTP.
"""
from __future__ import annotations

import re
import threading
from functools import partial

import pytest
import requests
from waitress.channel import HTTPChannel

from common import parts
from common.web.errors import NOT_FOUND
from msatom.cli import create_site, make_server
from msatom.stack import free_port
from tests.support.orders import order_request

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
JSON = "application/json"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# What a route's placeholders are filled with: an order, a page and a position that exist.
SAMPLES = {"filename": "style.css"}
# Words of the customer of order_request(): an answer holding them holds personal data.
PERSONAL = ("Wolff", "eberhard.wolff@example.com", "Ohlauer Str. 43", "Krischerstr. 100")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The services and the landing page on one port, with one order placed
    and cancelled, the next one placed, both imported by invoicing and shipping."""
    from common.settings import Settings
    from common.web.app import close_app
    from msatom.bootstrap import FACTORIES, create_app, settings_from_env

    folder, port = tmp_path_factory.mktemp("site"), free_port()
    base = f"http://127.0.0.1:{port}"

    def settings(service: str) -> Settings:
        return settings_from_env(service, {}).but(
            database_url=f"sqlite:///{folder / service}.db", poll_interval_seconds=0, feed_page_size=2,
            feed_url=f"{base}/order/feed")

    apps = {name: create_app(name, settings(name)) for name in FACTORIES}
    server = make_server(create_site(apps), "127.0.0.1", port)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    placed = requests.post(f"{base}/order/", json=order_request(), timeout=10)
    requests.post(f"{placed.headers['Location']}/cancel", headers={"Accept": JSON}, timeout=10)
    requests.post(f"{base}/order/", json=order_request(), timeout=10)
    for consumer in ("invoicing", "shipping"):
        assert requests.post(f"{base}/{consumer}/poll", headers={"Accept": JSON}, timeout=10).json()["status"] == 200
    yield base, apps
    for app in apps.values():
        close_app(app)
    server.trigger.pull_trigger(partial(close_server, server))
    thread.join(5)
    assert not thread.is_alive(), f"the server still serves: {server._map}"


def close_server(server) -> None:
    """Stop listening and close every connection, in waitress's own loop (its thread
    alone touches them): a connection a client keeps open would keep the loop going."""
    for channel in list(server._map.values()):
        if isinstance(channel, HTTPChannel):
            channel.close()
    server.close()


def routes():
    """(mount, rule) of every app `make run` serves, built as the site builds them."""
    from msatom.landing import create_landing_app
    from msatom.bootstrap import FACTORIES, create_app, settings_from_env

    yield from (("", rule) for rule in create_landing_app().url_map.iter_rules())
    for name in FACTORIES:
        settings = settings_from_env(name, {}).but(database_url="sqlite://", poll_interval_seconds=0)
        app = create_app(name, settings)
        yield from ((f"/{name}", rule) for rule in app.url_map.iter_rules())
        parts.database(app).dispose()


ROUTES = sorted({(mount, rule.rule, frozenset(rule.methods)) for mount, rule in routes()},
                key=lambda route: route[:2])


def url(base: str, mount: str, rule: str) -> str:
    return base + mount + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: SAMPLES.get(m.group(1), "1"), rule)


def date_headers(response: requests.Response) -> list[str]:
    return response.raw.headers.getlist("Date")


@pytest.mark.parametrize("mount, rule, methods", [route for route in ROUTES if "GET" in route[2]],
                         ids=lambda value: value if isinstance(value, str) else None)
def test_every_answer_says_how_caches_may_keep_it(site, mount, rule, methods):
    base, _ = site
    answers = {accept: requests.get(url(base, mount, rule), headers={"Accept": accept}, timeout=10)
               for accept in (BROWSER, JSON)}

    for accept, answer in answers.items():
        assert answer.status_code < 500, (accept, answer.status_code, answer.text[:300])
        assert answer.headers.get("Cache-Control"), f"{answer.url} ({accept}) says nothing about caching"
        assert len(date_headers(answer)) == 1, date_headers(answer)
        if any(word in answer.text for word in PERSONAL):
            assert re.search(r"\b(private|no-store)\b", answer.headers["Cache-Control"]), (
                f"{answer.url} holds personal data but lets shared caches keep it: {answer.headers['Cache-Control']}")
    html, json = answers[BROWSER], answers[JSON]
    if html.headers.get("Content-Type") != json.headers.get("Content-Type"):
        for answer in answers.values():
            assert "accept" in answer.headers.get("Vary", "").lower(), (
                f"{answer.url} answers by Accept but does not say Vary: Accept")


@pytest.mark.parametrize("mount, rule, methods", ROUTES, ids=lambda value: value if isinstance(value, str) else None)
def test_a_method_a_route_does_not_take_gets_405_with_allow(site, mount, rule, methods):
    base, _ = site
    target = url(base, mount, rule)
    allowed = {method for method in METHODS if method in methods}
    for method in (method for method in METHODS if method not in allowed):
        answer = requests.request(method, target, headers={"Accept": JSON}, timeout=10)
        if answer.status_code != 405:  # another route takes the same URL with this method
            continue
        listed = {name.strip() for name in answer.headers.get("Allow", "").split(",") if name.strip()}
        assert allowed <= listed, (method, target, answer.headers.get("Allow"))
        assert answer.headers.get("Cache-Control"), target
        assert len(date_headers(answer)) == 1


def test_the_table_covers_the_routes_people_and_programs_use():
    rules = {mount + rule for mount, rule, _ in ROUTES}

    assert {"/", "/order/", "/order/<id:order_id>", "/order/<id:order_id>/versions/<id:version>",
            "/order/feed", "/order/feed/archive/<id:number>", "/order/health", "/order/metrics",
            "/invoicing/", "/invoicing/<id:order_id>", "/invoicing/poll", "/shipping/<id:order_id>"} <= rules


# Unknown paths outside the services, under each service's prefix, and under a route
# (an order's number that is no number; a page of the feed that is no page).
UNKNOWN = ["/nope", "/static/nope.css", "/order/nope", "/order/abc", "/order/feed/nope", "/invoicing/nope",
           "/invoicing/1/nope", "/shipping/nope", "/account/nope"]


@pytest.mark.parametrize("path", UNKNOWN)
@pytest.mark.parametrize("accept", [BROWSER, JSON, "*/*"])
def test_every_unknown_path_answers_the_sites_own_404(site, path, accept):
    base, _ = site
    response = requests.get(f"{base}{path}", headers={"Accept": accept}, timeout=10)

    assert response.status_code == 404
    assert "Accept" in response.headers.get("Vary", "")
    assert "requested URL was not found" not in response.text  # werkzeug's words
    if accept == BROWSER:
        assert response.headers["Content-Type"].startswith("text/html")
        assert '<header class="site">' in response.text and NOT_FOUND in response.text
    else:
        assert response.headers["Content-Type"] == JSON
        assert response.json() == {"error": NOT_FOUND}
