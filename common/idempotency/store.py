"""The answers given to requests with idempotency keys, kept in a table of the service's
own with the columns key, fingerprint, status, content_type, location, body and stored_at.

Exactly once, under concurrency and crashes: a key's row is written with the answer, in
the transaction of the work it answers for (what the request creates). Both commit or
neither does, so a crash anywhere, of the process or of the database, leaves the work and
its key or nothing at all; a retry then finds the answer or does the work. No row is ever
half done, so none needs an "in progress" state or a lease that would have to expire.
While a request runs, the database holds its key instead:

- PostgreSQL: a transaction-level advisory lock on the key, taken first. A second request
  with the key gets 409 at once (`wait=False`), or waits until the first has ended and
  then finds its answer (`wait=True`: a form posted twice shows the first result). The lock
  ends with its transaction, also when its process dies, as soon as the server notices
  the connection is gone. Under READ COMMITTED the look-up after the lock sees the
  holder's commit (a commit is visible before its locks are released).
- SQLite: the transaction's first statement writes (the clean-up), which takes SQLite's
  one write lock, so requests with keys take turns and a later one finds the answer.

The primary key, the key itself, has the last word: should two transactions with one key
ever both do the work, the second's insert fails and its whole transaction, the work with
it, rolls back. (Two keys whose lock ids collide merely take turns.)

Only answers are kept: when the work raises (a request refused as invalid, a failure),
all rolls back and the key stays unused, so the same key can carry the corrected request
(as Stripe does; the draft leaves it open). A key is kept RETENTION from its answer, and
an older one is never answered from, whether it is still there or not. Clean-ups delete up
to CLEANUP_BATCH older ones, skipping rows that another transaction's clean-up holds, so
clean-ups never wait for one another. On SQLite every transaction cleans up (it is the
write that comes first); on PostgreSQL each process cleans up at most once every
CLEANUP_INTERVAL of its clock, since planning and running the clean-up cost the database
more than all the rest of a request's statements together. A batch a second per process
deletes keys far faster than any rate of requests here stores them.
"""
from __future__ import annotations

import hashlib
import weakref
from dataclasses import asdict, dataclass
from functools import lru_cache
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import Connection, Delete, Engine, Insert, Row, Select, Table, bindparam, delete, func, insert, select
from sqlalchemy.orm import Session
from werkzeug.exceptions import Conflict, UnprocessableEntity

RETENTION = timedelta(hours=24)
CLEANUP_BATCH = 1000
CLEANUP_INTERVAL = timedelta(seconds=1)


class KeyInUse(Conflict):
    description = "A request with this Idempotency-Key is still being processed; try again in a moment."


class KeyReused(UnprocessableEntity):
    description = "This Idempotency-Key was used for a different request; send a new key with a new request."


@dataclass(frozen=True)
class Answer:
    """What a request was answered, as far as a retry gets it again."""

    status: int
    content_type: str
    body: str
    location: str | None = None


def once(session: Session, table: Table, key: str, fingerprint: str, now: datetime,
         perform: Callable[[], Answer], wait: bool = False) -> Answer:
    """`perform()`'s answer, kept under `key` in the session's transaction; or the answer
    kept before for the same request. Call it first in its transaction."""
    _hold(session, table, key, wait)
    cutoff = now - RETENTION
    kept = _look_up(session, table, key, now)
    if kept is not None and kept.stored_at > cutoff:
        if kept.fingerprint != fingerprint:
            raise KeyReused()
        return Answer(kept.status, kept.content_type, kept.body, kept.location)
    if kept is not None:  # expired: beyond the clean-up's batch, or deleted by it unseen (PostgreSQL)
        session.execute(delete(table).where(table.c.key == key))
    answer = perform()
    session.execute(_statements(table).keep, {"key": key, "fingerprint": fingerprint, "stored_at": now,
                                              **asdict(answer)})
    return answer


# The two-number form of advisory locks: a number for the table, one for the key.
_WAIT_FOR_LOCK = select(func.pg_advisory_xact_lock(bindparam("space"), bindparam("id")))
_TRY_LOCK = select(func.pg_try_advisory_xact_lock(bindparam("space"), bindparam("id")))


def _hold(session: Session, table: Table, key: str, wait: bool) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return
    lock = {"space": _lock_id(table.name), "id": _lock_id(key)}  # apart from other advisory locks
    if wait:
        session.execute(_WAIT_FOR_LOCK, lock)
    elif not session.scalar(_TRY_LOCK, lock):
        raise KeyInUse()


def _look_up(session: Session, table: Table, key: str, now: datetime) -> Row | None:
    """The row kept for `key`, after a clean-up of expired ones when one is due: on
    PostgreSQL both in one statement (the clean-up in a CTE). The look-up does not see
    the clean-up's deletions; an expired row it finds is forgotten by the caller all the
    same."""
    statements = _statements(table)
    values = {"key": key, "cutoff": now - RETENTION, "batch": CLEANUP_BATCH}
    if session.get_bind().dialect.name != "postgresql":
        session.execute(statements.forget, values)  # SQLite: the write that takes its one write lock first
        return session.execute(statements.look_up, values).first()
    look_up = statements.forget_and_look_up if _clean_up_due(session, table, now) else statements.look_up
    return session.execute(look_up, values).first()


# Per database (engine) and table: when this process last cleaned up on PostgreSQL.
_cleaned: weakref.WeakKeyDictionary[Engine | Connection, dict[str, datetime]] = weakref.WeakKeyDictionary()


def _clean_up_due(session: Session, table: Table, now: datetime) -> bool:
    """Whether this process is to clean `table` up now: CLEANUP_INTERVAL after its last
    clean-up, or when the clock stands before it (set back); if so, now is the last."""
    cleaned = _cleaned.setdefault(session.get_bind(), {})
    last = cleaned.get(table.name)
    if last is not None and last <= now < last + CLEANUP_INTERVAL:
        return False
    cleaned[table.name] = now
    return True


@dataclass(frozen=True)
class _Statements:
    forget: Delete  # the clean-up
    look_up: Select
    forget_and_look_up: Select
    keep: Insert


@lru_cache
def _statements(table: Table) -> _Statements:
    """The statements on `table`, built once: building them for every request cost more
    than running them."""
    expired = (select(table.c.key).where(table.c.stored_at <= bindparam("cutoff")).limit(bindparam("batch"))
               .with_for_update(skip_locked=True))
    forget = delete(table).where(table.c.key.in_(expired))
    look_up = select(table).where(table.c.key == bindparam("key"))
    return _Statements(forget, look_up, look_up.add_cte(forget.returning(table.c.key).cte("cleaned")), insert(table))


def _lock_id(text: str) -> int:
    """A signed 32-bit number for `text`, as PostgreSQL's advisory locks take them."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big", signed=True)
