"""Checking passwords against their argon2id hashes, a few at a time.

Each check costs a fixed amount of memory and CPU: that is what makes guessing slow.
A process therefore runs its checks on a pool of `at_once` threads of their own; a few
more requests wait briefly for their turn and the rest are refused at once (Busy,
which the web side answers 503 with Retry-After). A flood of sign-ins then neither
fills the memory (only the pool's threads ever hold a hash's memory, so the allocator
keeps no more than theirs) nor holds the threads that check tokens and serve the list
of revoked tokens."""
from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, TypeVar

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


T = TypeVar("T")


class Turns:
    """`at_once` jobs run at a time, each on a thread of the pool; up to `waiting` more
    wait for a turn, each at most `patience` seconds until it starts; any other is
    refused at once."""

    def __init__(self, at_once: int = AT_ONCE, waiting: int = WAITING, patience: float = PATIENCE_SECONDS):
        self.at_once, self.waiting, self.patience = at_once, waiting, patience
        self._pool = ThreadPoolExecutor(at_once, thread_name_prefix="password-check")
        self._lock = threading.Lock()
        self._taken = 0  # jobs running or waiting

    @property
    def queued(self) -> int:
        """Jobs waiting for a turn now."""
        return max(0, self._taken - self.at_once)

    def run(self, job: Callable[[], T]) -> T:
        """What `job` returns, run in a turn; Busy when there is none in time."""
        with self._lock:
            if self._taken >= self.at_once + self.waiting:
                raise Busy()
            self._taken += 1
        started = threading.Event()

        def in_turn() -> T:
            started.set()
            return job()

        future = self._pool.submit(in_turn)
        future.add_done_callback(self._given_back)
        if not started.wait(self.patience) and future.cancel():  # a job cancelled before it started never runs
            raise Busy()
        return future.result()

    def _given_back(self, _: Future) -> None:
        with self._lock:
            self._taken -= 1


class Passwords:
    """Hashes of passwords, checked and made a few at a time (see the module)."""

    def __init__(self, hashes: PasswordHasher, turns: Turns | None = None):
        self.hashes = hashes
        self.turns = turns or Turns()
        self._decoy: str | None = None

    def matches(self, password_hash: str | None, password: str) -> bool:
        """Whether `password` is the one hashed; with no hash (no such account) a decoy
        is checked, so that the answer takes as long as for an account that exists."""
        return self.turns.run(lambda: self._matches(password_hash, password))

    def _matches(self, password_hash: str | None, password: str) -> bool:
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
        return self.turns.run(lambda: self.hashes.hash(password))
