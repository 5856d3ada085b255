"""Settings from the environment: what an unset variable means, and the sentence that
refuses a value a service cannot use."""
from __future__ import annotations

import json

import pytest

from common.auth.keys import KeySet, SigningKey
from common.settings import ConfigurationError, Settings
from msatom.bootstrap import ACCOUNT_SERVICE, ORDER_FEED, settings_from_env

KEY, OLD = SigningKey.new(), SigningKey.new()


def test_an_empty_environment_gives_the_defaults():
    settings = Settings.from_env("shop", {})

    assert settings == Settings(service="shop", database_url="sqlite:///var/shop.db")
    assert (settings.port, settings.feed_page_size, settings.feed_max_waiting, settings.poll_interval_seconds,
            settings.poll_wait_seconds, settings.embedded_documents, settings.secret_key, settings.signing_key,
            settings.signing_public_keys, settings.trusted_proxies, settings.checks_tokens) == (
        8080, 20, 4, 5.0, 25, True, None, None, None, (), False)


def test_the_feed_and_the_sign_in_service_are_on_this_port_unless_named():
    here = settings_from_env("invoicing", {"PORT": " 9000 "})
    assert (here.feed_url, here.sign_in_service_url, here.feed_credential) == (
        "http://127.0.0.1:9000/order/feed", "http://127.0.0.1:9000/account", None)

    named = settings_from_env("invoicing", {"ORDER_FEED_URL": "http://order:8080/feed", "ORDER_CREDENTIAL": " t ",
                                            "ACCOUNT_URL": "http://account:8080"})
    assert (named.feed, named.sign_in) == (ORDER_FEED, ACCOUNT_SERVICE)
    assert (named.feed_url, named.sign_in_service_url, named.feed_credential) == (
        "http://order:8080/feed", "http://account:8080", "t")
    assert settings_from_env("order", {}).feed_url is None


def test_values_are_read_as_their_kind():
    settings = Settings.from_env("shop", {
        "PORT": "8081", "DATABASE_URL": "sqlite://", "FEED_PAGE_SIZE": "3", "FEED_MAX_WAITING": "0",
        "POLL_INTERVAL_SECONDS": "0.5", "POLL_WAIT_SECONDS": "0", "EMBEDDED_DOCUMENTS": " Off ",
        "SECRET_KEY": "s" * 32, "SIGNING_PUBLIC_KEYS": " http://account:8080/.well-known/jwks.json "})

    assert (settings.port, settings.database_url, settings.feed_page_size, settings.feed_max_waiting,
            settings.poll_interval_seconds, settings.poll_wait_seconds, settings.embedded_documents,
            settings.secret_key, settings.signing_public_keys) == (
        8081, "sqlite://", 3, 0, 0.5, 0, False, "s" * 32, "http://account:8080/.well-known/jwks.json")


@pytest.mark.parametrize("name, value, sentence", [
    ("PORT", "eighty", "PORT='eighty' is not a number."),
    ("POLL_WAIT_SECONDS", "2.5", "POLL_WAIT_SECONDS='2.5' is not a number."),
    ("POLL_INTERVAL_SECONDS", "-1", "POLL_INTERVAL_SECONDS must be at least 0, not -1."),
    ("FEED_PAGE_SIZE", "0", "FEED_PAGE_SIZE must be at least 1, not 0."),
    ("FEED_MAX_WAITING", "-2", "FEED_MAX_WAITING must be at least 0, not -2."),
    ("EMBEDDED_DOCUMENTS", "Maybe", "EMBEDDED_DOCUMENTS='maybe' is neither on nor off (1/0, true/false, yes/no)."),
    ("SECRET_KEY", "short", "SECRET_KEY is 5 bytes long; it must have at least 32. Make one with "
                            "`python3 -c 'import secrets; print(secrets.token_hex(32))'`."),
    ("SIGNING_PUBLIC_KEYS", "account:8080", "SIGNING_PUBLIC_KEYS is neither the URL of a JWKS document (http:// "
                                            "or https://) nor such a document (not JSON)."),
    ("TRUSTED_PROXIES", "10.0.0.1/8", "TRUSTED_PROXIES='10.0.0.1/8': '10.0.0.1/8' has host bits set "
                                      "(the network is 10.0.0.0/8)."),
])
def test_a_value_that_cannot_be_used_is_refused_with_a_sentence(name, value, sentence):
    with pytest.raises(ConfigurationError) as refused:
        Settings.from_env("shop", {name: value})

    assert str(refused.value) == sentence


