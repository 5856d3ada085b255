"""The account service publishes the public keys of its tokens (a JWKS document); the
other services fetch them over HTTP, keep them, and check tokens with them alone. Keys
roll over: a new one signs, the old one's tokens work until they expire."""
from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from account import service
from account.passwords import TEST_HASHES
from common import parts
from common.auth import tokens
from common.auth.keys import KeySet, SigningKey
from common.settings import JWKS_PATH
from msatom.stack import service_credential
from tests.conftest import live_server
from tests.support import forgeries

PASSWORD = "correct horse battery staple"
OLD, NEW = SigningKey.new(), SigningKey.new()


class Switch:
    """One address whose app the test changes: the account service restarted with other keys."""

    def __init__(self):
        self.app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@pytest.fixture
def account(make_app, settings_for, clock):
    """(the account service's URL, a function that restarts it with the keys given)."""
    switch = Switch()

    def restart(*keys: SigningKey):
        switch.app = make_app("account", settings_for("account", signing_key=keys, clock=clock))
        with parts.database(switch.app).session() as session:
            if service.account(session, "alice") is None:
                service.add_account(session, "alice", PASSWORD, ["sales"], clock(), TEST_HASHES)

    restart(OLD)
    with live_server(switch) as url:
        yield url, restart


@pytest.fixture
def order(make_app, settings_for, account, clock):
    """The order service, fetching the account service's public keys."""
    url = account[0]
    app = make_app("order", settings_for("order", signing_public_keys=url + JWKS_PATH, sign_in_service_url=url,
                                         sign_in_credential=service_credential(OLD, "order"), clock=clock))
    return app.test_client()


def sign_in(account_url: str) -> str:
    answer = requests.post(f"{account_url}/token", json={"name": "alice", "password": PASSWORD}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


def orders(client, token: str):
    return client.get("/", headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})


def test_the_public_keys_are_served_to_anyone_and_may_be_kept_a_while(account):
    answer = requests.get(account[0] + JWKS_PATH, timeout=10)

    assert answer.status_code == 200
    assert answer.json() == {"keys": [OLD.public.jwk()]}
    assert answer.headers["Cache-Control"] == "public, max-age=300"
    assert "Vary" not in answer.headers or "Cookie" not in answer.headers["Vary"]
    again = requests.get(account[0] + JWKS_PATH, headers={"If-None-Match": answer.headers["ETag"]}, timeout=10)
    assert again.status_code == 304


def test_without_keys_the_account_service_publishes_none(make_app, settings_for):
    client = make_app("account", settings_for("account")).test_client()
    answer = client.get(JWKS_PATH, headers={"Accept": "application/json"})
    assert answer.status_code == 404
    assert answer.get_json() == {"error": "Sign-in is off on this system (SIGNING_KEY is not set): everyone may do "
                                          "everything."}


def test_a_service_checks_the_account_services_tokens_with_the_keys_it_fetched(account, order):
    assert orders(order, sign_in(account[0])).status_code == 200


def test_nothing_a_service_holds_makes_a_token_it_accepts(account, order, settings_for, clock):
    """Neither its settings (the public keys, its secret key, its credential) nor
    anything published signs a token the services accept."""
    published = requests.get(account[0] + JWKS_PATH, timeout=10).json()
    held = settings_for("order")
    made = {**forgeries.every_forgery(published, clock()),
            "HMAC with its SECRET_KEY": forgeries.hmac_signed(str(held.secret_key).encode(), OLD.kid, clock()),
            "HMAC with its credential": forgeries.hmac_signed(service_credential(OLD, "order").encode(), OLD.kid,
                                                              clock())}
    answers = {case: orders(order, token) for case, token in made.items()}

    assert {case: answer.status_code for case, answer in answers.items()} == dict.fromkeys(made, 401)
    assert {answer.get_json()["error"] for answer in answers.values()} <= {tokens.NOT_SIGNED_HERE, tokens.UNKNOWN_KEY}


def test_a_token_signed_with_the_old_style_shared_key_is_refused(order, clock):
    """What every service could sign before: HS256 under one key they all held."""
    token = forgeries.hmac_signed(b"an AUTH_KEY of thirty-two bytes or more", None, clock())

    answer = orders(order, token)
    assert answer.status_code == 401 and answer.get_json()["error"] == tokens.NOT_SIGNED_HERE


def test_after_a_rollover_both_keys_work_until_the_old_ones_tokens_expire(account, order, clock):
    url, restart = account
    by_old = sign_in(url)
    assert orders(order, by_old).status_code == 200

    restart(NEW, OLD)  # a new key signs; the old one is still published
    by_new = sign_in(url)
    assert tokens.verify(KeySet.of([NEW]), by_new, clock()).name == "alice"
    clock.advance(seconds=5)  # the order service asks again for a key it lacks, at most every 5 s
    assert orders(order, by_new).status_code == 200
    assert orders(order, by_old).status_code == 200

    clock.advance(hours=1)  # POST /token's tokens last an hour
    expired = orders(order, by_old)
    assert expired.status_code == 401 and expired.get_json()["error"] == "The token has expired; sign in again."
    assert orders(order, sign_in(url)).status_code == 200


def test_a_key_no_longer_published_signs_nothing_the_services_accept(account, order, clock):
    url, restart = account
    by_old = tokens.issue(OLD, "alice", ["sales"], timedelta(days=1), clock())
    assert orders(order, by_old).status_code == 200

    restart(NEW)  # the old key retired
    clock.advance(minutes=5)  # the copy of the keys is asked for again

    refused = orders(order, by_old)
    assert refused.status_code == 401 and refused.get_json()["error"] == tokens.UNKNOWN_KEY
    assert orders(order, sign_in(url)).status_code == 200
