"""The mark of a rebuild in the service's own database, one row: who runs it, how far
it got, how it ended. Every process of the service reads its progress from there, and
a new rebuild takes the mark only when no live one holds it."""
from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy.orm import Session

from common.db import Database, insert_or_ignore
from common.utc import iso_utc

# A running mark not reported for this long was left by a process that died (SQLite;
# on PostgreSQL the rebuild's advisory lock dies with its process and tells at once).
STALE_SECONDS = 120


@dataclass(frozen=True)
class Progress:
    status: str  # none (never rebuilt), running, done or failed
    position: int = 0  # the last entry the copy took
    newest: int = 0  # the feed's newest entry, as last read
    started_at: datetime | None = None
    finished_at: datetime | None = None
    message: str = ""

    @property
    def left(self) -> int:
        """Entries of the feed the copy has still to take."""
        return max(0, self.newest - self.position)

    @property
    def running(self) -> bool:
        return self.status == "running"

    def as_json(self) -> dict:
        return {"status": self.status, "position": self.position, "left": self.left,
                "startedAt": iso_utc(self.started_at) if self.started_at else None,
                "finishedAt": iso_utc(self.finished_at) if self.finished_at else None,
                "message": self.message}


def new_owner() -> str:
    """Who runs a rebuild: host, process and a token of its own."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class RebuildMark:
    def __init__(self, db: Database, model, clock: Callable[[], datetime]):
        self.db, self.model, self.clock = db, model, clock

    def current(self) -> Progress:
        with self.db.session() as session:
            row = session.get(self.model, 1)
            if row is None:
                return Progress("none")
            status = "failed" if row.status == "running" and self._dead(row) else row.status
            message = "The process running it stopped; start it again." if status != row.status else row.message
            return Progress(status, row.position, row.newest, row.started_at, row.finished_at, message or "")

    def claim(self, owner: str) -> bool:
        """Take the mark for `owner` unless a live rebuild holds it. Called with the
        rebuild's lock across processes held (PostgreSQL): then a running mark is
        from a process that died. On SQLite its reports tell."""
        now = self.clock()
        with self.db.session() as session:
            row = self._row(session)
            if row.status == "running" and not self.db.locks_across_processes and not self._dead(row):
                return False
            row.status, row.owner, row.started_at, row.reported_at = "running", owner, now, now
            row.finished_at, row.position, row.newest, row.message = None, 0, 0, None
            return True

    def report(self, owner: str, position: int, newest: int) -> bool:
        """How far `owner` got; False when it no longer holds the mark."""
        with self.db.session() as session:
            row = self._row(session)
            if not self._held(row, owner):
                return False
            row.position, row.newest, row.reported_at = position, max(newest, position), self.clock()
            return True

    def holds(self, session: Session, owner: str) -> bool:
        """Whether `owner` still holds the mark (locked until `session` ends): another
        rebuild takes it over from one that lost its lock or stopped reporting."""
        return self._held(self._row(session), owner)

    def finish(self, session: Session, owner: str, position: int) -> None:
        """Done, in the transaction of the swap."""
        row = self._row(session)
        if row.owner == owner:
            row.status, row.position, row.newest = "done", position, max(row.newest, position)
            row.finished_at = row.reported_at = self.clock()

    def fail(self, owner: str, message: str) -> None:
        with self.db.session() as session:
            row = self._row(session)
            if row.owner == owner:
                row.status, row.message, row.finished_at = "failed", message, self.clock()

    @staticmethod
    def _held(row, owner: str) -> bool:
        return row.owner == owner and row.status == "running"

    def _row(self, session: Session):
        """The row, locked until the transaction ends (on SQLite the insert attempt
        alone makes the transaction the one writer)."""
        now = self.clock()
        insert_or_ignore(session, self.model.__table__, {"id": 1, "status": "none", "owner": "", "started_at": now,
                                                         "reported_at": now, "position": 0, "newest": 0})
        return session.get(self.model, 1, with_for_update=True, populate_existing=True)

    def _dead(self, row) -> bool:
        if self.clock() - row.reported_at > timedelta(seconds=STALE_SECONDS):
            return True
        host, _, rest = row.owner.partition(":")
        pid = rest.partition(":")[0]
        if host != socket.gethostname() or not pid.isdigit():
            return False
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
