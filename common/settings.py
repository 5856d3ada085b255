"""Configuration from the environment, read in one place for every service."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Callable

from common.poll_words import FeedLabels
from common.settings_table import (AUTH_KEY, EMBEDDED_DOCUMENTS, FEED_MAX_WAITING, FEED_PAGE_SIZE, MAKE_A_KEY,
                                   POLL_INTERVAL_SECONDS, POLL_WAIT_SECONDS, PORT, SECRET_KEY, TEST_PASSWORD_HASHES,
                                   PUBLIC_URL, TRUSTED_PROXIES,
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
    name it: the environment variable of its URL as this service reaches it, and the
    path of its pages from the root of every site (where it also is on this port when
    no URL is set). Its routes under that path: the account page, sign-in, sign-out and
    token (and revoked, which common/auth/revocations.py reads)."""

    url: Variable[str | None]
    path: str  # beginning with /, without a / at its end

    @property
    def sign_in_page(self) -> str:
        return f"{self.path}/sign-in"

    @property
    def sign_out(self) -> str:
        return f"{self.path}/sign-out"

    @property
    def account_page(self) -> str:
        return f"{self.path}/"

    @property
    def token(self) -> str:
        return f"{self.path}/token"


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
    # Signs and checks sign-in tokens (common/auth/tokens.py), the same for every service;
    # None: sign-in is off and anyone may do anything (`make run` on loopback only).
    auth_key: str | None = AUTH_KEY.default
    # Where people sign in, and its URL as this service reaches it (its list of revoked
    # tokens); needed while sign-in is on.
    sign_in: SignInService | None = None
    sign_in_service_url: str | None = None
    # A consumer's bearer token for the documents of the feed it follows; None: it sends none.
    feed_credential: str | None = None
    # Peers whose X-Forwarded-* headers are believed (common/proxies.py).
    trusted_proxies: tuple[Network, ...] = TRUSTED_PROXIES.default
    # The origins its links may name (common/origins.py); empty: loopback hosts alone.
    public_url: tuple[str, ...] = PUBLIC_URL.default
    # Passwords hashed at the lowest cost, for tests alone (for_production refuses it).
    test_password_hashes: bool = TEST_PASSWORD_HASHES.default
    # Injected so that tests can control time; production uses the wall clock.
    clock: Callable[[], datetime] = utc_now

    @classmethod
    def from_env(cls, service: str, environ: Mapping[str, str] | None = None,
                 feed: FeedSource | None = None, sign_in: SignInService | None = None) -> Settings:
        """The settings of `service`, which follows `feed` if given one and lets people
        sign in at `sign_in`; the feed and the sign-in service are on this port unless
        their variables name them."""
        env = os.environ if environ is None else environ
        given = {variable.attribute: variable.read(env) for variable in VARIABLES}
        given["database_url"] = given["database_url"] or default_database_url(service)
        here = f"http://127.0.0.1:{given['port']}"
        return cls(service=service, feed=feed, sign_in=sign_in,
                   feed_url=(feed.url.read(env) or here + feed.local_path) if feed else None,
                   feed_credential=feed.credential.read(env) if feed else None,
                   sign_in_service_url=(sign_in.url.read(env) or here + sign_in.path) if sign_in else None,
                   **given)

    def for_production(self) -> Settings:
        """These settings, refused when a production server cannot use them; a service
        that follows a feed needs its credential for the feed's documents too."""
        if not self.secret_key:
            raise ConfigurationError(MISSING_SECRET_KEY)
        if not self.auth_key:
            raise ConfigurationError(MISSING_AUTH_KEY)
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
MISSING_AUTH_KEY = (
    f"{AUTH_KEY.name} is not set. A production server needs it to check who signed in: a long random string, "
    f"the same for every service and process, e.g. the output of {MAKE_A_KEY}.")
