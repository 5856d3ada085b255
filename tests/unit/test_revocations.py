"""A service's copy of the account service's list of revoked tokens: asked for at most
every few seconds, conditionally, with the service's credential, and kept while the
account service cannot be reached."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest
import requests

from common.auth import tokens
from common.auth.revocations import RevocationClient
from common.auth.tokens import Identity
from tests.support.account_service import AccountService, Answer

CREDENTIAL = "the service's credential"
URL = "http://account.example/account/revoked"
LIST = {"accounts": [{"name": "carol", "removedAt": "2026-11-22T09:30:00+00:00"}],
        "tokens": [{"id": "signed-out", "expiresAt": "2026-11-22T18:00:00+00:00"}]}


@pytest.fixture
def account():
    return AccountService(URL)


@pytest.fixture
def client(account, clock):
    return RevocationClient(URL, CREDENTIAL, clock, "refused ({status}): set A_CREDENTIAL", http=account)


def identity(name="alice", token_id="some-session", issued=datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)):
    return Identity(name, frozenset({"sales"}), token_id, issued, issued + timedelta(hours=8))


def test_the_list_refuses_tokens_signed_out_and_those_of_removed_accounts(client, account):
    account.answers = [Answer(200, LIST, '"v1"')]
    assert client.refusal(identity(token_id="signed-out")) is not None
    assert client.refusal(identity("carol")) is not None
    assert client.refusal(identity("carol", issued=datetime(2026, 11, 22, 9, 45, tzinfo=timezone.utc))) is None
    assert client.refusal(identity()) is None


def test_the_service_asks_with_its_credential(client, account):
    account.answers = [Answer(200, LIST)]
    client.refusal(identity())
    assert account.asked[0]["Authorization"] == f"Bearer {CREDENTIAL}"


def test_a_credential_refused_is_logged_with_what_to_set(client, account, caplog):
    account.answers = [Answer(401)]
    with caplog.at_level(logging.WARNING, logger="common.auth.fetched"):
        client.refusal(identity())
    assert "cannot be had (refused (401): set A_CREDENTIAL)" in caplog.records[0].getMessage()


def test_the_list_is_asked_for_at_most_every_five_seconds_and_conditionally(client, account, clock):
    account.answers = [Answer(200, LIST, '"v1"'), Answer(304)]
    client.refusal(identity())
    clock.now += timedelta(seconds=4)
    client.refusal(identity())
    assert len(account.asked) == 1
    clock.now += timedelta(seconds=1)
    assert client.refusal(identity(token_id="signed-out")) is not None  # the list as it was: 304
    assert len(account.asked) == 2
    assert account.asked[1]["If-None-Match"] == '"v1"'


def test_a_new_list_replaces_the_old_one(client, account, clock):
    account.answers = [Answer(200, LIST, '"v1"'), Answer(200, {"accounts": [], "tokens": []}, '"v2"')]
    assert client.refusal(identity(token_id="signed-out")) is not None
    clock.now += timedelta(seconds=5)
    assert client.refusal(identity(token_id="signed-out")) is None


def test_while_the_account_service_cannot_be_reached_the_last_list_holds_and_is_logged_once(
        client, account, clock, caplog):
    account.answers = [Answer(200, LIST, '"v1"'), requests.ConnectionError("refused"), Answer(503),
                       Answer(200, "not a list"), Answer(304)]
    client.refusal(identity())
    with caplog.at_level(logging.INFO, logger="common.auth.fetched"):
        for _ in range(3):
            clock.now += timedelta(seconds=5)
            assert client.refusal(identity(token_id="signed-out")) is not None
        warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
        assert len(warnings) == 1 and "the last copy stays in force" in warnings[0].getMessage()
        clock.now += timedelta(seconds=5)
        client.refusal(identity())
    assert [record.getMessage() for record in caplog.records][-1].endswith("can be had again")
    assert all(tokens.COOKIE not in record.getMessage() and "Bearer" not in record.getMessage()
               for record in caplog.records)


def test_before_a_first_answer_the_list_is_still_asked_for_at_most_every_five_seconds(client, account, clock):
    # An account service that never answers (or a service alone, asking itself) must not
    # slow every request that carries a token.
    account.answers = [requests.ConnectionError("refused"), Answer(200, LIST, '"v1"')]
    assert client.refusal(identity(token_id="signed-out")) is None  # nothing known to be revoked yet
    clock.now += timedelta(seconds=4)
    client.refusal(identity())
    assert len(account.asked) == 1
    clock.now += timedelta(seconds=1)
    assert client.refusal(identity(token_id="signed-out")) is not None
