"""The account context's use cases on each database: passwords kept as slow hashes, the
sign-in attempts counted to slow a guesser without locking out anyone else, and what
revokes a token before it expires."""
from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher

from account import service
from account.models import MIGRATIONS
from account.passwords import STRONG_HASHES, TEST_HASHES, Passwords
from common.auth.keys import KeySet, SigningKey
from common.auth.tokens import verify
from common.db import Database
from common.schema import upgrade

KEY = SigningKey.new()
PASSWORD = "correct horse battery staple"


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    upgrade(database, MIGRATIONS)
    yield database
    database.dispose()


@pytest.fixture
def alice(db, clock):
    with db.session() as session:
        return service.add_account(session, "alice", PASSWORD, ["sales"], clock(), TEST_HASHES)


def sign_in(db, clock, name="alice", password=PASSWORD, address="192.0.2.1", hashes=TEST_HASHES):
    return service.sign_in(db, name, password, address, clock(), Passwords(hashes))


def fail(db, clock, times: int, name="alice", address="192.0.2.1"):
    for _ in range(times):
        assert sign_in(db, clock, name, "a wrong guess", address) is None


def test_the_password_is_kept_as_an_argon2id_hash_and_only_it_signs_in(db, clock, alice):
    with db.session() as session:
        stored = service.account(session, "alice").password_hash

    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert sign_in(db, clock).name == "alice"
    assert sign_in(db, clock, password="correct horse battery") is None
    assert sign_in(db, clock, name="nobody") is None


def test_a_hash_made_with_weaker_parameters_is_made_again_at_the_next_sign_in(db, clock, alice):
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    with db.session() as session:
        service.account(session, "alice").password_hash = weak

    sign_in(db, clock, hashes=STRONG_HASHES)

    with db.session() as session:
        stored = service.account(session, "alice").password_hash
    assert stored != weak and not STRONG_HASHES.check_needs_rehash(stored)
    assert sign_in(db, clock).name == "alice"


@pytest.mark.parametrize("name, password, roles, sentence", [
    ("bob", PASSWORD, ["cook"], "Unknown role cook: an account has one or more of sales, accounting, logistics, "
                                "admin, feed-reader."),
    ("bob", PASSWORD, [], "No role: an account has one or more of"),
    ("bob", "short", ["sales"], "The password has 5 characters; it needs at least 8."),
    ("service:bob", PASSWORD, ["sales"], "A name has 1 to 64 letters, digits, dots, dashes, underscores or @"),
    ("alice", PASSWORD, ["sales"], "There is already an account named alice."),
])
def test_an_account_that_cannot_be_added_is_refused_with_a_sentence(db, clock, alice, name, password, roles,
                                                                    sentence):
    with pytest.raises(service.AccountError, match=sentence.replace("(", r"\(")), db.session() as session:
        service.add_account(session, name, password, roles, clock(), TEST_HASHES)

    with db.session() as session:
        assert [account.name for account in service.accounts(session)] == ["alice"]


def test_five_failures_from_one_address_refuse_even_the_right_password_until_the_first_leaves_the_window(
        db, clock, alice):
    fail(db, clock, 1)
    clock.advance(minutes=5)
    fail(db, clock, 4)

    with pytest.raises(service.TooManyAttempts) as refused:
        sign_in(db, clock)
    assert refused.value.retry_after == timedelta(minutes=10)
    assert str(refused.value) == "Too many sign-ins from here; try again in 10 minutes."

    clock.advance(minutes=10)
    assert sign_in(db, clock).name == "alice"


def test_the_limit_of_one_name_and_address_leaves_other_addresses_and_other_names_alone(db, clock, alice):
    with db.session() as session:
        service.add_account(session, "bob", PASSWORD, ["logistics"], clock(), TEST_HASHES)
    fail(db, clock, 5)

    assert sign_in(db, clock, address="198.51.100.7").name == "alice"
    assert sign_in(db, clock, name="bob").name == "bob"


def test_twenty_failures_from_one_address_across_names_refuse_that_address_alone(db, clock, alice):
    for name in ("carol", "dave", "erin", "frank"):
        fail(db, clock, 5, name=name)

    with pytest.raises(service.TooManyAttempts):
        sign_in(db, clock)
    assert sign_in(db, clock, address="198.51.100.7").name == "alice"


def test_signing_in_forgets_the_failures_of_that_name_from_that_address(db, clock, alice):
    fail(db, clock, 4)
    sign_in(db, clock)
    fail(db, clock, 4)

    assert sign_in(db, clock).name == "alice"


def test_a_signed_out_token_is_listed_until_it_would_have_expired(db, clock, alice):
    with db.session() as session:
        _token, expires_at = service.token_for(KEY, alice, timedelta(hours=1), clock())
        service.revoke(session, "a-token-id", expires_at, clock())
        service.revoke(session, "a-token-id", expires_at, clock())  # signed out twice

    with db.session() as session:
        assert [(token.id, token.expires_at) for token in service.revoked(session, clock()).tokens] == [
            ("a-token-id", expires_at)]
    clock.advance(hours=1)
    with db.session() as session:
        assert service.revoked(session, clock()).tokens == []


def test_removing_an_account_refuses_the_tokens_issued_before_but_not_those_of_a_new_account_of_that_name(
        db, clock, alice):
    with db.session() as session:
        before = verify(KeySet.of([KEY]), service.token_for(KEY, alice, timedelta(hours=8), clock())[0], clock())
    clock.advance(seconds=2)
    with db.session() as session:
        service.remove_account(session, "alice", clock())
        removed = service.revoked(session, clock()).accounts
    clock.advance(seconds=2)
    with db.session() as session:
        again = service.add_account(session, "alice", PASSWORD, ["admin"], clock(), TEST_HASHES)
        after = verify(KeySet.of([KEY]), service.token_for(KEY, again, timedelta(hours=8), clock())[0], clock())

    assert [(gone.name, gone.removed_at) for gone in removed] == [("alice", clock() - timedelta(seconds=2))]
    with db.session() as session:
        assert service.refusal(session, before) is not None
        assert service.refusal(session, after) is None


def test_removing_an_account_that_does_not_exist_says_so(db, clock):
    with pytest.raises(service.AccountError, match="There is no account named zoe."), db.session() as session:
        service.remove_account(session, "zoe", clock())
