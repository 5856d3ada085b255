"""Settings from the environment: what an unset variable means, and the sentence that
refuses a value a service cannot use."""
from __future__ import annotations

import pytest

from common.settings import ConfigurationError, Settings
from msatom.bootstrap import ACCOUNT_SERVICE, ORDER_FEED, settings_from_env


def test_an_empty_environment_gives_the_defaults():
    settings = Settings.from_env("shop", {})

    assert settings == Settings(service="shop", database_url="sqlite:///var/shop.db")
    assert (settings.port, settings.feed_page_size, settings.feed_max_waiting, settings.poll_interval_seconds,
            settings.poll_wait_seconds, settings.embedded_documents, settings.secret_key, settings.auth_key,
            settings.trusted_proxies) == (8080, 20, 4, 5.0, 25, True, None, None, ())


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
        "SECRET_KEY": "s" * 32, "AUTH_KEY": "a" * 40})

    assert (settings.port, settings.database_url, settings.feed_page_size, settings.feed_max_waiting,
            settings.poll_interval_seconds, settings.poll_wait_seconds, settings.embedded_documents,
            settings.secret_key, settings.auth_key) == (8081, "sqlite://", 3, 0, 0.5, 0, False, "s" * 32, "a" * 40)


@pytest.mark.parametrize("name, value, sentence", [
    ("PORT", "eighty", "PORT='eighty' is not a number."),
    ("POLL_WAIT_SECONDS", "2.5", "POLL_WAIT_SECONDS='2.5' is not a number."),
    ("POLL_INTERVAL_SECONDS", "-1", "POLL_INTERVAL_SECONDS must be at least 0, not -1."),
    ("FEED_PAGE_SIZE", "0", "FEED_PAGE_SIZE must be at least 1, not 0."),
    ("FEED_MAX_WAITING", "-2", "FEED_MAX_WAITING must be at least 0, not -2."),
    ("EMBEDDED_DOCUMENTS", "Maybe", "EMBEDDED_DOCUMENTS='maybe' is neither on nor off (1/0, true/false, yes/no)."),
    ("AUTH_KEY", "short", "AUTH_KEY is 5 bytes long; it must have at least 32. Make one with "
                          "`python3 -c 'import secrets; print(secrets.token_hex(32))'`."),
    ("TRUSTED_PROXIES", "10.0.0.1/8", "TRUSTED_PROXIES='10.0.0.1/8': '10.0.0.1/8' has host bits set "
                                      "(the network is 10.0.0.0/8)."),
])
def test_a_value_that_cannot_be_used_is_refused_with_a_sentence(name, value, sentence):
    with pytest.raises(ConfigurationError) as refused:
        Settings.from_env("shop", {name: value})

    assert str(refused.value) == sentence


def test_a_production_server_refuses_the_test_password_hashes():
    keys = {"SECRET_KEY": "s" * 32, "AUTH_KEY": "a" * 32}
    assert Settings.from_env("account", keys).for_production().test_password_hashes is False

    with pytest.raises(ConfigurationError, match="TEST_PASSWORD_HASHES is set.*for tests alone"):
        Settings.from_env("account", {**keys, "TEST_PASSWORD_HASHES": "1"}).for_production()
