"""Sign-in tokens signed by the account service's Ed25519 key alone: whatever else a
service, or anyone who read a service's settings, could make is refused."""
from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from common.auth import keys, tokens
from common.auth.keys import KeySet, PublicKey, SigningKey
from common.auth.tokens import TokenError
from tests.support import forgeries

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)
KEY = SigningKey.new()
PUBLISHED = KeySet.of([KEY])
# RFC 8037, Appendix A: an Ed25519 key, its public half and the thumbprint of that.
RFC_D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
RFC_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC_KID = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
FORGERIES = forgeries.every_forgery(PUBLISHED.jwks(), NOW)


def test_a_token_names_its_key_and_speaks_for_its_account():
    token = tokens.issue(KEY, "alice", ["sales"], timedelta(hours=1), NOW)

    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "typ": "JWT", "kid": KEY.kid}
    identity = tokens.verify(PUBLISHED, token, NOW)
    assert (identity.name, identity.roles) == ("alice", frozenset({"sales"}))


@pytest.mark.parametrize("forged", FORGERIES.values(), ids=FORGERIES.keys())
def test_a_token_this_system_did_not_sign_is_refused(forged):
    with pytest.raises(TokenError, match="not signed by this system|a key this system does not know"):
        tokens.verify(PUBLISHED, forged, NOW)


def test_hmac_with_the_public_keys_pem_is_refused_too():
    pem = KEY.private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(TokenError, match="not signed by this system"):
        tokens.verify(PUBLISHED, forgeries.hmac_signed(pem, KEY.kid, NOW), NOW)


@pytest.mark.parametrize("kid", forgeries.ODD_KIDS, ids=repr)
def test_a_malformed_or_unknown_kid_is_refused_with_a_sentence(kid):
    with pytest.raises(TokenError):
        tokens.verify(PUBLISHED, forgeries.with_kid(kid, KEY, NOW), NOW)


def test_while_keys_roll_over_tokens_of_the_old_key_work_until_they_expire():
    old, new = SigningKey.new(), SigningKey.new()
    both = KeySet.of([new, old])
    by_old = tokens.issue(old, "alice", ["sales"], timedelta(hours=1), NOW)
    by_new = tokens.issue(new, "bob", ["sales"], timedelta(hours=1), NOW + timedelta(minutes=30))

    assert tokens.verify(both, by_old, NOW + timedelta(minutes=59)).name == "alice"
    assert tokens.verify(both, by_new, NOW + timedelta(minutes=59)).name == "bob"
    with pytest.raises(TokenError, match="expired"):
        tokens.verify(both, by_old, NOW + timedelta(hours=1))
    assert tokens.verify(both, by_new, NOW + timedelta(hours=1)).name == "bob"


def test_a_key_is_named_by_its_rfc_7638_thumbprint():
    seed = base64.urlsafe_b64decode(RFC_D + "=")
    key = SigningKey.from_hex(seed.hex())

    assert key.public.jwk() == {"kty": "OKP", "crv": "Ed25519", "x": RFC_X, "kid": RFC_KID, "alg": "EdDSA",
                                "use": "sig"}
    assert SigningKey.from_hex(key.hex()).kid == RFC_KID


def test_a_jwks_document_gives_back_the_keys_it_shows():
    rolled = KeySet.of([SigningKey.new(), KEY])
    assert KeySet.from_jwks(json.loads(json.dumps(rolled.jwks()))) == rolled


@pytest.mark.parametrize("document, problem", [
    ([], "not a JWKS document"),
    ({"keys": []}, "without an Ed25519 key"),
    ({"keys": [{"kty": "RSA", "n": "x", "e": "AQAB"}]}, "without an Ed25519 key"),
    ({"keys": [{"kty": "OKP", "crv": "Ed448", "x": RFC_X}]}, "not an Ed25519 public key"),
    ({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "short"}]}, "not 32 bytes"),
    ({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": RFC_X, "kid": "mine"}]}, "another key's"),
])
def test_a_jwks_document_that_is_none_is_refused(document, problem):
    with pytest.raises(ValueError, match=problem):
        KeySet.from_jwks(document)


def test_a_list_of_signing_keys_begins_with_the_one_that_signs():
    new, old = SigningKey.new(), SigningKey.new()
    assert [key.kid for key in keys.signing_keys(f" {new.hex()} , {old.hex()} ")] == [new.kid, old.kid]
    assert [key.kid for key in keys.signing_keys(f"{new.hex()}\n{old.hex()}\n")] == [new.kid, old.kid]


@pytest.mark.parametrize("text, problem", [
    ("", "no key"), (" , ", "no key"), ("abc", "key number 1 is not a key"),
    (f"{KEY.hex()},{'z' * 64}", "key number 2 is not a key: a signing key is 64 hex digits")])
def test_a_list_of_signing_keys_names_the_one_that_is_none(text, problem):
    with pytest.raises(ValueError, match=problem):
        keys.signing_keys(text)


def test_a_public_key_from_a_jwk_checks_what_its_private_key_signed():
    token = tokens.issue(KEY, "alice", ["sales"], timedelta(hours=1), NOW)
    assert tokens.verify(KeySet((PublicKey.from_jwk(KEY.public.jwk()),)), token, NOW).name == "alice"


def test_a_browsers_token_is_due_for_renewal_after_a_third_of_its_life_until_its_sign_in_is_8_hours_old():
    signed_in = NOW
    first = tokens.verify(PUBLISHED, tokens.issue(KEY, "alice", ["sales"], timedelta(minutes=30), signed_in,
                                                  signed_in_at=signed_in), signed_in)
    program = tokens.verify(PUBLISHED, tokens.issue(KEY, "bot", ["sales"], timedelta(minutes=30), NOW), NOW)
    late = NOW + tokens.SESSION_LIMIT - timedelta(minutes=20)
    last = tokens.verify(PUBLISHED, tokens.issue(KEY, "alice", ["sales"], timedelta(minutes=20), late,
                                                 signed_in_at=signed_in, token_id=first.token_id), late)

    assert first.signed_in_at == signed_in and first.session_ends_at == NOW + timedelta(hours=8)
    assert not first.due_for_renewal(NOW + timedelta(minutes=9, seconds=59))
    assert first.due_for_renewal(NOW + timedelta(minutes=10))
    assert (program.signed_in_at, program.session_ends_at) == (None, program.expires_at)
    assert not program.due_for_renewal(NOW + timedelta(minutes=29))
    assert last.token_id == first.token_id and last.expires_at == last.session_ends_at
    assert not last.due_for_renewal(late + timedelta(minutes=19))
