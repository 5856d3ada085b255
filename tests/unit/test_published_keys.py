"""A service's copy of the account service's public keys (its JWKS document): asked for
conditionally, kept for minutes, asked for again sooner for a key it lacks (a rollover),
but never more than every few seconds, however many tokens name unknown keys."""
from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from common.auth.keys import KeySet, SigningKey
from common.auth.published import FetchedKeys
from common.auth.tokens import KeysUnavailable
from tests.support.account_service import AccountService, Answer

URL = "http://account.example/account/.well-known/jwks.json"
OLD, NEW = SigningKey.new(), SigningKey.new()


@pytest.fixture
def account():
    return AccountService(URL)


@pytest.fixture
def keys(account, clock):
    return FetchedKeys(URL, clock, http=account)


def test_the_keys_are_asked_for_once_and_kept_for_minutes(keys, account, clock):
    account.answers = [Answer(200, KeySet.of([OLD]).jwks(), '"k1"'), Answer(304)]

    assert keys.find(OLD.kid) == OLD.public
    clock.now += timedelta(minutes=4)
    assert keys.find(OLD.kid) == OLD.public
    assert len(account.asked) == 1 and "Authorization" not in account.asked[0]  # they are public
    clock.now += timedelta(minutes=1)
    assert keys.find(OLD.kid) == OLD.public
    assert account.asked[1]["If-None-Match"] == '"k1"'


def test_a_key_the_copy_lacks_has_it_asked_for_again_after_a_few_seconds(keys, account, clock):
    account.answers = [Answer(200, KeySet.of([OLD]).jwks(), '"k1"'), Answer(200, KeySet.of([NEW, OLD]).jwks(), '"k2"')]
    assert keys.find(OLD.kid) == OLD.public

    clock.now += timedelta(seconds=4)
    assert keys.find(NEW.kid) is None  # too soon: no second request
    assert len(account.asked) == 1
    clock.now += timedelta(seconds=1)
    assert keys.find(NEW.kid) == NEW.public  # a rollover: the new key is learnt
    assert keys.find(OLD.kid) == OLD.public


def test_tokens_naming_keys_that_are_none_cost_a_request_every_few_seconds_at_most(keys, account, clock):
    account.answers = [Answer(200, KeySet.of([OLD]).jwks(), '"k1"'), Answer(304), Answer(304)]
    keys.find(OLD.kid)
    for second in range(10):
        clock.now += timedelta(seconds=1)
        assert keys.find(f"made-up-{second}") is None
    assert len(account.asked) == 3


def test_until_the_account_service_has_answered_no_token_can_be_judged_and_each_use_asks_again(keys, account, clock):
    account.answers = [requests.ConnectionError("refused"), Answer(200, {"keys": "none"}),
                       Answer(200, KeySet.of([OLD]).jwks())]
    with pytest.raises(KeysUnavailable, match="cannot check sign-in tokens yet"):
        keys.find(OLD.kid)
    with pytest.raises(KeysUnavailable):
        keys.find(OLD.kid)  # asked again at once: nothing can be judged meanwhile
    assert keys.find(OLD.kid) == OLD.public
    assert len(account.asked) == 3
    account.answers = [requests.ConnectionError("refused")]
    clock.now += timedelta(minutes=5)
    assert keys.find("made-up") is None  # once had, the keys are known: an unknown one is no key of theirs
