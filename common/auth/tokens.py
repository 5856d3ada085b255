"""Sign-in tokens: JSON Web Tokens (RFC 7519) that the sign-in service alone signs, with
its Ed25519 key (EdDSA), and that every service checks on its own with that service's
public keys (keys.py), without asking it each time. The header names the key (`kid`);
EdDSA is the one algorithm accepted, so that a token signed otherwise (with HMAC and a
public key as its secret, say) never passes. A token names an account and its roles,
and carries its own id, so that signing out can revoke it before it expires.

A browser's token also says when the browser signed in (`auth_time`, as OpenID Connect
names it): it lives only as long as the browser may stay idle, and the account service
renews it, under the same id, while the browser keeps opening pages, up to
SESSION_LIMIT after signing in."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol

import jwt

from common.auth.keys import PublicKey, SigningKey

ISSUER = "microservice-atom"
ALGORITHM = "EdDSA"
COOKIE = "msatom_session"  # the browser's copy, for every service of the site (Path=/)
LATEST = 253402300800  # 10000-01-01: past any time a token names
# A browser's sign-in ends this long after it began, however often it was renewed: a working day.
SESSION_LIMIT = timedelta(hours=8)


NOT_OURS = "The token is not one this system issues."
NOT_SIGNED_HERE = "The token was not signed by this system."
UNKNOWN_KEY = "The token was signed with a key this system does not know (any more); sign in again."


class TokenError(Exception):
    """A token that cannot be used, with a sentence a person understands."""


class KeysUnavailable(Exception):
    """The keys that check tokens cannot be had yet: no token can be judged, good or bad."""


class PublicKeys(Protocol):
    """The keys a service checks signatures with: its own, a setting, or the JWKS it fetches."""

    def find(self, kid: str) -> PublicKey | None:
        """The key named `kid`; None when there is none; KeysUnavailable when that
        cannot be told yet."""


@dataclass(frozen=True)
class Identity:
    """Who a valid token speaks for."""
    name: str
    roles: frozenset[str]
    token_id: str
    issued_at: datetime
    expires_at: datetime
    # When the browser signed in, for a browser's token; None for a program's.
    signed_in_at: datetime | None = None

    @property
    def session_ends_at(self) -> datetime:
        """The latest a token of this sign-in can expire, renewed or not (revoking it
        lasts as long)."""
        return self.signed_in_at + SESSION_LIMIT if self.signed_in_at is not None else self.expires_at

    def due_for_renewal(self, now: datetime) -> bool:
        """Whether a browser's token has lived a third of its life and may live longer:
        the next page the browser opens has it renewed."""
        if self.signed_in_at is None or self.expires_at >= self.session_ends_at:
            return False
        return now - self.issued_at >= (self.expires_at - self.issued_at) / 3


def issue(key: SigningKey, name: str, roles, lifetime: timedelta, now: datetime,
          signed_in_at: datetime | None = None, token_id: str | None = None) -> str:
    """A token for `name` with `roles`, valid for `lifetime` from `now`; a browser's with
    `signed_in_at`, and a renewed one with the `token_id` of the one it replaces."""
    claims = {"iss": ISSUER, "sub": name, "roles": sorted(roles), "jti": token_id or uuid.uuid4().hex,
              "iat": int(now.timestamp()), "exp": int((now + lifetime).timestamp())}
    if signed_in_at is not None:
        claims["auth_time"] = int(signed_in_at.timestamp())
    return jwt.encode(claims, key.private, algorithm=ALGORITHM, headers={"kid": key.kid})


def verify(keys: PublicKeys, token: str, now: datetime) -> Identity:
    """The identity `token` speaks for, if one of `keys` signed it and it has not expired
    at `now`; TokenError otherwise, KeysUnavailable when `keys` cannot be had."""
    try:
        # The expiry is checked against `now` below, the service's clock, not PyJWT's.
        claims = jwt.decode(token, _key(keys, token).key, algorithms=[ALGORITHM], issuer=ISSUER,
                            options={"require": ["iss", "sub", "jti", "iat", "exp"], "verify_exp": False,
                                     "verify_iat": False})
    except jwt.InvalidSignatureError:
        raise TokenError(NOT_SIGNED_HERE) from None
    except jwt.PyJWTError:
        raise TokenError(NOT_OURS) from None
    roles = claims.get("roles")
    if (not isinstance(roles, list) or not all(isinstance(role, str) for role in roles)
            or not all(isinstance(claims[text], str) for text in ("sub", "jti"))):
        raise TokenError(NOT_OURS)
    issued_at, expires_at = _moment(claims["iat"]), _moment(claims["exp"])
    if expires_at <= now:
        raise TokenError("The token has expired; sign in again.")
    signed_in_at = _moment(claims["auth_time"]) if "auth_time" in claims else None
    return Identity(claims["sub"], frozenset(roles), claims["jti"], issued_at, expires_at, signed_in_at)


def _key(keys: PublicKeys, token: str) -> PublicKey:
    """The key the token's header names, when the token is signed as this system signs."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenError(NOT_OURS) from None
    kid = header.get("kid")
    if header.get("alg") != ALGORITHM:
        raise TokenError(NOT_SIGNED_HERE)
    if not isinstance(kid, str) or not kid:
        raise TokenError(NOT_OURS)
    key = keys.find(kid)
    if key is None:
        raise TokenError(UNKNOWN_KEY)
    return key


def _moment(seconds) -> datetime:
    """A claim's time (whole seconds since 1970, as RFC 7519's NumericDate); TokenError
    for anything else, or for a time no clock reaches."""
    if not isinstance(seconds, int) or isinstance(seconds, bool) or not 0 <= seconds < LATEST:
        raise TokenError(NOT_OURS)
    return datetime.fromtimestamp(seconds, timezone.utc)
