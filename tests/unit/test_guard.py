"""The guard every service puts before its routes: who calls, whether the token holds,
and what the service's rules let that caller do; tokens made here, a revoked list
held in the test."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import jwt
import lxml.html
import pytest
from flask import Blueprint, jsonify

from common.auth import tokens
from common.auth.guard import check_rules
from common.auth.keys import KeySet, SigningKey
from common.auth.revocations import RevokedList
from common.auth.rules import PUBLIC, allow
from common.caching import PUBLIC_IMMUTABLE
from common.db import Database
from common.settings import ConfigurationError, Settings
from common.web.app import close_app, create_service_app
from tests.support import forgeries
from msatom.bootstrap import ACCOUNT_SERVICE

KEY = SigningKey.new()
OTHER_KEY = SigningKey.new()
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
JSON = {"Accept": "application/json"}

routes = Blueprint("shop", __name__)


@routes.get("/orders")
def orders():
    return jsonify(["an order"]), 200, {"Cache-Control": PUBLIC_IMMUTABLE}


@routes.post("/orders")
def place():
    return jsonify("placed"), 201


@routes.get("/feed")
def feed():
    return jsonify("entries"), 200, {"Cache-Control": "no-cache"}


@routes.get("/catalogue")
def catalogue():
    return jsonify("items")


RULES = {
    "shop.orders": allow("sales", doing="see the orders"),
    "shop.place": allow("sales", doing="place orders"),
    "shop.feed": allow("sales", "feed-reader", doing="read the documents",
                       public_when=lambda request: "embed" not in request.args),
    "shop.catalogue": PUBLIC,
}


class HeldList:
    """The account service's list as a test sets it."""

    def __init__(self):
        self.list = RevokedList()
        self.checked = 0

    def refusal(self, identity):
        self.checked += 1
        return self.list.refusal(identity)


@pytest.fixture
def revoked():
    return HeldList()


@pytest.fixture
def make(tmp_path, revoked):
    apps = []

    def build(key=KEY, rules=RULES, keys=None):
        settings = Settings.from_env("shop", {}, sign_in=ACCOUNT_SERVICE).but(
            database_url=f"sqlite:///{tmp_path}/shop.db", signing_public_keys=keys or (key and KeySet.of([key])),
            clock=lambda: NOW)
        app = create_service_app(__name__, settings, Database(settings.database_url), "Shop", rules, revoked)
        app.register_blueprint(routes)
        apps.append(app)
        return app

    yield build
    for app in apps:
        close_app(app)


@pytest.fixture
def client(make):
    return make().test_client()


def token(name="alice", roles=("sales",), key=KEY, issued=NOW - timedelta(minutes=1), lifetime=timedelta(hours=1)):
    return tokens.issue(key, name, roles, lifetime, issued)


def bearer(value: str, accept=JSON) -> dict:
    return {"Authorization": f"Bearer {value}", **accept}


def test_a_token_with_the_role_is_let_through(client):
    response = client.get("/orders", headers=bearer(token()))
    assert response.status_code == 200
    assert response.get_json() == ["an order"]


def test_the_admin_role_may_do_everything(client):
    assert client.post("/orders", headers=bearer(token("root", ["admin"]))).status_code == 201


def test_the_browser_cookie_is_a_token_too(client):
    client.set_cookie(tokens.COOKIE, token())
    assert client.get("/orders", headers=JSON).status_code == 200


def test_a_program_without_a_token_is_told_how_to_get_one(client):
    response = client.get("/orders", headers=JSON)
    assert response.status_code == 401
    assert response.get_json() == {
        "error": "Sign in first: send Authorization: Bearer <token>; POST /account/token gives one."}
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_browser_without_a_token_is_sent_to_the_sign_in_page_and_back(client):
    response = client.get("/orders?q=Ada Lovelace", headers=BROWSER)
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/sign-in?next=/orders%3Fq%3DAda%20Lovelace"
    assert "no-store" in response.headers["Cache-Control"]


