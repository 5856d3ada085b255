"""Which valid tokens are no longer accepted: those signed out before they expire, and
those of accounts removed since they were issued. The sign-in service keeps the list
(GET <its URL>/revoked); every service keeps a copy (fetched.py), asked for again at
most every few seconds and only when it checks a token."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Protocol

import requests

from common.auth import revoked
from common.auth.fetched import FetchedCopy
from common.auth.tokens import Identity

# How long a copy of the list is used before it is asked for again.
FRESH_FOR = timedelta(seconds=5)


class Revocations(Protocol):
    def refusal(self, identity: Identity) -> str | None:
        """Why `identity`'s token is no longer accepted; None when it is."""


@dataclass(frozen=True)
class RevokedList:
    """The list as the sign-in service sent it."""
    token_ids: frozenset[str] = frozenset()
    removed_accounts: dict[str, datetime] = field(default_factory=dict)  # name -> when removed

    def refusal(self, identity: Identity) -> str | None:
        return revoked.refusal(identity, identity.token_id in self.token_ids, self.removed_accounts.get(identity.name))

    @classmethod
    def from_json(cls, data) -> RevokedList:
        """The list from GET <sign-in service>/revoked's JSON; ValueError when it is not one."""
        try:
            ids = frozenset(str(item["id"]) for item in data["tokens"])
            removed = {str(item["name"]): datetime.fromisoformat(item["removedAt"]) for item in data["accounts"]}
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"not a list of revoked tokens ({type(error).__name__}: {error})") from None
        if any(moment.tzinfo is None for moment in removed.values()):
            raise ValueError("a removal time without a time zone")
        return cls(ids, removed)


class RevocationClient:
    """The sign-in service's list as this service last had it (fetched.py), asked for with
    the service's credential: the list names the accounts removed, which is nobody
    else's business."""

    def __init__(self, url: str, credential: str | None, clock: Callable[[], datetime], refused: str | None = None,
                 http: requests.Session | None = None):
        self.copy = FetchedCopy(url, RevokedList.from_json, RevokedList(), "the list of revoked tokens", FRESH_FOR,
                                clock, credential, refused, http)

    def refusal(self, identity: Identity) -> str | None:
        return self.copy.get().refusal(identity)
