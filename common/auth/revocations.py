"""Which valid tokens are no longer accepted: those signed out before they expire, and
those of accounts removed since they were issued. The sign-in service keeps the list
(GET <its URL>/revoked); every service keeps a copy, asked for again at most every few
seconds and only when it checks a token, so that no request waits on the sign-in
service more than that. While the sign-in service cannot be reached the last copy
stays in force."""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Protocol

import requests

from common.auth import revoked, tokens
from common.auth.tokens import Identity

log = logging.getLogger(__name__)

# How long a copy of the list is used before it is asked for again.
FRESH_FOR = timedelta(seconds=5)
# The token a service signs to ask for the list lives no longer than it needs.
ASKING_TOKEN_LIFETIME = timedelta(minutes=1)
SERVICE_ROLE = "service"
# A request that checks a token waits at most this long for the list (connect, read).
TIMEOUT = (1.0, 2.0)


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
    """The sign-in service's list as this service last had it, asked for again (a
    conditional GET) when a token is checked and the copy is older than FRESH_FOR."""

    def __init__(self, url: str, key: str, service: str, clock: Callable[[], datetime],
                 http: requests.Session | None = None):
        self.url, self.key, self.service, self.clock = url, key, service, clock
        self.http = http or requests.Session()
        self.current = RevokedList()
        self._etag: str | None = None
        self._asked_at: datetime | None = None
        self._unreachable = False  # logged once when it starts, once when it ends
        self._asking = threading.Lock()

    def refusal(self, identity: Identity) -> str | None:
        self._refresh_if_due()
        return self.current.refusal(identity)

    def _refresh_if_due(self) -> None:
        now = self.clock()
        if self._asked_at is not None and now - self._asked_at < FRESH_FOR:
            return
        # One request asks; the others meanwhile use the copy there is.
        if not self._asking.acquire(blocking=False):
            return
        try:
            self._asked_at = now
            self._ask(now)
        finally:
            self._asking.release()

    def _ask(self, now: datetime) -> None:
        token = tokens.issue(self.key, f"service:{self.service}", [SERVICE_ROLE], ASKING_TOKEN_LIFETIME, now)
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if self._etag:
            headers["If-None-Match"] = self._etag
        try:
            response = self.http.get(self.url, headers=headers, timeout=TIMEOUT, allow_redirects=False)
            if response.status_code == 200:
                self.current = RevokedList.from_json(response.json())
                self._etag = response.headers.get("ETag")
            elif response.status_code != 304:
                raise ValueError(f"it answered HTTP {response.status_code}")
        except (requests.RequestException, ValueError) as error:
            if not self._unreachable:
                log.warning("the list of revoked tokens at %s cannot be had (%s); the last one stays in force "
                            "until it can", self.url, error)
            self._unreachable = True
            return
        if self._unreachable:
            log.info("the list of revoked tokens at %s can be had again", self.url)
        self._unreachable = False
