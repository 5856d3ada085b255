"""The account service over HTTP: the sign-in page and its cookie, the limit on failed
sign-ins, tokens for programs, signing out, and the list of revoked tokens the
services read."""
from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from account import service
from account.passwords import TEST_HASHES
from common import parts
from common.auth.keys import KeySet, SigningKey
from common.auth.tokens import COOKIE, issue, verify
from common.utc import iso_utc
from tests.conftest import form_token, live_server
from tests.support.signing import KEY, signing_in

PUBLISHED = KeySet.of([KEY])
PASSWORD = "correct horse battery staple"
BROWSER = {"Accept": "text/html"}
JSON = {"Accept": "application/json"}
ELSEWHERE = {"REMOTE_ADDR": "198.51.100.7"}


@pytest.fixture
def account_app(make_app, settings_for, database_url, clock):
    app = make_app("account", signing_in(settings_for("account", database_url=database_url, clock=clock)))
    with parts.database(app).session() as session:
        service.add_account(session, "alice", PASSWORD, ["sales"], clock(), TEST_HASHES)
    return app


@pytest.fixture
def client(account_app):
    return account_app.test_client()


def sign_in_form(client, password=PASSWORD, next_path="/order/", environ=None, **headers):
    page = client.get(f"/sign-in?next={next_path}", headers=BROWSER)
    return client.post("/sign-in", data={"csrf_token": form_token(page.text), "name": "alice", "password": password,
                                         "next": next_path},
                       headers={**BROWSER, **headers}, environ_base=environ or {})


def cookie(response) -> str:
    return next(value for value in response.headers.get_all("Set-Cookie") if value.startswith(f"{COOKIE}="))


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}", **JSON}


def test_the_sign_in_page_labels_its_fields_for_password_managers(client):
    page = client.get("/sign-in", headers=BROWSER).text

    assert '<label for="name">Name</label>' in page and '<label for="password">Password</label>' in page
    assert 'autocomplete="username"' in page and 'autocomplete="current-password"' in page


def test_signing_in_sets_the_session_cookie_for_the_whole_site_and_goes_where_the_person_was_going(
        client, clock):
    response = sign_in_form(client)

    assert response.status_code == 303
    assert response.headers["Location"] == "/order/"
    set_cookie = cookie(response)
    assert {"HttpOnly", "Path=/", "SameSite=Lax", "Max-Age=1799"} <= {part.strip() for part in set_cookie.split(";")}
    assert "Secure" not in set_cookie
    identity = verify(PUBLISHED, set_cookie.split(";")[0].removeprefix(f"{COOKIE}="), clock())
    assert (identity.name, identity.roles, identity.expires_at - clock()) == (
        "alice", {"sales"}, timedelta(minutes=30) - timedelta(microseconds=clock().microsecond))
    assert client.get("/", headers=JSON).get_json() == {"name": "alice", "roles": ["sales"]}


def test_over_https_every_cookie_is_secure_and_over_http_none(account_app):
    """The sign-in cookie and the form's own session cookie alike."""
    set_cookies = {}
    for scheme in ("https", "http"):
        client = account_app.test_client()
        page = client.get("/sign-in", headers=BROWSER, base_url=f"{scheme}://localhost")
        response = client.post("/sign-in", base_url=f"{scheme}://localhost",
                               headers={**BROWSER, "Referer": f"{scheme}://localhost/sign-in"},
                               data={"csrf_token": form_token(page.text), "name": "alice", "password": PASSWORD})
        assert response.status_code == 303
        set_cookies[scheme] = page.headers.get_all("Set-Cookie") + response.headers.get_all("Set-Cookie")

    names = {value.split("=")[0] for value in set_cookies["https"]}
    assert names == {COOKIE, "account_session"}
    assert all("Secure" in value.split("; ") for value in set_cookies["https"])
    assert not any("Secure" in value.split("; ") for value in set_cookies["http"])


def test_a_wrong_password_is_401_with_one_sentence_and_the_name_kept(client):
    response = sign_in_form(client, password="guess")

    assert response.status_code == 401
    assert "The name or the password is wrong." in response.text
    assert 'class="error-summary"' in response.text and 'value="alice"' in response.text
    assert not any(value.startswith(f"{COOKIE}=") for value in response.headers.get_all("Set-Cookie"))


