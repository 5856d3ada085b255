"""Who may use which route, over every route of every app: each has a rule in its
service's access table, and each role is let through or refused as that table says,
in HTML and in JSON; and the table says what the services promise."""
from __future__ import annotations

import pytest

from common.auth.rules import ADMIN
from common.web.app import close_app
from common.auth.guard import access_rules
from msatom.bootstrap import SERVICES, create_app
from tests.access_table import ROLES, headers_for, opens, refused, requests_of
from tests.support.signing import KEY, signing_in

# Nothing listens there: the revoked list cannot be had, and none is in force.
NO_ACCOUNT_SERVICE = "http://127.0.0.1:9/account"


@pytest.fixture
def signed_in_app(settings_for):
    """Apps of any service with sign-in on; no order feed or account service to reach."""
    apps = []

    def make(service: str):
        apps.append(create_app(service, signing_in(settings_for(
            service, sign_in_service_url=NO_ACCOUNT_SERVICE, feed_url="http://127.0.0.1:9/order/feed"))))
        return apps[-1]

    yield make
    for app in apps:
        close_app(app)


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_route_of_every_app_is_let_through_or_refused_as_its_table_says(service, signed_in_app):
    app = signed_in_app(service)
    rules = access_rules(app)
    client = app.test_client()
    checked = 0
    for endpoint, method, path in requests_of(app):
        rule = rules[endpoint]
        public = opens(app, rule, method, path)
        for role in ROLES:
            allowed = public or (role is not None and rule.admits(frozenset({role})))
            for html in (True, False):
                response = client.open(path, method=method, headers=headers_for(KEY, role, html))
                assert refused(response) is not allowed, (
                    f"{service}: {method} {path} as {role or 'nobody'} ({'HTML' if html else 'JSON'}) "
                    f"answered {response.status_code}")
                if not allowed:
                    assert "WWW-Authenticate" in response.headers or response.status_code == 303
                checked += 1
    assert checked > 0


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_route_has_a_rule(service, signed_in_app):
    app = signed_in_app(service)
    assert {rule.endpoint for rule in app.url_map.iter_rules()} <= access_rules(app).keys()


# What the services promise, role by role (the README's security section).
PROMISES = [
    ("order", "GET", "/", {"sales"}),
    ("order", "POST", "/1/cancel", {"sales"}),
    ("order", "GET", "/customers", {"sales"}),
    ("order", "GET", "/1", {"sales", "feed-reader"}),
    ("order", "GET", "/1/versions/1", {"sales", "feed-reader"}),
    ("order", "GET", "/feed?embed=documents", {"sales", "feed-reader"}),
    ("order", "GET", "/feed", "anyone"),
    ("order", "GET", "/feed/archive/1", "anyone"),
    ("order", "GET", "/items", "anyone"),
    ("order", "GET", "/health", "anyone"),
    ("order", "GET", "/status", "anyone"),
    ("order", "GET", "/openapi.json", "anyone"),
    ("invoicing", "GET", "/", {"accounting"}),
    ("invoicing", "POST", "/poll", {"accounting"}),
    ("invoicing", "POST", "/rejected/1/retry", {"accounting"}),
    ("invoicing", "POST", "/rebuild", {"accounting"}),
    ("shipping", "GET", "/1", {"logistics"}),
    ("shipping", "POST", "/poll", {"logistics"}),
    ("shipping", "POST", "/rebuild", {"logistics"}),
]


@pytest.mark.parametrize("service, method, path, roles", PROMISES)
def test_the_tables_keep_the_promises_of_each_role(service, method, path, roles, signed_in_app):
    app = signed_in_app(service)
    rule = access_rules(app)[app.url_map.bind("localhost").match(path.split("?")[0], method)[0]]
    public = opens(app, rule, method, path)
    if roles == "anyone":
        assert public
        return
    assert not public
    assert {role for role in ROLES if role and rule.admits(frozenset({role}))} == roles | {ADMIN}
