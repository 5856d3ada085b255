"""Passwords are checked a few at a time, on threads of their own: the rest wait
briefly for a turn, or are refused at once when enough already wait."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from account.passwords import TEST_HASHES, Busy, Passwords, Turns
from tests.support.waiting import until


class Jobs:
    """Jobs that each keep their turn until released, and what they saw meanwhile."""

    def __init__(self, turns: Turns):
        self.turns = turns
        self.inside = 0
        self.most_inside = 0
        self.threads: set[str] = set()
        self.release = threading.Event()
        self._lock = threading.Lock()

    def job(self) -> str:
        with self._lock:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
            self.threads.add(threading.current_thread().name)
        self.release.wait(30)
        with self._lock:
            self.inside -= 1
        return "had a turn"

    def ask(self) -> str:
        try:
            return self.turns.run(self.job)
        except Busy:
            return "busy"


def test_two_run_at_once_four_wait_for_their_turn_and_the_seventh_is_refused_at_once():
    turns = Turns(at_once=2, waiting=4, patience=30)
    jobs = Jobs(turns)
    with ThreadPoolExecutor(max_workers=7) as requests:
        first = [requests.submit(jobs.ask) for _ in range(2)]
        until(lambda: jobs.inside == 2, "two run")
        queued = [requests.submit(jobs.ask) for _ in range(4)]
        until(lambda: turns.queued == 4, "four wait for a turn")

        assert requests.submit(jobs.ask).result(timeout=5) == "busy"
        jobs.release.set()
        outcomes = [future.result(timeout=30) for future in first + queued]

    assert outcomes == ["had a turn"] * 6
    assert jobs.most_inside == 2
    assert len(jobs.threads) == 2 and all(name.startswith("password-check") for name in jobs.threads)


def test_a_request_that_waits_longer_than_its_patience_is_refused_and_its_job_never_runs():
    turns = Turns(at_once=1, waiting=1, patience=0.05)
    jobs = Jobs(turns)
    ran_late = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as requests:
        first = requests.submit(jobs.ask)
        until(lambda: jobs.inside == 1, "one runs")
        try:
            with pytest.raises(Busy, match="Too many sign-ins at once; try again in a second."):
                turns.run(ran_late.set)
        finally:
            jobs.release.set()
        assert first.result(timeout=30) == "had a turn"
    until(lambda: turns.queued == 0 and turns.run(lambda: True), "the turn given back")
    assert not ran_late.is_set()


def test_a_check_that_fails_gives_its_turn_back():
    passwords = Passwords(TEST_HASHES, Turns(at_once=1, waiting=0, patience=5))
    stored = passwords.hash("correct horse battery staple")

    assert not passwords.matches("not a hash", "x")
    assert passwords.matches(stored, "correct horse battery staple")
    assert not passwords.matches(None, "no account has this password")  # the decoy is never a match