def test_a_production_server_refuses_the_test_password_hashes():
    keys = {"SECRET_KEY": "s" * 32, "SIGNING_KEY": KEY.hex()}
    assert settings_from_env("account", keys).for_production().test_password_hashes is False

    with pytest.raises(ConfigurationError, match="TEST_PASSWORD_HASHES is set.*for tests alone"):
        settings_from_env("account", {**keys, "TEST_PASSWORD_HASHES": "1"}).for_production()


def test_the_private_keys_are_read_by_the_service_that_signs_alone():
    both = {"SIGNING_KEY": f"{KEY.hex()},{OLD.hex()}", "SIGNING_PUBLIC_KEYS": "http://account/.well-known/jwks.json"}
    account, order = settings_from_env("account", both), settings_from_env("order", both)

    assert (account.signing_key, account.signing_public_keys, account.checks_tokens) == ((KEY, OLD), None, True)
    assert (order.signing_key, order.signing_public_keys, order.checks_tokens) == (
        None, "http://account/.well-known/jwks.json", True)


def test_the_private_keys_may_be_in_a_file(tmp_path):
    keys = tmp_path / "signing-key"
    keys.write_text(f"{KEY.hex()}\n")

    assert settings_from_env("account", {"SIGNING_KEY": str(keys)}).signing_key == (KEY,)
    with pytest.raises(ConfigurationError, match=f"SIGNING_KEY names the file {tmp_path}/nothing, which cannot be "
                                                 "read \\(No such file or directory\\)"):
        settings_from_env("account", {"SIGNING_KEY": str(tmp_path / "nothing")})
    keys.write_text("not a key")
    with pytest.raises(ConfigurationError, match=f"SIGNING_KEY \\(the file {keys}\\) is no list of signing keys: "
                                                 "its key number 1 is not a key"):
        settings_from_env("account", {"SIGNING_KEY": str(keys)})


def test_the_public_keys_may_be_given_as_a_jwks_document():
    document = json.dumps(KeySet.of([KEY]).jwks())
    assert settings_from_env("order", {"SIGNING_PUBLIC_KEYS": document}).signing_public_keys == KeySet.of([KEY])


@pytest.mark.parametrize("service, environ, missing", [
    ("account", {}, "SIGNING_KEY is not set. The account service's production server signs"),
    ("order", {}, "SIGNING_PUBLIC_KEYS is not set. A production server needs it"),
    ("order", {"SIGNING_KEY": KEY.hex(), "SIGNING_PUBLIC_KEYS": "http://account"},
     "SIGNING_KEY is set, and it is the account service's alone: whoever holds it can sign anyone's sign-in. "
     "Remove it from this service's environment; it checks tokens with SIGNING_PUBLIC_KEYS."),
    ("order", {"SIGNING_PUBLIC_KEYS": "http://account"}, "ACCOUNT_CREDENTIAL is not set. This service reads the "
                                                         "list of revoked tokens"),
    ("invoicing", {"SIGNING_PUBLIC_KEYS": "http://account", "ACCOUNT_CREDENTIAL": "t"},
     "ORDER_CREDENTIAL is not set."),
])
def test_a_production_server_refuses_to_start_without_its_keys_and_credentials(service, environ, missing):
    with pytest.raises(ConfigurationError) as refused:
        settings_from_env(service, {"SECRET_KEY": "s" * 32, **environ}).for_production()
    assert str(refused.value).startswith(missing)