def test_a_form_without_a_password_is_400_and_points_at_the_field(client):
    page = client.get("/sign-in", headers=BROWSER)
    response = client.post("/sign-in", data={"csrf_token": form_token(page.text), "name": "alice"}, headers=BROWSER)

    assert response.status_code == 400
    assert '<a href="#password">Enter your password.</a>' in response.text
    assert 'aria-describedby="password-error"' in response.text


def test_the_sixth_failure_from_one_address_is_429_while_another_address_still_signs_in(client, clock):
    for _ in range(5):
        assert sign_in_form(client, password="guess").status_code == 401
    clock.advance(minutes=3)

    refused = sign_in_form(client)  # the right password, too late
    elsewhere = sign_in_form(client, environ=ELSEWHERE)

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == str(12 * 60)
    assert "Too many sign-ins from here; try again in 12 minutes." in refused.text
    assert elsewhere.status_code == 303


def test_a_program_gets_a_token_for_an_hour(client, clock):
    response = client.post("/token", json={"name": "alice", "password": PASSWORD})

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    identity = verify(PUBLISHED, body["token"], clock())
    assert (body["tokenType"], body["expiresAt"]) == ("Bearer", iso_utc(identity.expires_at))
    assert identity.expires_at - clock() <= timedelta(hours=1)
    assert client.get("/", headers=bearer(body["token"])).get_json() == {"name": "alice", "roles": ["sales"]}


@pytest.mark.parametrize("body, status, error", [
    ({"name": "alice", "password": "guess"}, 401, "The name or the password is wrong."),
    ({"name": "alice"}, 400, 'Send the name and the password as JSON: {"name": "...", "password": "..."}.'),
])
def test_a_token_is_refused_with_a_sentence(client, body, status, error):
    response = client.post("/token", json=body)

    assert (response.status_code, response.get_json()["error"]) == (status, error)


def test_tokens_are_limited_like_the_page(client):
    for _ in range(5):
        client.post("/token", json={"name": "alice", "password": "guess"})

    refused = client.post("/token", json={"name": "alice", "password": PASSWORD})

    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) == 15 * 60


def test_signing_out_clears_the_cookie_and_revokes_its_token(client, clock):
    token = cookie(sign_in_form(client)).split(";")[0].removeprefix(f"{COOKIE}=")
    page = client.get("/", headers=BROWSER)
    assert "You are signed in as <strong>alice</strong>" in page.text

    response = client.post("/sign-out", data={"csrf_token": form_token(page.text)}, headers=BROWSER)

    assert response.status_code == 303 and response.headers["Location"].endswith("/sign-in?signed-out=")
    assert cookie(response).startswith(f"{COOKIE}=;")
    assert "You are signed out." in client.get(response.headers["Location"], headers=BROWSER).text
    stolen = client.get("/", headers=bearer(token))
    assert stolen.status_code == 401 and "revoked" in stolen.get_json()["error"]
    listed = client.get("/revoked", headers=bearer(issue(KEY, "service:order", {"service"}, timedelta(minutes=5),
                                                         clock())))
    assert [entry["id"] for entry in listed.get_json()["tokens"]] == [verify(PUBLISHED, token, clock()).token_id]


def test_signing_out_everywhere_refuses_every_token_of_the_account_until_it_signs_in_again(client, clock):
    program = client.post("/token", json={"name": "alice", "password": PASSWORD}).get_json()["token"]
    browser = cookie(sign_in_form(client)).split(";")[0].removeprefix(f"{COOKIE}=")
    page = client.get("/", headers=BROWSER)
    assert "Sign out everywhere" in page.text

    response = client.post("/sign-out-everywhere", data={"csrf_token": form_token(page.text)}, headers=BROWSER)

    assert response.status_code == 303 and response.headers["Location"].endswith("/sign-in?signed-out=")
    assert cookie(response).startswith(f"{COOKIE}=;")
    for token in (program, browser):
        refused = client.get("/", headers=bearer(token))
        assert refused.status_code == 401 and "signed out everywhere" in refused.get_json()["error"]
    clock.advance(seconds=1)
    again = client.post("/token", json={"name": "alice", "password": PASSWORD}).get_json()["token"]
    assert client.get("/", headers=bearer(again)).status_code == 200


def session_of(response) -> str:
    """The token of the sign-in cookie a response sets."""
    return cookie(response).split(";")[0].removeprefix(f"{COOKIE}=")


