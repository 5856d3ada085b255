"""Sign-in tokens: JSON Web Tokens (RFC 7519) signed with HMAC-SHA256 by the sign-in
service, with the key that every service is given (AUTH_KEY), so that any service can
check one on its own without asking another. A token names an account and its roles,
and carries its own id, so that signing out can revoke it before it expires."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import jwt

ISSUER = "microservice-atom"
ALGORITHM = "HS256"
COOKIE = "msatom_session"  # the browser's copy, for every service of the site (Path=/)
LATEST = 253402300800  # 10000-01-01: past any time a token names


class TokenError(Exception):
    """A token that cannot be used, with a sentence a person understands."""


@dataclass(frozen=True)
class Identity:
    """Who a valid token speaks for."""
    name: str
    roles: frozenset[str]
    token_id: str
    issued_at: datetime
    expires_at: datetime


def issue(key: str, name: str, roles, lifetime: timedelta, now: datetime) -> str:
    claims = {"iss": ISSUER, "sub": name, "roles": sorted(roles), "jti": uuid.uuid4().hex,
              "iat": int(now.timestamp()), "exp": int((now + lifetime).timestamp())}
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def verify(key: str, token: str, now: datetime) -> Identity:
    """The identity `token` speaks for, if this system signed it and it has not expired
    at `now`; TokenError otherwise."""
    try:
        # The expiry is checked against `now` below, the service's clock, not PyJWT's.
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], issuer=ISSUER,
                            options={"require": ["iss", "sub", "jti", "iat", "exp"], "verify_exp": False,
                                     "verify_iat": False})
    except jwt.InvalidSignatureError:
        raise TokenError("The token was not signed by this system.") from None
    except jwt.PyJWTError:
        raise TokenError("The token is not one this system issues.") from None
    roles = claims.get("roles")
    if (not isinstance(roles, list) or not all(isinstance(role, str) for role in roles)
            or not all(isinstance(claims[text], str) for text in ("sub", "jti"))):
        raise TokenError("The token is not one this system issues.")
    issued_at, expires_at = _moment(claims["iat"]), _moment(claims["exp"])
    if expires_at <= now:
        raise TokenError("The token has expired; sign in again.")
    return Identity(claims["sub"], frozenset(roles), claims["jti"], issued_at, expires_at)


def _moment(seconds) -> datetime:
    """A claim's time (whole seconds since 1970, as RFC 7519's NumericDate); TokenError
    for anything else, or for a time no clock reaches."""
    if not isinstance(seconds, int) or isinstance(seconds, bool) or not 0 <= seconds < LATEST:
        raise TokenError("The token is not one this system issues.")
    return datetime.fromtimestamp(seconds, timezone.utc)
