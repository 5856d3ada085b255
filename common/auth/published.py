"""The sign-in service's public keys as every other service has them: the JWKS document
it publishes, kept as a copy (fetched.py) and asked for again sooner when a token names
a key the copy lacks (a new key, after a rollover); or a document given in the settings."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable

import requests

from common.auth.fetched import FetchedCopy
from common.auth.keys import KeySet, PublicKey
from common.auth.tokens import KeysUnavailable, PublicKeys

# How long a copy of the keys is used before it is asked for again; a key it lacks
# has it asked for again after this much less.
FRESH_FOR = timedelta(minutes=5)
UNKNOWN_KEY_AFTER = timedelta(seconds=5)
NOT_YET = ("This service cannot check sign-in tokens yet: the sign-in service's public keys have not reached "
           "it. Try again in a moment.")


class FetchedKeys:
    """The keys of the JWKS document at `url`, as this service last had it."""

    def __init__(self, url: str, clock: Callable[[], datetime], http: requests.Session | None = None):
        self.copy = FetchedCopy(url, KeySet.from_jwks, KeySet(()), "the public keys of the sign-in tokens",
                                FRESH_FOR, clock, http=http, eager=True)

    def find(self, kid: str) -> PublicKey | None:
        """The key named `kid`; KeysUnavailable before the first answer, when no token
        can be told good or bad."""
        found = self.copy.get().find(kid)
        if found is None and not self.copy.had:
            raise KeysUnavailable(NOT_YET)
        return found or self.copy.get(sooner=UNKNOWN_KEY_AFTER).find(kid)


def public_keys(source: str | KeySet, clock: Callable[[], datetime]) -> PublicKeys:
    """The keys `source` gives: a KeySet as it is, or the URL of a JWKS document."""
    return source if isinstance(source, KeySet) else FetchedKeys(source, clock)