def test_a_browser_posting_without_a_token_gets_a_page_with_a_sign_in_link(client):
    response = client.post("/orders", headers=BROWSER)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    page = lxml.html.fromstring(response.get_data(as_text=True))
    assert page.xpath("//h1")[0].text_content() == "Sign in first"
    assert page.xpath("//main//a[text()='Sign in']/@href") == ["/account/sign-in?next=/orders"]


@pytest.mark.parametrize("value, reason", [
    (token(key=OTHER_KEY), "The token was signed with a key this system does not know (any more); sign in again."),
    (token(issued=NOW - timedelta(hours=2)), "The token has expired; sign in again."),
    ("not.a.token", "The token is not one this system issues."),
])
def test_a_token_that_is_not_valid_is_refused_with_the_reason(client, value, reason):
    response = client.get("/orders", headers=bearer(value))
    assert response.status_code == 401
    assert response.get_json() == {"error": reason}
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


FORGERIES = forgeries.every_forgery(KeySet.of([KEY]).jwks(), NOW)


@pytest.mark.parametrize("forged", FORGERIES.values(), ids=FORGERIES.keys())
def test_a_token_this_system_did_not_sign_is_refused(client, forged):
    response = client.get("/orders", headers=bearer(forged))
    assert response.status_code == 401
    assert response.get_json()["error"] in (tokens.NOT_SIGNED_HERE, tokens.UNKNOWN_KEY)


@pytest.mark.parametrize("kid", forgeries.ODD_KIDS, ids=repr)
def test_a_token_whose_kid_is_malformed_or_unknown_is_refused_never_an_error(client, kid):
    response = client.get("/orders", headers=bearer(forgeries.with_kid(kid, KEY, NOW)))
    assert response.status_code == 401
    assert response.get_json()["error"] in (tokens.NOT_OURS, tokens.UNKNOWN_KEY)


def test_while_the_keys_cannot_be_had_a_token_is_not_judged_but_asked_for_again(make):
    """Nothing listens where the keys are: 503 with Retry-After, never a 401 that would
    tell the client its token is bad; the public routes stay open."""
    client = make(keys="http://127.0.0.1:9/account/.well-known/jwks.json").test_client()

    response = client.get("/orders", headers=bearer(token()))

    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.get_json() == {"error": "This service cannot check sign-in tokens yet: the sign-in service's "
                                            "public keys have not reached it. Try again in a moment."}
    assert client.get("/catalogue", headers=bearer(token())).status_code == 200
    assert client.get("/orders", headers=JSON).status_code == 401  # no token: nothing to judge


def signed(**claims) -> str:
    """A token signed with this system's key whose claims are those of a real one, but `claims`."""
    real = {"iss": tokens.ISSUER, "sub": "alice", "roles": ["sales"], "jti": "an-id",
            "iat": int(NOW.timestamp()) - 60, "exp": int(NOW.timestamp()) + 3600}
    return jwt.encode({**real, **claims}, KEY.private, algorithm=tokens.ALGORITHM, headers={"kid": KEY.kid})


@pytest.mark.parametrize("claims", [
    {"exp": "tomorrow"}, {"exp": 10 ** 30}, {"exp": 1.5e12}, {"exp": True}, {"exp": None}, {"exp": -1},
    {"iat": "yesterday"}, {"iat": 10 ** 30}, {"iat": [1]}, {"iat": 2 ** 63},
    {"sub": 7}, {"jti": {"id": 1}}, {"roles": "sales"}, {"roles": [1]},
], ids=repr)
def test_a_token_with_a_malformed_claim_is_refused_not_an_error(client, claims):
    response = client.get("/orders", headers=bearer(signed(**claims)))

    assert response.status_code == 401
    assert response.get_json() == {"error": "The token is not one this system issues."}


def test_a_browser_with_an_expired_cookie_is_told_to_sign_in_again(client):
    client.set_cookie(tokens.COOKIE, token(issued=NOW - timedelta(hours=9)))
    response = client.get("/orders", headers=BROWSER)
    assert response.status_code == 401
    page = lxml.html.fromstring(response.get_data(as_text=True))
    assert page.xpath("//main/p[1]")[0].text_content() == "The token has expired; sign in again."
    assert page.xpath("//main//a[text()='Sign in']/@href") == ["/account/sign-in?next=/orders"]


