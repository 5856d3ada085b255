"""Checking passwords against their argon2id hashes, a few at a time.

Each check costs a fixed amount of memory and CPU: that is what makes guessing slow.
A process therefore runs at most `at_once` checks at a time; a few more requests wait
briefly for their turn and the rest are refused at once (Busy, which the web side
answers 503 with Retry-After). A flood of sign-ins then neither fills the memory nor
holds the threads that check tokens and serve the list of revoked tokens."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2id with OWASP's parameters (19 MiB, two passes): two checks at a time take 38 MiB.
STRONG_HASHES = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# The same at its lowest cost, for tests alone: production refuses it (TEST_PASSWORD_HASHES).
TEST_HASHES = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
AT_ONCE = 2  # checks running at a time in one process
WAITING = 4  # requests that may wait for a turn meanwhile
PATIENCE_SECONDS = 2.0  # how long one waits before it is refused
DECOY = "no account has this password"


def hasher(test_hashes: bool) -> PasswordHasher:
    """What hashes new passwords: TEST_HASHES where the settings ask for them."""
    return TEST_HASHES if test_hashes else STRONG_HASHES


class Busy(Exception):
    """No turn to check a password now; asking again in a second may find one."""
    retry_after_seconds = 1

    def __init__(self):
        super().__init__("Too many sign-ins at once; try again in a second.")


class Turns:
    """At most `at_once` holders at a time; up to `waiting` more wait up to `patience`
    seconds for a turn; anyone else is refused at once."""

    def __init__(self, at_once: int = AT_ONCE, waiting: int = WAITING, patience: float = PATIENCE_SECONDS):
        self.at_once, self.waiting, self.patience = at_once, waiting, patience
        self._condition = threading.Condition()
        self._running = 0
        self._queued = 0

    @property
    def queued(self) -> int:
        """Requests waiting for a turn now."""
        return self._queued

    @contextmanager
    def turn(self) -> Iterator[None]:
        with self._condition:
            if self._running >= self.at_once:
                self._wait()
            self._running += 1
        try:
            yield
        finally:
            with self._condition:
                self._running -= 1
                self._condition.notify()

    def _wait(self) -> None:
        if self._queued >= self.waiting:
            raise Busy()
        self._queued += 1
        try:
            if not self._condition.wait_for(lambda: self._running < self.at_once, self.patience):
                raise Busy()
        finally:
            self._queued -= 1


class Passwords:
    """Hashes of passwords, checked and made a few at a time (see the module)."""

    def __init__(self, hashes: PasswordHasher, turns: Turns | None = None):
        self.hashes = hashes
        self.turns = turns or Turns()
        self._decoy: str | None = None

    def matches(self, password_hash: str | None, password: str) -> bool:
        """Whether `password` is the one hashed; with no hash (no such account) a decoy
        is checked, so that the answer takes as long as for an account that exists."""
        with self.turns.turn():
            if password_hash is None:
                self._decoy = self._decoy or self.hashes.hash(DECOY)
                password_hash = self._decoy
            try:
                return self.hashes.verify(password_hash, password) and password_hash != self._decoy
            except (VerificationError, InvalidHashError):
                return False

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with parameters since changed."""
        return self.hashes.check_needs_rehash(password_hash)

    def hash(self, password: str) -> str:
        with self.turns.turn():
            return self.hashes.hash(password)
