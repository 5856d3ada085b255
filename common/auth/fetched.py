"""A document of the sign-in service that every other service keeps a copy of: the list
of revoked tokens, the public keys of its signatures. The copy is asked for again (a
conditional GET) only when it is used and older than a few seconds, by one request at
a time while the others use the copy there is, so that no request waits on the sign-in
service more than that. While the sign-in service cannot be reached the last copy
stays in force; that is logged once when it begins and once when it ends."""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any, Callable, Generic, TypeVar

import requests

log = logging.getLogger(__name__)

T = TypeVar("T")
# A request that uses the copy waits at most this long for it (connect, read).
TIMEOUT = (1.0, 2.0)


class FetchedCopy(Generic[T]):
    """The document at `url` as `parse` reads its JSON (ValueError when it cannot), as
    this service last had it: `initial` until it has one. `credential`, if given, is
    shown as a bearer token, and `refused` (with `{status}` to fill in) says what to do
    when it is refused; `what` names the document in the log. An `eager` copy is asked
    for at each use until a first answer (one at a time): one that nothing can be done
    without (the keys that check every token) must not wait out `fresh_for` after a
    first request that came too slow, say at a start on a loaded machine. The others
    keep to `fresh_for` meanwhile, so that an unreachable sign-in service slows no
    request twice within it."""

    def __init__(self, url: str, parse: Callable[[Any], T], initial: T, what: str, fresh_for: timedelta,
                 clock: Callable[[], datetime], credential: str | None = None, refused: str | None = None,
                 http: requests.Session | None = None, eager: bool = False):
        self.url, self.parse, self.what, self.fresh_for, self.clock = url, parse, what, fresh_for, clock
        self.eager = eager
        self.credential, self.refused = credential, refused
        self.http = http or requests.Session()
        self.current: T = initial
        self.had = False  # whether an answer came, ever: until then `current` is `initial`
        self._etag: str | None = None
        self._asked_at: datetime | None = None
        self._unreachable = False
        self._asking = threading.Lock()

    def get(self, sooner: timedelta | None = None) -> T:
        """The copy, asked for again first when it is older than `fresh_for` (or than
        `sooner`: a reader that misses something in it may ask again sooner)."""
        now = self.clock()
        fresh_for = self.fresh_for if sooner is None else min(sooner, self.fresh_for)
        if not self._due(now, fresh_for) or not self._turn():
            return self.current
        try:
            if self._due(now, fresh_for):  # unless another request asked meanwhile
                self._asked_at = now
                self._ask()
        finally:
            self._asking.release()
        return self.current

    def _due(self, now: datetime, fresh_for: timedelta) -> bool:
        if self.eager and not self.had:
            return True
        return self._asked_at is None or now - self._asked_at >= fresh_for

    def _turn(self) -> bool:
        """Whether this request asks: one at a time; the others meanwhile use the copy
        there is or, before the first answer, wait for the request under way."""
        if not self.had:
            return self._asking.acquire(timeout=sum(TIMEOUT) + 1)
        return self._asking.acquire(blocking=False)

    def _ask(self) -> None:
        headers = {"Accept": "application/json"}
        if self.credential:
            headers["Authorization"] = f"Bearer {self.credential}"
        if self._etag:
            headers["If-None-Match"] = self._etag
        try:
            response = self.http.get(self.url, headers=headers, timeout=TIMEOUT, allow_redirects=False)
            if response.status_code == 200:
                self.current = self.parse(response.json())
                self._etag = response.headers.get("ETag")
                self.had = True
            elif response.status_code in (401, 403) and self.refused:
                raise ValueError(self.refused.format(status=response.status_code))
            elif response.status_code != 304:
                raise ValueError(f"it answered HTTP {response.status_code}")
        except (requests.RequestException, ValueError) as error:
            if not self._unreachable:
                log.warning("%s at %s cannot be had (%s); the last copy stays in force until it can",
                            self.what, self.url, error)
            self._unreachable = True
            return
        if self._unreachable:
            log.info("%s at %s can be had again", self.what, self.url)
        self._unreachable = False
