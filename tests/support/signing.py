"""Sign-in on in the settings of a test's apps: the account service signs with a key of
the tests, every other service checks with its public half, given in the settings (no
JWKS to fetch)."""
from __future__ import annotations

from common.auth.keys import KeySet, SigningKey
from common.settings import Settings

KEY = SigningKey.new()


def signing_in(settings: Settings, key: SigningKey = KEY) -> Settings:
    """`settings` with the keys of sign-in: the private one for the service that signs."""
    if settings.signs_tokens:
        return settings.but(signing_key=(key,))
    return settings.but(signing_public_keys=KeySet.of([key]))
