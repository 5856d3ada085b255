"""Database.exclusive on PostgreSQL: a lock across processes (here, engines), taken
at once, waited for, or waited for a while."""
from __future__ import annotations

import threading
import time

from common.db import Database


def test_a_lock_held_elsewhere_is_not_taken_and_one_free_is(postgres_url):
    one, other = Database(postgres_url), Database(postgres_url)
    with one.exclusive("poll", wait=False) as taken:
        assert taken
        with other.exclusive("poll", wait=False) as taken_too:
            assert not taken_too
    with other.exclusive("poll", wait=False) as taken:
        assert taken


def test_a_wait_of_a_while_gives_up_after_it_and_takes_the_lock_once_free(postgres_url):
    one, other = Database(postgres_url), Database(postgres_url)
    outcome: list[bool] = []
    got = threading.Event()

    def wait_for_it():
        with other.exclusive("follow", 30) as taken:
            outcome.append(taken)
            got.set()

    with one.exclusive("follow") as taken:
        assert taken
        started = time.monotonic()
        with other.exclusive("follow", 0.2) as taken_too:
            assert not taken_too
        assert time.monotonic() - started >= 0.2
        waiting = threading.Thread(target=wait_for_it)
        waiting.start()
    assert got.wait(10)  # taken as soon as `one` let go, long before its 30 s
    waiting.join(10)
    assert outcome == [True]
    with other.session() as session:  # the lock_timeout was the wait's alone
        assert session.connection().exec_driver_sql("SHOW lock_timeout").scalar() == "0"
