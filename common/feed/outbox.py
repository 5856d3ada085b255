"""Appending entries to a feed's log in the same transaction as the change they tell of.

Positions are gap-free and increase in commit order, also across processes that
share the database. Each appending transaction takes a table lock just before it
computes the next position and holds it until it commits (as the eventsourcing
library does on PostgreSQL). So a transaction that got position n+1 committed after
the one that got n: a reader never sees n+1 while n is still missing, and a consumer
that remembers the last position it took can never skip one. A sequence could not
promise that: its numbers are handed out in start order and lost on rollback. The
lock is taken as late as possible: `append` only notes the entry, and it is written
when the transaction commits, after everything else the transaction writes, so
writers queue only for the lock, the insert and the commit. Plain readers are not
blocked by it. SQLite lets one writer in at a time anyway.

An entry's time (`recorded_at`, what Last-Modified is made of) is read under the
lock too and never lies before the previous entry's, so times follow positions. A
reader that wants to promise "nothing changed in a second" asks `writing` first: an
entry being written may still commit with a time in a second that is already over.

Whoever waits for the log to grow learns of each commit that appended to it (the
feed's long-poll, common/feed/waiting.py). On PostgreSQL the appending transaction
sends a NOTIFY on the log's channel, which PostgreSQL delivers to every listening
connection, of any process, when (and only if) the transaction commits. Elsewhere
(SQLite, one writing process) `when_appended` calls back after a commit of this
process that appended.

The writing at commit is a listener on the sessions of the database that appends,
which `install` puts there where that database is built (the composition root): no
other database's sessions pay for it, and `append` on a session without it fails
instead of noting an entry that no commit would write.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Callable

from sqlalchemy import Select, Table, TextClause, bindparam, insert, select, text
from sqlalchemy.orm import Session, SessionTransaction

from common.db import Database

# session.info: the entries its transaction will write when it commits (append), the
# names of the logs it appended to (for when_appended), and whether its database has
# the listeners that write them (install).
_PENDING = "outbox.pending"
_APPENDED = "outbox.appended"
_INSTALLED = "outbox.installed"


@dataclass(frozen=True)
class _Pending:
    """An entry noted by `append`, with the savepoint it was noted in (None: none):
    rolling that savepoint back takes the entry back too."""

    savepoint: SessionTransaction | None
    log: Table
    values: dict
    clock: Callable[[], datetime]

    def within(self, transaction: SessionTransaction) -> bool:
        noted_in = self.savepoint
        while noted_in is not None and noted_in is not transaction:
            noted_in = noted_in.parent
        return noted_in is transaction


class NotInstalled(RuntimeError):
    """`append` on a session of a database that `install` did not prepare."""


def install(db: Database) -> None:
    """Let `db`'s sessions append: their commits write the entries noted, their
    rollbacks forget them."""
    db.listen("before_commit", _write_pending)
    db.listen("after_soft_rollback", _forget_pending)
    db.label_sessions(_INSTALLED)


def append(session: Session, log: Table, values: dict, clock: Callable[[], datetime]) -> None:
    """Have `values` inserted into `log` (columns `position`, `recorded_at` and theirs)
    at the next position when the session's transaction commits."""
    if not session.info.get(_INSTALLED):
        raise NotInstalled(f"{log.name}: this session's database cannot append; outbox.install(db) where it "
                           "is built, or its commits would never write the entry")
    session.info.setdefault(_PENDING, []).append(_Pending(session.get_nested_transaction(), log, values, clock))


def _write_pending(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the transaction goes on
        return
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    session.flush()  # the change's own rows before the lock: nobody waits for them
    for entry in pending:
        _write(session, entry.log, entry.values, entry.clock)


def _forget_pending(session: Session, previous_transaction: SessionTransaction) -> None:
    """A rolled-back transaction takes its entries along; a rolled-back savepoint
    only those noted within it."""
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)
    elif _PENDING in session.info:
        session.info[_PENDING] = [entry for entry in session.info[_PENDING] if not entry.within(previous_transaction)]


def _write(session: Session, log: Table, values: dict, clock: Callable[[], datetime]) -> None:
    if _postgresql(session):
        _append_announced(session, log, values, clock)
    else:
        last = session.execute(_newest(log)).first()
        position = last.position + 1 if last else 1
        recorded_at = max(clock(), last.recorded_at) if last else clock()
        session.execute(insert(log).values(position=position, recorded_at=recorded_at, **values))
    session.info.setdefault(_APPENDED, set()).add(log.name)


def _append_announced(session: Session, log: Table, values: dict, clock: Callable[[], datetime]) -> None:
    """PostgreSQL: the lock, then the entry and its NOTIFY in one statement. Every
    statement while the lock is held makes every appending transaction wait longer."""
    session.execute(_lock(log))
    session.execute(_announced_entry(log, tuple(values)), {**values, "now": clock()})


@lru_cache
def _lock(log: Table) -> TextClause:
    return text(f'LOCK TABLE "{log.name}" IN EXCLUSIVE MODE')


@lru_cache
def _announced_entry(log: Table, names: tuple[str, ...]) -> TextClause:
    """INSERT of the entry after the newest at the next position, its time never before
    the newest's, and pg_notify of its position: written once per log and columns (a
    statement built anew for each entry costs more than the round trips it saves)."""
    columns = ", ".join(f'"{name}"' for name in names)
    placeholders = ", ".join(f":{name}" for name in names)
    return text(
        f'WITH newest AS (SELECT position, recorded_at FROM "{log.name}" ORDER BY position DESC LIMIT 1), '
        f'added AS (INSERT INTO "{log.name}" (position, recorded_at, {columns}) '
        f'SELECT COALESCE((SELECT position FROM newest), 0) + 1, GREATEST(:now, (SELECT recorded_at FROM newest)), '
        f'{placeholders} RETURNING position) '
        f"SELECT position, pg_notify('{channel(log)}', CAST(position AS text)) FROM added"
    ).bindparams(bindparam("now", type_=log.c.recorded_at.type),
                 *(bindparam(name, type_=log.c[name].type) for name in names))


def _newest(log: Table) -> Select:
    return select(log.c.position, log.c.recorded_at).order_by(log.c.position.desc()).limit(1)


def channel(log: Table) -> str:
    """The PostgreSQL channel on which a commit that appended to `log` is announced;
    the payload is the newest position the transaction appended."""
    return f"{log.name}_appended"


def when_appended(db: Database, log: Table, callback: Callable[[], None]) -> None:
    """Call `callback()` after each commit of `db`'s sessions in this process that
    appended to `log` (a session that rolled back an append and later committed
    something else calls it once too many: a reason to look, never a wrong answer)."""

    def committed(session: Session) -> None:
        appended = session.info.get(_APPENDED)
        if appended and log.name in appended:
            appended.discard(log.name)
            callback()

    db.after_commit(committed)


def writing(session: Session, log: Table) -> bool:
    """Whether a transaction is appending to `log` right now (it holds the lock)."""
    if not _postgresql(session):
        return False
    return session.scalar(text(
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'relation' AND granted "
        "AND mode = 'ExclusiveLock' AND relation = CAST(:name AS regclass))"), {"name": log.name})


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
