"""Configuration from the environment, read in one place for every service."""
from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Callable

from common.poll_words import FeedLabels
from common.utc import utc_now

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConfigurationError(ValueError):
    """A setting in the environment cannot be used."""


@dataclass(frozen=True)
class FeedSource:
    """The feed a service follows, as its settings and its sentences name it: the
    environment variables of the feed's URL and of the credential the service shows,
    where the feed is on this port when no URL is set, the role the credential's
    account needs, and the words for the feed's writer and its entries."""

    url_variable: str
    credential_variable: str
    local_path: str  # from the root of this port, beginning with /
    reader_role: str
    labels: FeedLabels

    def missing_credential(self) -> str:
        return (f"{self.credential_variable} is not set. This service reads the documents of "
                f"{self.labels.source} with it: a token of an account with the role {self.reader_role}, "
                "from `msatom user token NAME` (see the README).")

    def refused_credential(self) -> str:
        """What a refusal says, with `{status}` to fill in."""
        return (f"{self.labels.source[:1].upper()}{self.labels.source[1:]} refused this service's credential "
                f"({{status}}): set {self.credential_variable} to a token of an account with the role "
                f"{self.reader_role}.")


@dataclass(frozen=True)
class SignInService:
    """The service where people sign in and get tokens, as the settings and the pages
    name it: the environment variable of its URL as this service reaches it, and the
    path of its pages from the root of every site (where it also is on this port when
    no URL is set). Its routes under that path: sign-in, sign-out and token (and
    revoked, which common/auth/revocations.py reads)."""

    url_variable: str
    path: str  # beginning with /, without a / at its end

    @property
    def sign_in_page(self) -> str:
        return f"{self.path}/sign-in"

    @property
    def sign_out(self) -> str:
        return f"{self.path}/sign-out"

    @property
    def token(self) -> str:
        return f"{self.path}/token"


@dataclass(frozen=True)
class Settings:
    service: str
    database_url: str
    port: int = 8080
    # The feed this service follows, if it follows one, and where it is.
    feed: FeedSource | None = None
    feed_url: str | None = None
    feed_page_size: int = 20
    # Requests one process holds waiting for the feed to grow (long-poll, common/feed/waiting.py);
    # past it a request is answered at once. `msatom run`/`serve` answer with 8 threads: half
    # may wait. Under gunicorn msatom/gunicorn_conf.py derives it from the worker's threads.
    feed_max_waiting: int = 4
    poll_interval_seconds: float = 5.0
    # Between polls a consumer waits on the feed this long (long-poll); 0: only the interval.
    poll_wait_seconds: int = 25  # whole seconds, as RFC 7240's wait preference takes them
    # Consumers read pages with each entry's document inline where the feed offers them.
    embedded_documents: bool = True
    # Signs session cookies and form tokens; None: a random key per process (development).
    secret_key: str | None = None
    # Signs and checks sign-in tokens (common/auth/tokens.py), the same for every service;
    # None: sign-in is off and anyone may do anything (`make run` on loopback only).
    auth_key: str | None = None
    # Where people sign in, and its URL as this service reaches it (its list of revoked
    # tokens); needed while sign-in is on.
    sign_in: SignInService | None = None
    sign_in_service_url: str | None = None
    # A consumer's bearer token for the documents of the feed it follows; None: it sends none.
    feed_credential: str | None = None
    # Peers whose X-Forwarded-* headers are believed (common/proxies.py); none by default.
    trusted_proxies: tuple[Network, ...] = ()
    # Injected so that tests can control time; production uses the wall clock.
    clock: Callable[[], datetime] = utc_now

    @classmethod
    def from_env(cls, service: str, environ: Mapping[str, str] | None = None,
                 feed: FeedSource | None = None, sign_in: SignInService | None = None) -> Settings:
        """The settings of `service`, which follows `feed` if given one and lets people
        sign in at `sign_in`."""
        env = os.environ if environ is None else environ
        port = _number(env, "PORT", int, 8080)
        return cls(
            service=service,
            database_url=env.get("DATABASE_URL") or default_database_url(service),
            port=port,
            feed=feed,
            feed_url=(env.get(feed.url_variable) or f"http://127.0.0.1:{port}{feed.local_path}") if feed else None,
            feed_credential=(env.get(feed.credential_variable, "").strip() or None) if feed else None,
            feed_page_size=_number(env, "FEED_PAGE_SIZE", int, 20, minimum=1),
            feed_max_waiting=_number(env, "FEED_MAX_WAITING", int, 4),
            poll_interval_seconds=_number(env, "POLL_INTERVAL_SECONDS", float, 5.0),
            poll_wait_seconds=_number(env, "POLL_WAIT_SECONDS", int, 25),
            embedded_documents=_switch(env, "EMBEDDED_DOCUMENTS", True),
            secret_key=_secret(env, "SECRET_KEY"),
            auth_key=_secret(env, "AUTH_KEY"),
            sign_in=sign_in,
            sign_in_service_url=(env.get(sign_in.url_variable) or f"http://127.0.0.1:{port}{sign_in.path}") if sign_in else None,
            trusted_proxies=_networks(env, "TRUSTED_PROXIES"),
        )

    def for_production(self) -> Settings:
        """These settings, refused when a production server cannot use them; a service
        that follows a feed needs its credential for the feed's documents too."""
        if not self.secret_key:
            raise ConfigurationError(MISSING_SECRET_KEY)
        if not self.auth_key:
            raise ConfigurationError(MISSING_AUTH_KEY)
        if self.feed and not self.feed_credential:
            raise ConfigurationError(self.feed.missing_credential())
        return self

    def but(self, **changes) -> Settings:
        return replace(self, **changes)