def browser_token(signed_in=NOW - timedelta(minutes=10), issued=None, lifetime=timedelta(minutes=30)) -> str:
    """A browser's sign-in cookie: from `signed_in`, renewed at `issued`."""
    return tokens.issue(KEY, "alice", ["sales"], lifetime, issued or signed_in, signed_in_at=signed_in)


@pytest.mark.parametrize("path", ["/orders?page=2", "/catalogue"])
def test_a_browser_whose_sign_in_has_lived_a_third_opens_a_page_by_way_of_its_renewal(client, path):
    client.set_cookie(tokens.COOKIE, browser_token())

    response = client.get(path, headers={**BROWSER, "Sec-Fetch-Mode": "navigate"})

    assert response.status_code == 303
    assert response.headers["Location"] == f"/account/renew?next={path.replace('?', '%3F').replace('=', '%3D')}"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("cookie, request_headers", [
    (browser_token(signed_in=NOW - timedelta(minutes=9)), BROWSER),  # not a third yet
    (browser_token(signed_in=NOW - timedelta(hours=7, minutes=50), issued=NOW - timedelta(minutes=5),
                   lifetime=timedelta(minutes=15)), BROWSER),  # its last: the sign-in ends with it
    (browser_token(), JSON),  # a script's request
    (browser_token(), {**BROWSER, "Sec-Fetch-Mode": "cors"}),  # a script asking for HTML
    (token(issued=NOW - timedelta(minutes=50)), BROWSER),  # a program's token
])
def test_a_page_opens_at_once_for_a_sign_in_not_due_or_not_renewable_or_a_request_not_opening_a_page(
        client, cookie, request_headers):
    client.set_cookie(tokens.COOKIE, cookie)
    assert client.get("/orders", headers=request_headers).status_code == 200


def test_a_post_with_a_sign_in_due_for_renewal_is_taken(client):
    client.set_cookie(tokens.COOKIE, browser_token())
    assert client.post("/orders", headers=JSON).status_code == 201


def test_another_authorization_scheme_is_refused(client):
    response = client.get("/orders", headers={"Authorization": "Basic YWxpY2U6c2VjcmV0", **JSON})
    assert response.status_code == 401
    assert response.get_json() == {"error": "Send the token as Authorization: Bearer <token>."}


def test_a_token_signed_out_is_refused(client, revoked):
    signed_out = token()
    revoked.list = RevokedList(token_ids=frozenset({tokens.verify(KeySet.of([KEY]), signed_out, NOW).token_id}))
    response = client.get("/orders", headers=bearer(signed_out))
    assert response.status_code == 401
    assert response.get_json() == {"error": "The token was revoked when its session was signed out; sign in again."}
    assert client.get("/orders", headers=bearer(token())).status_code == 200  # another session of alice


def test_tokens_issued_before_the_account_was_removed_are_refused(client, revoked):
    revoked.list = RevokedList(removed_accounts={"alice": NOW - timedelta(seconds=30)})
    response = client.get("/orders", headers=bearer(token(issued=NOW - timedelta(minutes=1))))
    assert response.status_code == 401
    until = f"{NOW - timedelta(seconds=30):%Y-%m-%d %H:%M:%S}"
    assert response.get_json() == {"error": f"The tokens of alice issued until {until} UTC are no longer accepted: "
                                            "signed out everywhere, or the account removed; sign in again."}
    # An account of the same name made again later signs in anew.
    assert client.get("/orders", headers=bearer(token(issued=NOW - timedelta(seconds=10)))).status_code == 200


def test_a_program_without_the_role_is_told_which_role_it_needs(client):
    response = client.post("/orders", headers=bearer(token("bob", ["logistics"])))
    assert response.status_code == 403
    assert response.get_json() == {
        "error": "Your account (bob: logistics) may not place orders; that needs the role sales or admin."}
    assert response.headers["WWW-Authenticate"] == 'Bearer error="insufficient_scope"'


