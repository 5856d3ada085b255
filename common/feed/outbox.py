"""Appending entries to a feed's log in the same transaction as the change they tell of.

Positions are gap-free and increase in commit order, also across processes that
share the database. Each appending transaction takes a table lock just before it
computes the next position and holds it until it commits (as the eventsourcing
library does on PostgreSQL). So a transaction that got position n+1 committed after
the one that got n: a reader never sees n+1 while n is still missing, and a consumer
that remembers the last position it took can never skip one. A sequence could not
promise that: its numbers are handed out in start order and lost on rollback. The
lock is taken as late as possible, so writers queue only for the insert and commit.
Plain readers are not blocked by it. SQLite lets one writer in at a time anyway.

An entry's time (`recorded_at`, what Last-Modified is made of) is read under the
lock too and never lies before the previous entry's, so times follow positions. A
reader that wants to promise "nothing changed in a second" asks `writing` first: an
entry being written may still commit with a time in a second that is already over.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from sqlalchemy import Table, insert, select, text
from sqlalchemy.orm import Session


def append(session: Session, log: Table, values: dict, clock: Callable[[], datetime]) -> int:
    """Insert `values` into `log` (columns `position`, `recorded_at` and theirs) at
    the next position; that position."""
    if _postgresql(session):
        session.execute(text(f'LOCK TABLE "{log.name}" IN EXCLUSIVE MODE'))
    last = session.execute(select(log.c.position, log.c.recorded_at).order_by(log.c.position.desc()).limit(1)).first()
    position = last.position + 1 if last else 1
    recorded_at = max(clock(), last.recorded_at) if last else clock()
    session.execute(insert(log).values(position=position, recorded_at=recorded_at, **values))
    return position


def writing(session: Session, log: Table) -> bool:
    """Whether a transaction is appending to `log` right now (it holds the lock)."""
    if not _postgresql(session):
        return False
    return session.scalar(text(
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'relation' AND granted "
        "AND mode = 'ExclusiveLock' AND relation = CAST(:name AS regclass))"), {"name": log.name})


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
