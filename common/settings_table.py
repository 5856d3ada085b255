"""The environment variables of every service's settings, one row each: how it is read,
what an unset one means, and the sentence that says what it is for. The settings
(common/settings.py) read these rows, `msatom stack` clears and sets them, and the
README shows them, so that none of the three can say otherwise than the others."""
from __future__ import annotations

import ipaddress
import string
from pathlib import Path
from urllib.parse import urlsplit
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from common.auth import keys
from common.auth.keys import KEY_BYTES, KeySet, SigningKey

T = TypeVar("T")
N = TypeVar("N", int, float)
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConfigurationError(ValueError):
    """A setting in the environment cannot be used."""


@dataclass(frozen=True)
class Variable(Generic[T]):
    """One environment variable. Set to more than blanks, its value (stripped) is read
    with `parse`, which refuses one it cannot use; unset, it is `default`.
    `shown_default` is what the README says of it unset where the value alone says too
    little; `{default}` in it stands for the value."""

    name: str
    parse: Callable[[str, str], T]  # (name, value) -> what the settings hold
    default: T
    meaning: str
    shown_default: str = ""

    @staticmethod
    def text(name: str, meaning: str, shown_default: str) -> Variable[str | None]:
        """A variable taken as it is, None when unset."""
        return Variable(name, _text, None, meaning, shown_default)

    @property
    def attribute(self) -> str:
        """Its attribute of Settings, when it is one of theirs: its name in lower case."""
        return self.name.lower()

    def read(self, env: Mapping[str, str]) -> T:
        raw = env.get(self.name, "").strip()
        return self.parse(self.name, raw) if raw else self.default

    def markdown_row(self) -> str:
        shown = self.shown_default.format(default=_shown(self.default)) or _shown(self.default)
        return f"| `{self.name}` | {self.meaning} | {shown} |"


def markdown_table(variables: Iterable[Variable]) -> str:
    """The README's table of the variables, one line each."""
    return "\n".join(["| variable | meaning | default |", "|---|---|---|",
                      *(variable.markdown_row() for variable in variables)])


def _shown(value: object) -> str:
    """A value as it is written in the environment."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _text(name: str, raw: str) -> str:
    return raw


def _number(kind: Callable[[str], N], minimum: int = 0) -> Callable[[str, str], N]:
    def parse(name: str, raw: str) -> N:
        try:
            value = kind(raw)
        except ValueError:
            raise ConfigurationError(f"{name}={raw!r} is not a number.") from None
        if value < minimum:
            raise ConfigurationError(f"{name} must be at least {minimum}, not {raw}.")
        return value
    return parse


def _one_of(*choices: str) -> Callable[[str, str], str]:
    def parse(name: str, raw: str) -> str:
        if raw.lower() not in choices:
            raise ConfigurationError(f"{name}={raw!r}: say {' or '.join(choices)}.")
        return raw.lower()
    return parse


def _switch(name: str, raw: str) -> bool:
    raw = raw.lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigurationError(f"{name}={raw!r} is neither on nor off (1/0, true/false, yes/no).")


MAKE_A_KEY = "`python3 -c 'import secrets; print(secrets.token_hex(32))'`"
# A key that can be guessed lets anyone sign forms and cookies: 32 bytes, as the
# 256 bits of the HMAC's hash.
MIN_SECRET_KEY_BYTES = 32


def _secret(name: str, raw: str) -> str | None:
    """A secret key, refused when it is too short to withstand guessing."""
    if len(raw.encode()) < MIN_SECRET_KEY_BYTES:
        raise ConfigurationError(
            f"{name} is {len(raw.encode())} bytes long; it must have at least {MIN_SECRET_KEY_BYTES}. "
            f"Make one with {MAKE_A_KEY}.")
    return raw


def held_keys(raw: str) -> bool:
    """Whether SIGNING_KEY's value holds the keys themselves, not the path of their file."""
    return all(char in string.hexdigits + "," + string.whitespace for char in raw)


def _signing_keys(name: str, raw: str) -> tuple[SigningKey, ...]:
    """Private keys in hex, comma-separated, or the path of a file of them."""
    if held_keys(raw):
        source, text = "", raw
    else:
        source, text = f" (the file {raw})", _file(name, raw)
    try:
        return keys.signing_keys(text)
    except ValueError as error:
        raise ConfigurationError(f"{name}{source} is no list of signing keys: {error}. Make a key with "
                                 f"{MAKE_A_KEY}, or `msatom keys new`.") from None


