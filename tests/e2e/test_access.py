"""Who may do what, on the production stack through Apache: every route of every
service, for each role and for nobody, as a browser and as a program, answers as its
service's access table says; tokens that must not work do not; the thin feed stays
open to anyone."""
from __future__ import annotations

from datetime import timedelta

import pytest

from common.auth import tokens
from common.utc import utc_now
from common.web.app import close_app
from common.auth.guard import access_rules
from msatom.bootstrap import SERVICES, create_app
from msatom.stack import wait_until
from tests.access_table import ROLES, headers_for, opens, refused, requests_of
from tests.conftest import require_program
from tests.support.orders import order_request
from tests.e2e.newsboat import Newsboat
from tests.e2e.running import SIGNING_KEY, PATIENCE, anonymous, http, token
from tests.support import forgeries
from tests.support.signing import signing_in

pytestmark = pytest.mark.e2e
# Apache refuses these to everyone (403): Prometheus scrapes each service on its own port.
APACHE_REFUSES = {"metrics"}


@pytest.fixture
def route_tables(settings_for):
    """Each service's app, built here only to read its routes and its access table."""
    apps = {service: create_app(service, signing_in(settings_for(service), SIGNING_KEY)) for service in SERVICES}
    yield apps
    for app in apps.values():
        close_app(app)


def test_every_route_answers_each_role_as_its_table_says_through_apache(stack, route_tables):
    session = anonymous()
    wrong = []
    for service, app in route_tables.items():
        rules = access_rules(app)
        for endpoint, method, path in requests_of(app):
            public = opens(app, rules[endpoint], method, path)
            for role in ROLES:
                allowed = public or (role is not None and rules[endpoint].admits(frozenset({role})))
                if endpoint in APACHE_REFUSES:
                    allowed = False
                for html in (True, False):
                    answer = session.request(method, f"{stack.url}/{service}{path}", allow_redirects=False,
                                             headers=headers_for(SIGNING_KEY, role, html), timeout=30)
                    if refused(answer) is allowed:
                        wrong.append(f"{method} /{service}{path} as {role or 'nobody'} "
                                     f"({'HTML' if html else 'JSON'}): {answer.status_code}")
    assert not wrong, "\n".join(wrong)


def test_tokens_that_must_not_work_are_refused_with_the_reason(stack):
    """Forged with what anyone can read (the published keys) or what a service held
    before (a shared key), malformed, or expired: refused by every service."""
    now = utc_now()
    published = anonymous().get(f"{stack.url}/account/.well-known/jwks.json", timeout=10).json()
    cases = {**forgeries.every_forgery(published, now),
             # Apache refuses a header over 8 KiB itself (400): the kid of 10,000 characters never reaches a service.
             **{f"kid {kid!r:.20}": forgeries.with_kid(kid, SIGNING_KEY, now) for kid in forgeries.ODD_KIDS
                if len(str(kid)) < 1000},
             "expired": tokens.issue(SIGNING_KEY, "admin", ["admin"], timedelta(seconds=-1), now)}
    wrong = []
    for service in ("account", "order", "invoicing", "shipping"):
        for case, signed in cases.items():
            answer = anonymous().get(f"{stack.url}/{service}/", timeout=10, headers={
                "Accept": "application/json", "Authorization": f"Bearer {signed}"})
            if answer.status_code != 401 or answer.json()["error"] not in (
                    tokens.NOT_SIGNED_HERE, tokens.UNKNOWN_KEY, tokens.NOT_OURS, "The token has expired; sign in again."):
                wrong.append(f"{service}, {case}: {answer.status_code} {answer.text[:200]}")
    assert not wrong, "\n".join(wrong)


def test_the_public_keys_are_served_to_anyone_and_may_be_kept_a_while(stack):
    url = f"{stack.url}/account/.well-known/jwks.json"
    answer = anonymous().get(url, timeout=10)

    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/json"
    assert answer.json()["keys"] == [SIGNING_KEY.public.jwk()]
    assert answer.headers["Cache-Control"] == "public, max-age=300"
    assert anonymous().get(url, headers={"If-None-Match": answer.headers["ETag"]}, timeout=10).status_code == 304


def test_a_removed_accounts_token_is_refused_by_every_service_within_seconds(stack):
    stack.users("add", "carol", "--role", "sales", "--role", "accounting", "--password-stdin", stdin="carols-password")
    signed = http().post(f"{stack.url}/account/token", json={"name": "carol", "password": "carols-password"},
                         timeout=10).json()["token"]
    carol = anonymous()
    carol.headers.update({"Authorization": f"Bearer {signed}", "Accept": "application/json"})
    assert carol.get(f"{stack.url}/order/", timeout=10).status_code == 200
    assert carol.get(f"{stack.url}/invoicing/", timeout=10).status_code == 200

    stack.users("remove", "carol")

    def refused_everywhere() -> bool:
        return all(carol.get(f"{stack.url}/{service}/", timeout=10).status_code == 401
                   for service in ("order", "invoicing"))

    wait_until(refused_everywhere, PATIENCE, "every service refusing carol's token")
    assert "removed" in carol.get(f"{stack.url}/order/", timeout=10).json()["error"]


def test_the_thin_feed_needs_no_credential_and_the_documents_do(stack):
    placed = http().post(f"{stack.url}/order/", json=order_request(), timeout=10)
    assert placed.status_code == 201, placed.text
    stranger = anonymous()

    feed = stranger.get(f"{stack.url}/order/feed", timeout=10)
    assert feed.status_code == 200 and "private" not in feed.headers["Cache-Control"]
    document = stranger.get(f"{stack.url}/order/{placed.json()['id']}/versions/1",
                            headers={"Accept": "application/json"}, timeout=10)
    assert document.status_code == 401
    embedded = stranger.get(f"{stack.url}/order/feed?embed=documents", timeout=10)
    assert embedded.status_code == 401
    as_reader = anonymous().get(f"{stack.url}/order/feed?embed=documents", timeout=10,
                                headers={"Authorization": f"Bearer {token('feed-reader', name='invoicing')}"})
    assert as_reader.status_code == 200 and "private" in as_reader.headers["Cache-Control"]


def test_newsboat_reads_the_feed_without_a_credential(stack, tmp_path):
    placed = http().post(f"{stack.url}/order/", json=order_request(), timeout=10)
    assert placed.status_code == 201, placed.text
    newsboat = Newsboat(require_program("newsboat"), tmp_path, f"{stack.url}/order/feed")

    newsboat.reload()

    assert f"Order {placed.json()['id']} placed" in newsboat.titles()