def test_a_browser_that_keeps_opening_pages_stays_signed_in_under_one_id_for_8_hours_at_most(client, clock):
    signed_in = clock()
    first = session_of(sign_in_form(client))
    clock.advance(minutes=9)
    assert client.get("/", headers=BROWSER).status_code == 200  # not a third of its life yet
    clock.advance(minutes=1)

    sent = client.get("/", headers=BROWSER)
    renewed = client.get(sent.headers["Location"].removeprefix("/account"), headers=BROWSER)

    assert (sent.status_code, sent.headers["Location"]) == (303, "/account/renew?next=/")
    assert (renewed.status_code, renewed.headers["Location"]) == (303, "/")
    assert "Max-Age=1799" in cookie(renewed) and renewed.headers["Cache-Control"] == "no-store"
    session = verify(PUBLISHED, session_of(renewed), clock())
    assert session.token_id == verify(PUBLISHED, first, clock()).token_id
    assert (session.issued_at, session.expires_at) == (clock().replace(microsecond=0),
                                                       clock().replace(microsecond=0) + timedelta(minutes=30))
    assert client.get("/", headers=BROWSER).status_code == 200
    while clock() < signed_in + timedelta(hours=7, minutes=40):  # a busy working day
        clock.advance(minutes=25)
        assert client.get("/", headers=BROWSER).status_code == 303
        last = client.get("/renew?next=/", headers=BROWSER)
    assert verify(PUBLISHED, session_of(last), clock()).expires_at == signed_in.replace(microsecond=0) + timedelta(
        hours=8)
    clock.advance(minutes=19)
    assert client.get("/", headers=BROWSER).status_code == 200  # its last token: no renewal
    clock.advance(minutes=1)
    assert client.get("/", headers=BROWSER).status_code == 401
    again = verify(PUBLISHED, session_of(sign_in_form(client)), clock())  # signing in again starts a new day
    assert again.signed_in_at == clock().replace(microsecond=0)


def test_a_browser_idle_for_30_minutes_is_signed_out_and_signing_out_revokes_every_renewal(client, clock):
    first = session_of(sign_in_form(client))
    clock.advance(minutes=29, seconds=59)
    renewed = session_of(client.get("/renew?next=/", headers=BROWSER))
    clock.advance(minutes=29, seconds=59)
    assert client.get("/", headers=bearer(renewed)).status_code == 200
    assert client.get("/", headers=bearer(first)).status_code == 401  # expired

    client.get("/renew?next=/", headers=BROWSER)  # the browser's latest renewal
    page = client.get("/", headers=BROWSER)
    client.post("/sign-out", data={"csrf_token": form_token(page.text)}, headers=BROWSER)

    refused = client.get("/", headers=bearer(renewed))
    assert refused.status_code == 401 and "revoked" in refused.get_json()["error"]
    clock.advance(minutes=30)
    idle = session_of(sign_in_form(client))
    clock.advance(minutes=30)
    assert "expired" in client.get("/", headers=bearer(idle)).get_json()["error"]


def test_signing_in_again_in_a_browser_revokes_its_previous_token(client, clock):
    first = cookie(sign_in_form(client)).split(";")[0].removeprefix(f"{COOKIE}=")
    clock.advance(seconds=1)

    second = cookie(sign_in_form(client)).split(";")[0].removeprefix(f"{COOKIE}=")

    assert second != first
    assert client.get("/", headers=bearer(second)).status_code == 200
    copied = client.get("/", headers=bearer(first))
    assert copied.status_code == 401 and "revoked" in copied.get_json()["error"]


def test_who_is_signed_in_sends_a_browser_without_a_session_to_the_sign_in_page(client):
    browser = client.get("/", headers=BROWSER)
    program = client.get("/", headers=JSON)

    assert browser.status_code == 303 and browser.headers["Location"] == "/account/sign-in?next=/"
    assert program.status_code == 401 and program.headers["WWW-Authenticate"] == "Bearer"
    assert program.get_json()["error"].startswith("Sign in first")