def _file(name: str, path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError as error:
        raise ConfigurationError(f"{name} names the file {path}, which cannot be read ({error.strerror or error}); "
                                 "it holds either the keys themselves or the path of a file of them.") from None


def _public_keys(name: str, raw: str) -> str | KeySet:
    """The URL of a JWKS document, or the document itself."""
    if raw.startswith(("http://", "https://")):
        return raw
    try:
        return KeySet.from_json(raw)
    except ValueError as error:
        raise ConfigurationError(f"{name} is neither the URL of a JWKS document (http:// or https://) nor such a "
                                 f"document ({error}).") from None


def _networks(name: str, raw: str) -> tuple[Network, ...]:
    """Comma-separated IP addresses and CIDR networks, IPv4 or IPv6."""
    networks = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        try:
            networks.append(ipaddress.ip_network(item))
        except ValueError:
            raise ConfigurationError(f"{name}={raw!r}: {_network_mistake(item)}.") from None
    return tuple(networks)


def _origins(name: str, raw: str) -> tuple[str, ...]:
    """Comma-separated origins, each `http(s)://host[:port]` with no path, in the form
    they are compared in (lower case, no default port)."""
    origins = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        parts = urlsplit(item)
        try:
            port = parts.port
        except ValueError:
            port = -1
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/") or parts.query \
                or parts.username or port == -1:
            raise ConfigurationError(f"{name}={raw!r}: {item!r} is not an origin such as https://shop.example or "
                                     "http://order:8080 (a scheme, a host, maybe a port, no path).")
        origins.append(origin(parts.scheme, parts.netloc))
    return tuple(origins)


def origin(scheme: str, host: str) -> str:
    """`scheme://host[:port]` as origins are compared: in lower case, without the
    scheme's default port."""
    scheme, host = scheme.lower(), host.lower()
    default = {"http": ":80", "https": ":443"}.get(scheme)
    return f"{scheme}://{host.removesuffix(default) if default else host}"


def _network_mistake(item: str) -> str:
    try:
        meant = ipaddress.ip_network(item, strict=False)
    except ValueError:
        return f"{item!r} is neither an IP address nor a network such as 10.0.0.0/8 or fd00::/8"
    return f"{item!r} has host bits set (the network is {meant})"


# Where `msatom run` and the commands run beside it keep their files, relative to the
# folder they run in: the services' SQLite files among them.
LOCAL_FOLDER = "var"


def default_database_url(service: str) -> str:
    return f"sqlite:///{LOCAL_FOLDER}/{service}.db"


PORT = Variable("PORT", _number(int), 8080, "port of `make run` / `msatom serve`")
DATABASE_URL = Variable.text(
    "DATABASE_URL", "SQLAlchemy URL of that service's own database (`postgresql+psycopg2://...` or `sqlite:///...`)",
    f"`{default_database_url('<service>')}`")
FEED_PAGE_SIZE = Variable("FEED_PAGE_SIZE", _number(int, minimum=1), 20, "entries per page of the feed's archive")
# `msatom run` and `serve` answer with 8 threads: half may wait. Under gunicorn
# msatom/gunicorn_conf.py derives it from the worker's threads.
FEED_MAX_WAITING = Variable(
    "FEED_MAX_WAITING", _number(int), 4,
    "requests to a service's `/feed` one process holds waiting at once (long-poll, see How it works); "
    "past it a request is answered at once. Keep it below the server's threads",
    "under gunicorn its threads minus 4 (12 with the image's 16); `make run`, `msatom serve` (8 threads): {default}")
POLL_INTERVAL_SECONDS = Variable(
    "POLL_INTERVAL_SECONDS", _number(float), 5.0,
    "schedule of the pollers, fractions allowed; 0 turns following off altogether (`POST /poll` still works). "
    "While they wait on the feed (below), the pause between polls where the feed does not hold their requests")
POLL_WAIT_SECONDS = Variable(
    "POLL_WAIT_SECONDS", _number(int), 25,  # whole seconds, as RFC 7240's wait preference takes them
    "how long the pollers ask the feed to hold each request (long-poll) between polls; 0: plain polling every "
    "`POLL_INTERVAL_SECONDS`")
EMBEDDED_DOCUMENTS = Variable(
    "EMBEDDED_DOCUMENTS", _switch, True,
    "`1`: the pollers read the feed's pages with each entry's document inline where the feed offers them; "
    "`0`: they fetch each document by its link")
SECRET_KEY = Variable(
    "SECRET_KEY", _secret, None,
    "signs the session cookie and the token in every form; a random string of at least "
    f"{MIN_SECRET_KEY_BYTES} bytes, the same for every process of a service ({MAKE_A_KEY}). A shorter one stops "
    "any start with a line saying so. Required by the production server (gunicorn on `msatom.wsgi`), which stops "
    "at once without it",
    f"`make run`: a key it makes at its first start and keeps in `{LOCAL_FOLDER}/secret-key` (readable by its owner "
    "alone), so that forms open in a browser survive a restart; `msatom serve`: a random key per start (it warns)")
SIGNING_KEY: Variable[tuple[SigningKey, ...] | None] = Variable(
    "SIGNING_KEY", _signing_keys, None,
    "the account service's private keys, which alone sign the sign-in tokens (see \"Who may do what\"): each "
    f"Ed25519 key written as {2 * KEY_BYTES} hex digits ({MAKE_A_KEY} makes one), comma-separated while keys roll "
    "over (the first signs, the others are still published: `msatom keys`), or the path of a file that holds "
    "them. Only the account service reads it; set, sign-in is on there. Required by its gunicorn, made by "
    "`msatom stack`",
    "none: sign-in is off (`make run` on its loopback address only)")
SIGNING_PUBLIC_KEYS: Variable[str | KeySet | None] = Variable(
    "SIGNING_PUBLIC_KEYS", _public_keys, None,
    "where the other services find the account service's public keys, which check the sign-in tokens: the URL "
    "of its JWKS document (`http://account:8080/.well-known/jwks.json`), fetched and kept, or such a document "
    "itself; set, sign-in is on in that service. Required by gunicorn but the account service's",
    "none: sign-in is off (`make run`: the account service's keys, with `SIGNING_KEY`)")
TRUSTED_PROXIES: Variable[tuple[Network, ...]] = Variable(
    "TRUSTED_PROXIES", _networks, (),
    "the proxies a service believes, comma-separated IP addresses and networks, IPv4 or IPv6 (`172.28.80.10`, "
    "`10.0.0.0/8,fd00::/8`): from a peer among them `X-Forwarded-Host`, `-Proto`, `-Port`, `-Prefix` and `-For` "
    "set the host, scheme, port and prefix of the service's links; from any other these headers and `Forwarded` "
    "are dropped (see Production)",
    "empty: no proxy")
PUBLIC_URL: Variable[tuple[str, ...]] = Variable(
    "PUBLIC_URL", _origins, (),
    "the origins a service answers for, comma-separated (`https://shop.example,http://order:8080`): the site's, "
    "and each one another service reaches it at. Its links and redirects name the origin of the request when it "
    "is one of these (as a trusted proxy forwards it), the first one when it is not: never a host a client made "
    "up. Unset, a service answers only for loopback hosts (`127.0.0.1`, `localhost`, `[::1]`, any port) and "
    "refuses any other with `400`",
    "empty: loopback hosts only")
LOG_FORMAT = Variable(
    "LOG_FORMAT", _one_of("text", "json"), "text",
    "`json`: every log line one JSON object (time, level, service, logger, message, request id, trace and span "
    "ids), for a log shipper; `text`: lines for people")
SESSION_IDLE_SECONDS = Variable(
    "SESSION_IDLE_SECONDS", _number(int, minimum=1), 1800,
    "how long a browser stays signed in without opening a page: each page it opens renews its sign-in (once a "
    "third of this has passed), up to 8 hours after signing in. Only the account service reads it")

TEST_PASSWORD_HASHES = Variable(
    "TEST_PASSWORD_HASHES", _switch, False,
    "`1`: the sign-in service hashes new passwords with argon2id at its lowest cost, so that a test suite need not "
    "pay for each; production servers refuse to start with it")

# The variables of every service, each an attribute of Settings. Those of the feed a
# service follows and of the sign-in service come with them (FeedSource, SignInService).
VARIABLES: tuple[Variable, ...] = (PORT, DATABASE_URL, FEED_PAGE_SIZE, FEED_MAX_WAITING, POLL_INTERVAL_SECONDS,
                                   POLL_WAIT_SECONDS, EMBEDDED_DOCUMENTS, SECRET_KEY, SIGNING_KEY,
                                   SIGNING_PUBLIC_KEYS, TRUSTED_PROXIES, PUBLIC_URL, SESSION_IDLE_SECONDS, LOG_FORMAT,
                                   TEST_PASSWORD_HASHES)
