"""Passwords are checked a few at a time: the rest wait briefly for a turn, or are
refused at once when enough already wait."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from account.passwords import TEST_HASHES, Busy, Passwords, Turns
from tests.support.waiting import until


class Holders:
    """Threads that take a turn each and keep it until released."""

    def __init__(self, turns: Turns, pool: ThreadPoolExecutor):
        self.turns, self.pool = turns, pool
        self.inside = 0
        self.most_inside = 0
        self.release = threading.Event()
        self._lock = threading.Lock()

    def hold(self) -> str:
        try:
            with self.turns.turn():
                with self._lock:
                    self.inside += 1
                    self.most_inside = max(self.most_inside, self.inside)
                self.release.wait(30)
                with self._lock:
                    self.inside -= 1
            return "had a turn"
        except Busy:
            return "busy"

    def start(self, count: int):
        return [self.pool.submit(self.hold) for _ in range(count)]


def test_two_hold_turns_four_wait_for_theirs_and_the_seventh_is_refused_at_once():
    turns = Turns(at_once=2, waiting=4, patience=30)
    with ThreadPoolExecutor(max_workers=7) as pool:
        holders = Holders(turns, pool)
        first = holders.start(2)
        until(lambda: holders.inside == 2, "two hold their turn")
        queued = holders.start(4)
        until(lambda: turns.queued == 4, "four wait for a turn")

        assert holders.start(1)[0].result(timeout=5) == "busy"
        holders.release.set()
        outcomes = [future.result(timeout=30) for future in first + queued]

    assert outcomes == ["had a turn"] * 6
    assert holders.most_inside == 2


def test_a_request_that_waits_longer_than_its_patience_is_refused():
    turns = Turns(at_once=1, waiting=1, patience=0.05)
    with ThreadPoolExecutor(max_workers=2) as pool:
        holders = Holders(turns, pool)
        first = holders.start(1)
        until(lambda: holders.inside == 1, "one holds its turn")
        try:
            with pytest.raises(Busy, match="Too many sign-ins at once; try again in a second."), turns.turn():
                pass
        finally:
            holders.release.set()
        assert first[0].result(timeout=30) == "had a turn"


def test_a_turn_is_given_back_when_the_check_fails():
    turns = Turns(at_once=1, waiting=0, patience=0)
    passwords = Passwords(TEST_HASHES, turns)
    stored = passwords.hash("correct horse battery staple")

    assert not passwords.matches("not a hash", "x")
    assert passwords.matches(stored, "correct horse battery staple")
    assert not passwords.matches(None, "no account has this password")  # the decoy is never a match
