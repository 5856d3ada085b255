"""Configuration from the environment, read in one place for every service."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Callable

from common.auth.keys import KEY_BYTES, KeySet, SigningKey
from common.poll_words import FeedLabels
from common.settings_table import (EMBEDDED_DOCUMENTS, FEED_MAX_WAITING, FEED_PAGE_SIZE, LOG_FORMAT, MAKE_A_KEY,
                                   POLL_INTERVAL_SECONDS, POLL_WAIT_SECONDS, PORT, SECRET_KEY, SESSION_IDLE_SECONDS, SIGNING_KEY,
                                   SIGNING_PUBLIC_KEYS, TEST_PASSWORD_HASHES, PUBLIC_URL, TRUSTED_PROXIES,
                                   VARIABLES, ConfigurationError, Network, Variable, default_database_url)
from common.utc import utc_now


@dataclass(frozen=True)
class FeedSource:
    """The feed a service follows, as its settings and its sentences name it: the
    environment variables of the feed's URL and of the credential the service shows,
    where the feed is on this port when no URL is set, the role the credential's
    account needs, and the words for the feed's writer and its entries."""

    url: Variable[str | None]
    credential: Variable[str | None]
    local_path: str  # from the root of this port, beginning with /
    reader_role: str
    labels: FeedLabels

    def missing_credential(self) -> str:
        return (f"{self.credential.name} is not set. This service reads the documents of "
                f"{self.labels.source} with it: a token of an account with the role {self.reader_role}, "
                "from `msatom user token NAME` (see the README).")

    def refused_credential(self) -> str:
        """What a refusal says, with `{status}` to fill in."""
        return (f"{self.labels.source[:1].upper()}{self.labels.source[1:]} refused this service's credential "
                f"({{status}}): set {self.credential.name} to a token of an account with the role "
                f"{self.reader_role}.")


@dataclass(frozen=True)
class SignInService:
    """The service where people sign in and get tokens, as the settings and the pages
    name it: the environment variables of its URL as this service reaches it and of the
    credential the service shows it for the list of revoked tokens (an account's token
    with `reader_role`), and the path of its pages from the root of every site (where it
    also is on this port when no URL is set). Its routes under that path: the account
    page, sign-in, sign-out, renew and token, revoked (common/auth/revocations.py reads it) and
    the public keys (JWKS_PATH, which common/auth/published.py reads)."""

    url: Variable[str | None]
    credential: Variable[str | None]
    path: str  # beginning with /, without a / at its end
    reader_role: str

    def missing_credential(self) -> str:
        return (f"{self.credential.name} is not set. This service reads the list of revoked tokens of the account "
                f"service with it: a token of an account with the role {self.reader_role}, from `msatom user token "
                "NAME` (see the README).")

    def refused_credential(self) -> str:
        """What a refusal of the credential says, with `{status}` to fill in."""
        return (f"the account service refused this service's credential ({{status}}): set {self.credential.name} "
                f"to a token of an account with the role {self.reader_role}")

    @property
    def sign_in_page(self) -> str:
        return f"{self.path}/sign-in"

    @property
    def sign_out(self) -> str:
        return f"{self.path}/sign-out"

    @property
    def renewal(self) -> str:
        return f"{self.path}/renew"

    @property
    def account_page(self) -> str:
        return f"{self.path}/"

    @property
    def token(self) -> str:
        return f"{self.path}/token"


# Where a service publishes the public keys of its signatures (RFC 8615's well-known URIs).
JWKS_PATH = "/.well-known/jwks.json"


