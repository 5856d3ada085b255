"""The keys of sign-in tokens: the account service signs with a private key that it
alone holds, every other service checks with the public keys it publishes (a JWKS,
RFC 7517). The keys are Ed25519 (EdDSA, RFC 8037): a public key cannot sign, and a
token signed with HMAC under any key is not an Ed25519 signature.

Each key is named by its `kid`, the RFC 7638 thumbprint of its public key, so that a
name can never stand for another key and needs no storing. A private key is written
as the 64 hex digits of its 32 bytes (RFC 8032), the form of SECRET_KEY, so that it
fits an environment variable; several, comma-separated, are the keys of a rollover:
the first signs, the others are still published, so the tokens they signed keep
working until they expire."""
from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

KEY_BYTES = 32


@dataclass(frozen=True)
class PublicKey:
    """A key that checks signatures, and its name."""
    kid: str
    key: Ed25519PublicKey

    @classmethod
    def of(cls, key: Ed25519PublicKey) -> PublicKey:
        return cls(_thumbprint(_x(key)), key)

    def jwk(self) -> dict[str, str]:
        return {"kty": "OKP", "crv": "Ed25519", "x": _x(self.key), "kid": self.kid, "alg": "EdDSA", "use": "sig"}

    @classmethod
    def from_jwk(cls, jwk: object) -> PublicKey:
        """The key a JWK describes; ValueError when it is not an Ed25519 key, or when its
        kid is not its thumbprint."""
        if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" \
                or not isinstance(jwk.get("x"), str):
            raise ValueError("a key that is not an Ed25519 public key (kty OKP, crv Ed25519, x)")
        try:
            key = cls.of(Ed25519PublicKey.from_public_bytes(_unbase64url(jwk["x"])))
        except ValueError:
            raise ValueError("an Ed25519 key whose x is not 32 bytes in base64url") from None
        if jwk.get("kid", key.kid) != key.kid:
            raise ValueError(f"the key named {jwk['kid']!r} is another key's (its thumbprint is {key.kid})")
        return key


@dataclass(frozen=True, eq=False, repr=False)
class SigningKey:
    """A key that signs, and its name (its public key's): one key equals another of the
    same name, and its repr shows the name alone, never the key."""
    private: Ed25519PrivateKey

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SigningKey) and other.kid == self.kid

    def __hash__(self) -> int:
        return hash(self.kid)

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r})"

    @classmethod
    def new(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_hex(cls, text: str) -> SigningKey:
        """The key written as 64 hex digits; ValueError for anything else."""
        try:
            seed = bytes.fromhex(text)
        except ValueError:
            seed = b""
        if len(seed) != KEY_BYTES:
            raise ValueError(f"a signing key is {2 * KEY_BYTES} hex digits (its {KEY_BYTES} bytes)")
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    def hex(self) -> str:
        return self.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()).hex()

    @property
    def public(self) -> PublicKey:
        return PublicKey.of(self.private.public_key())

    @property
    def kid(self) -> str:
        return self.public.kid


@dataclass(frozen=True)
class KeySet:
    """The public keys a token may be signed with."""
    keys: tuple[PublicKey, ...]

    @classmethod
    def of(cls, signing: Iterable[SigningKey]) -> KeySet:
        return cls(tuple(key.public for key in signing))

    def find(self, kid: str) -> PublicKey | None:
        return next((key for key in self.keys if key.kid == kid), None)

    def jwks(self) -> dict:
        return {"keys": [key.jwk() for key in self.keys]}

    @classmethod
    def from_jwks(cls, data: object) -> KeySet:
        """The keys of a JWKS document (parsed JSON); ValueError when it is none. Keys of
        other types are passed over, as RFC 7517 asks; a set without an Ed25519 key is refused."""
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise ValueError('not a JWKS document ({"keys": [...]})')
        keys = tuple(PublicKey.from_jwk(jwk) for jwk in data["keys"]
                     if not isinstance(jwk, dict) or jwk.get("kty") == "OKP")
        if not keys:
            raise ValueError("a JWKS document without an Ed25519 key")
        return cls(keys)

    @classmethod
    def from_json(cls, text: str) -> KeySet:
        try:
            return cls.from_jwks(json.loads(text))
        except json.JSONDecodeError:
            raise ValueError("not JSON") from None


def signing_keys(text: str) -> tuple[SigningKey, ...]:
    """The keys of a list separated by commas or line breaks (the first signs);
    ValueError naming the position of one that is not a key."""
    keys = []
    for position, item in enumerate(filter(None, re.split(r"[,\s]+", text)), start=1):
        try:
            keys.append(SigningKey.from_hex(item))
        except ValueError as error:
            raise ValueError(f"its key number {position} is not a key: {error}") from None
    if not keys:
        raise ValueError("it holds no key")
    return tuple(keys)


def _x(key: Ed25519PublicKey) -> str:
    return _base64url(key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def _thumbprint(x: str) -> str:
    """RFC 7638: the SHA-256 of the key's required members, in this order, unspaced."""
    members = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"), sort_keys=True)
    return _base64url(hashlib.sha256(members.encode()).digest())


def _base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unbase64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        raise ValueError("not base64url") from None