def test_a_browser_without_the_role_gets_a_page_saying_so(client):
    client.set_cookie(tokens.COOKIE, token("bob", []))
    response = client.get("/orders", headers=BROWSER)
    assert response.status_code == 403
    page = lxml.html.fromstring(response.get_data(as_text=True))
    assert page.xpath("//main/p[1]")[0].text_content() == (
        "Your account (bob: no roles) may not see the orders; that needs the role sales or admin.")
    assert not page.xpath("//main//a[text()='Sign in']")


def test_a_route_open_for_some_requests_needs_a_token_for_the_others(client):
    assert client.get("/feed", headers=JSON).status_code == 200
    assert client.get("/feed?embed=documents", headers=JSON).status_code == 401
    reader = bearer(token("invoicing", ["feed-reader"]))
    assert client.get("/feed?embed=documents", headers=reader).status_code == 200
    assert client.get("/orders", headers=reader).status_code == 403


def test_a_public_route_is_open_even_with_a_bad_token(client, revoked):
    assert client.get("/catalogue", headers=bearer(token(key=OTHER_KEY))).status_code == 200
    assert client.get("/catalogue", headers=JSON).status_code == 200
    assert client.get("/health", headers=JSON).status_code == 200
    assert revoked.checked == 0  # without a valid token the list is not consulted


def test_answers_behind_a_sign_in_are_never_kept_by_shared_caches(client):
    response = client.get("/orders", headers=bearer(token()))
    assert response.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    assert {"Cookie", "Authorization"} <= set(response.vary)
    documents = client.get("/feed?embed=documents", headers=bearer(token()))
    assert documents.headers["Cache-Control"] == "private, no-cache"


def test_the_thin_pages_keep_their_shared_cache_headers(client):
    response = client.get("/feed", headers={"Authorization": f"Bearer {token()}", **JSON})
    assert response.headers["Cache-Control"] == "no-cache"
    assert "Cookie" not in response.vary


def test_the_page_header_names_who_is_signed_in_with_their_account_and_a_sign_out_button(client):
    client.set_cookie(tokens.COOKIE, token())
    response = client.get("/nowhere", headers=BROWSER)  # any page with the layout
    header = lxml.html.fromstring(response.get_data(as_text=True)).xpath("//header")[0]
    assert " ".join(header.xpath(".//*[@class='caller']")[0].text_content().split()) == (
        "Signed in as alice · Your account · Sign out")
    assert header.xpath(".//a[text()='Your account']/@href") == ["/account/"]
    form = header.xpath(".//form")[0]
    assert (form.get("method"), form.get("action")) == ("post", "/account/sign-out")
    assert form.xpath(".//input[@name='csrf_token']/@value")[0]
    assert {"Cookie", "Authorization"} <= set(response.vary)


def test_the_page_header_offers_to_sign_in_to_someone_not_signed_in(client):
    response = client.get("/nowhere?page=2", headers=BROWSER)
    header = lxml.html.fromstring(response.get_data(as_text=True)).xpath("//header")[0]
    assert header.xpath(".//a[text()='Sign in']/@href") == ["/account/sign-in?next=/nowhere%3Fpage%3D2"]


def test_with_sign_in_off_everyone_may_do_everything_and_pages_name_nobody(make):
    client = make(key=None).test_client()
    assert client.post("/orders", headers=JSON).status_code == 201
    assert client.get("/orders", headers=JSON).headers["Cache-Control"] == PUBLIC_IMMUTABLE
    page = lxml.html.fromstring(client.get("/nowhere", headers=BROWSER).get_data(as_text=True))
    assert not page.xpath("//*[@class='caller']")


def test_an_app_with_a_route_without_a_rule_is_refused_at_creation(make):
    app = make(rules={"shop.orders": RULES["shop.orders"]})
    with pytest.raises(ConfigurationError, match="no access rule: shop.catalogue, shop.feed, shop.place"):
        check_rules(app)


def test_every_route_with_a_rule_passes_the_check(make):
    app = make()
    assert check_rules(app) is app