@dataclass(frozen=True)
class Settings:
    """A service's settings. Those named by an environment variable, and their defaults,
    are the rows of common/settings_table.py: each attribute is its variable's name in
    lower case."""

    service: str
    database_url: str
    port: int = PORT.default
    # The feed this service follows, if it follows one, and where it is.
    feed: FeedSource | None = None
    feed_url: str | None = None
    feed_page_size: int = FEED_PAGE_SIZE.default
    # Requests one process holds waiting for the feed to grow (common/feed/waiting.py).
    feed_max_waiting: int = FEED_MAX_WAITING.default
    poll_interval_seconds: float = POLL_INTERVAL_SECONDS.default
    # Between polls a consumer waits on the feed this long; 0: only the interval.
    poll_wait_seconds: int = POLL_WAIT_SECONDS.default
    embedded_documents: bool = EMBEDDED_DOCUMENTS.default
    # Signs session cookies and form tokens; None: a random key per process (development).
    secret_key: str | None = SECRET_KEY.default
    # Whether this service is the one that signs the sign-in tokens (common/auth/tokens.py):
    # it holds the private keys; every other holds where the public keys are. Without
    # its keys sign-in is off and anyone may do anything (`make run` on loopback only).
    signs_tokens: bool = False
    signing_key: tuple[SigningKey, ...] | None = SIGNING_KEY.default
    signing_public_keys: str | KeySet | None = SIGNING_PUBLIC_KEYS.default
    # Whether the environment gave SIGNING_KEY to a service that does not sign (which
    # reads it not): a production server refuses to hold it.
    given_private_key: bool = False
    # Where people sign in, its URL as this service reaches it and the credential this
    # service shows it for its list of revoked tokens; needed while sign-in is on.
    sign_in: SignInService | None = None
    sign_in_service_url: str | None = None
    sign_in_credential: str | None = None
    # A consumer's bearer token for the documents of the feed it follows; None: it sends none.
    feed_credential: str | None = None
    # Peers whose X-Forwarded-* headers are believed (common/proxies.py).
    trusted_proxies: tuple[Network, ...] = TRUSTED_PROXIES.default
    # The origins its links may name (common/origins.py); empty: loopback hosts alone.
    public_url: tuple[str, ...] = PUBLIC_URL.default
    # Log lines as text or JSON (common/logs.py reads it before any settings are made).
    log_format: str = LOG_FORMAT.default
    # How long a browser's sign-in lasts unused (the account service's tokens for browsers).
    session_idle_seconds: int = SESSION_IDLE_SECONDS.default
    # Passwords hashed at the lowest cost, for tests alone (for_production refuses it).
    test_password_hashes: bool = TEST_PASSWORD_HASHES.default
    # Injected so that tests can control time; production uses the wall clock.
    clock: Callable[[], datetime] = utc_now

    @classmethod
    def from_env(cls, service: str, environ: Mapping[str, str] | None = None,
                 feed: FeedSource | None = None, sign_in: SignInService | None = None,
                 signs_tokens: bool = False) -> Settings:
        """The settings of `service`, which follows `feed` if given one, lets people sign
        in at `sign_in` and, with `signs_tokens`, is that service; the feed and the
        sign-in service are on this port unless their variables name them. The private
        keys are read by the service that signs alone."""
        env = os.environ if environ is None else environ
        given = {variable.attribute: variable.read(env)
                 for variable in VARIABLES if variable is not (SIGNING_PUBLIC_KEYS if signs_tokens else SIGNING_KEY)}
        given["database_url"] = given["database_url"] or default_database_url(service)
        here = f"http://127.0.0.1:{given['port']}"
        return cls(service=service, feed=feed, sign_in=sign_in, signs_tokens=signs_tokens,
                   given_private_key=not signs_tokens and bool(env.get(SIGNING_KEY.name, "").strip()),
                   feed_url=(feed.url.read(env) or here + feed.local_path) if feed else None,
                   feed_credential=feed.credential.read(env) if feed else None,
                   sign_in_service_url=(sign_in.url.read(env) or here + sign_in.path) if sign_in else None,
                   sign_in_credential=sign_in.credential.read(env) if sign_in and not signs_tokens else None,
                   **given)

    @property
    def checks_tokens(self) -> bool:
        """Whether sign-in is on here: this service has the keys it checks tokens with."""
        return (self.signing_key if self.signs_tokens else self.signing_public_keys) is not None

    @property
    def keys_variable(self) -> Variable:
        """The variable that gives this service the keys it checks tokens with."""
        return SIGNING_KEY if self.signs_tokens else SIGNING_PUBLIC_KEYS

    def for_production(self) -> Settings:
        """These settings, refused when a production server cannot use them: the keys of
        the sign-in tokens, and the credentials a service shows the account service (for
        its list of revoked tokens) and the feed it follows (for the feed's documents)."""
        if not self.secret_key:
            raise ConfigurationError(MISSING_SECRET_KEY)
        if self.given_private_key:
            raise ConfigurationError(STRAY_SIGNING_KEY)
        if not self.checks_tokens:
            raise ConfigurationError(MISSING_SIGNING_KEY if self.signs_tokens else MISSING_PUBLIC_KEYS)
        if self.sign_in and not self.signs_tokens and not self.sign_in_credential:
            raise ConfigurationError(self.sign_in.missing_credential())
        if self.feed and not self.feed_credential:
            raise ConfigurationError(self.feed.missing_credential())
        if self.test_password_hashes:
            raise ConfigurationError(TEST_HASHES_IN_PRODUCTION)
        return self

    def but(self, **changes) -> Settings:
        return replace(self, **changes)


MISSING_SECRET_KEY = (
    f"{SECRET_KEY.name} is not set. A production server needs it to sign its forms and cookies: "
    f"a long random string, the same for every process of the service, e.g. the output of {MAKE_A_KEY}.")
TEST_HASHES_IN_PRODUCTION = (
    f"{TEST_PASSWORD_HASHES.name} is set. Its password hashes are cheap to guess: it is for tests alone; "
    "unset it for a production server.")
MISSING_SIGNING_KEY = (
    f"{SIGNING_KEY.name} is not set. The account service's production server signs the sign-in tokens with it: "
    f"a private key of {2 * KEY_BYTES} hex digits (the output of {MAKE_A_KEY}, or `msatom keys new`), or the path "
    "of a file of them, the same for every process of the service.")
STRAY_SIGNING_KEY = (
    f"{SIGNING_KEY.name} is set, and it is the account service's alone: whoever holds it can sign anyone's "
    f"sign-in. Remove it from this service's environment; it checks tokens with {SIGNING_PUBLIC_KEYS.name}.")
MISSING_PUBLIC_KEYS = (
    f"{SIGNING_PUBLIC_KEYS.name} is not set. A production server needs it to check who signed in: the URL of the "
    "account service's public keys, e.g. http://account:8080/.well-known/jwks.json.")
