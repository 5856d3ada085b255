"""Tokens this system never signs, as an attacker makes them: signed with HMAC under a
key anyone may read (the public key, the JWKS) or under a shared key of the old kind,
signed with another private key under the real key's name, or with a `kid` that is none."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta

import jwt

from common.auth import tokens
from common.auth.keys import SigningKey


def claims(now: datetime, name: str = "admin", roles: tuple[str, ...] = ("admin",)) -> dict:
    """The claims of a real token, valid for an hour from `now`."""
    return {"iss": tokens.ISSUER, "sub": name, "roles": list(roles), "jti": "a-forgery",
            "iat": int(now.timestamp()), "exp": int((now + timedelta(hours=1)).timestamp())}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hmac_signed(secret: bytes, kid: str | None, now: datetime) -> str:
    """A token signed HS256 by hand (PyJWT refuses a key that looks public); without a
    `kid` in its header, as the tokens of the old shared key were."""
    head = {"alg": "HS256", "typ": "JWT", **({} if kid is None else {"kid": kid})}
    signed = f"{b64(json.dumps(head).encode())}.{b64(json.dumps(claims(now)).encode())}"
    return f"{signed}.{b64(hmac.new(secret, signed.encode(), hashlib.sha256).digest())}"


def under_the_name_of(kid: str, now: datetime) -> str:
    """A token signed with a private key of its own and the header of the real key's."""
    return jwt.encode(claims(now), SigningKey.new().private, algorithm=tokens.ALGORITHM, headers={"kid": kid})


def with_kid(kid: object, key: SigningKey, now: datetime) -> str:
    """A token signed with the real key, but whose header names the key as `kid` (None: not at all)."""
    head = {"alg": tokens.ALGORITHM, "typ": "JWT", **({} if kid is None else {"kid": kid})}
    signed = f"{b64(json.dumps(head).encode())}.{b64(json.dumps(claims(now)).encode())}"
    return f"{signed}.{b64(key.private.sign(signed.encode()))}"  # by hand: PyJWT writes a kid of text alone


def every_forgery(jwks: dict, now: datetime) -> dict[str, str]:
    """A forgery of each kind against the keys a JWKS document (as served) shows."""
    kid, x = jwks["keys"][0]["kid"], jwks["keys"][0]["x"]
    return {
        "HMAC with the public key as its secret": hmac_signed(base64.urlsafe_b64decode(x + "="), kid, now),
        "HMAC with the JWKS as its secret": hmac_signed(json.dumps(jwks).encode(), kid, now),
        "HMAC with a shared key of the old kind": hmac_signed(b"an AUTH_KEY of 32 bytes or more, as before", kid, now),
        "another private key under the real key's name": under_the_name_of(kid, now),
        "another private key under its own name": tokens.issue(SigningKey.new(), "admin", ["admin"],
                                                               timedelta(hours=1), now),
        "unsigned": jwt.encode(claims(now), None, algorithm="none", headers={"kid": kid}),
        "an unknown kid": under_the_name_of("no-such-key", now),
    }


# Names of keys that are none: malformed, or of no key of this system.
ODD_KIDS = (None, "", 42, ["a"], {"a": 1}, "x" * 10_000, "../../etc/passwd", "\u0000", "no-such-key")