MAKE_A_KEY = "`python3 -c 'import secrets; print(secrets.token_hex(32))'`"
MISSING_SECRET_KEY = (
    "SECRET_KEY is not set. A production server needs it to sign its forms and cookies: "
    f"a long random string, the same for every process of the service, e.g. the output of {MAKE_A_KEY}.")
MISSING_AUTH_KEY = (
    "AUTH_KEY is not set. A production server needs it to check who signed in: a long random string, "
    f"the same for every service and process, e.g. the output of {MAKE_A_KEY}.")
# A key that can be guessed lets anyone sign forms and cookies: 32 bytes, as the
# 256 bits of the HMAC's hash.
MIN_SECRET_KEY_BYTES = 32


# Where `msatom run` and the commands run beside it keep their files, relative to the
# folder they run in: the services' SQLite files among them.
LOCAL_FOLDER = "var"


def default_database_url(service: str) -> str:
    return f"sqlite:///{LOCAL_FOLDER}/{service}.db"


def _number(env, name, kind, default, minimum=0):
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a number.") from None
    if value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}, not {raw}.")
    return value


def _secret(env, name) -> str | None:
    """A secret key, refused when it is too short to withstand guessing; None when unset."""
    raw = env.get(name, "").strip()
    if raw and len(raw.encode()) < MIN_SECRET_KEY_BYTES:
        raise ConfigurationError(
            f"{name} is {len(raw.encode())} bytes long; it must have at least {MIN_SECRET_KEY_BYTES}. "
            f"Make one with {MAKE_A_KEY}.")
    return raw or None


def _networks(env, name) -> tuple[Network, ...]:
    """Comma-separated IP addresses and CIDR networks, IPv4 or IPv6; empty: none."""
    raw = env.get(name, "")
    networks = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        try:
            networks.append(ipaddress.ip_network(item))
        except ValueError:
            raise ConfigurationError(f"{name}={raw.strip()!r}: {_network_mistake(item)}.") from None
    return tuple(networks)


def _network_mistake(item: str) -> str:
    try:
        meant = ipaddress.ip_network(item, strict=False)
    except ValueError:
        return f"{item!r} is neither an IP address nor a network such as 10.0.0.0/8 or fd00::/8"
    return f"{item!r} has host bits set (the network is {meant})"


def _switch(env, name, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigurationError(f"{name}={raw!r} is neither on nor off (1/0, true/false, yes/no).")