def test_who_is_signed_in_is_told_to_anyone_without_a_refusal(client, clock, make_app, settings_for):
    anonymous = client.get("/caller", headers=JSON)
    sign_in_form(client)
    signed_in = client.get("/caller", headers=JSON)
    expired = client.get("/caller", headers=bearer(issue(KEY, "alice", {"sales"}, timedelta(minutes=-1), clock())))
    sign_in_off = make_app("account", settings_for("account")).test_client().get("/caller", headers=JSON)

    assert [(r.status_code, r.get_json()) for r in (anonymous, signed_in, expired, sign_in_off)] == [
        (200, {"signIn": "on", "name": None}), (200, {"signIn": "on", "name": "alice"}),
        (200, {"signIn": "on", "name": None}), (200, {"signIn": "off", "name": None})]
    assert {r.headers["Cache-Control"] for r in (anonymous, signed_in, expired, sign_in_off)} == {"no-store"}


def test_a_token_of_a_removed_account_is_refused(account_app, client, clock):
    token = client.post("/token", json={"name": "alice", "password": PASSWORD}).get_json()["token"]
    clock.advance(seconds=1)
    with parts.database(account_app).session() as session:
        service.remove_account(session, "alice", clock())

    assert client.get("/", headers=bearer(token)).status_code == 401


def test_the_revoked_list_needs_the_service_role(client, clock):
    sales = client.post("/token", json={"name": "alice", "password": PASSWORD}).get_json()["token"]
    from_a_service = issue(KEY, "service:invoicing", {"service"}, timedelta(minutes=5), clock())
    other_key = issue(SigningKey.new(), "service:x", {"service"}, timedelta(minutes=5), clock())

    assert client.get("/revoked", headers=JSON).status_code == 401
    assert client.get("/revoked", headers=bearer(other_key)).get_json()["error"] == (
        "The token was signed with a key this system does not know (any more); sign in again.")
    refused = client.get("/revoked", headers=bearer(sales))
    assert refused.status_code == 403
    assert refused.get_json()["error"] == ("Your account (alice: sales) may not read the revoked tokens; "
                                           "that needs the role service or admin.")
    listed = client.get("/revoked", headers=bearer(from_a_service))
    assert listed.status_code == 200 and listed.get_json() == {"accounts": [], "tokens": []}
    assert listed.headers["Cache-Control"] == "private, no-cache"
    again = client.get("/revoked", headers={**bearer(from_a_service), "If-None-Match": listed.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("asked, sent_to", [
    ("/order/5?embed=documents", "/order/5?embed=documents"),
    ("//evil.example/", "/"),
    ("/\\evil.example/", "/"),
    ("https://evil.example/", "/"),
    ("javascript:alert(1)", "/"),
    ("", "/"),
])
def test_after_signing_in_only_a_path_of_this_site_is_followed(client, asked, sent_to):
    page = client.get("/sign-in", query_string={"next": asked}, headers=BROWSER)
    response = client.post("/sign-in", data={"csrf_token": form_token(page.text), "name": "alice",
                                             "password": PASSWORD, "next": asked}, headers=BROWSER)

    assert response.headers["Location"] == sent_to


def test_without_a_signing_key_the_page_says_sign_in_is_off(make_app, settings_for):
    client = make_app("account", settings_for("account")).test_client()

    page = client.get("/sign-in", headers=BROWSER)

    assert "Sign-in is off on this system (SIGNING_KEY is not set)" in page.text and "<form" not in page.text
    assert client.post("/token", json={"name": "alice", "password": PASSWORD}).status_code == 404
    assert client.get("/", headers=JSON).get_json() == {"name": "anyone", "roles": ["admin"]}


def test_a_browser_signs_in_and_out_over_http(account_app):
    with live_server(account_app) as url:
        browser = requests.Session()
        page = browser.get(f"{url}/sign-in?next=/account/", headers=BROWSER, timeout=10)
        signed_in = browser.post(f"{url}/sign-in", headers=BROWSER, allow_redirects=False, timeout=10, data={
            "csrf_token": form_token(page.text), "name": "alice", "password": PASSWORD, "next": "/account/"})
        mine = browser.get(url, headers=BROWSER, timeout=10)
        signed_out = browser.post(f"{url}/sign-out", headers=BROWSER, data={"csrf_token": form_token(mine.text)},
                                  timeout=10)
        after = browser.get(url, headers=BROWSER, allow_redirects=False, timeout=10)

    assert (signed_in.status_code, signed_in.headers["Location"]) == (303, "/account/")
    assert "You are signed in as <strong>alice</strong>" in mine.text
    assert signed_out.status_code == 200 and "You are signed out." in signed_out.text
    assert COOKIE not in browser.cookies
    assert after.status_code == 303 and "/sign-in?next=" in after.headers["Location"]
