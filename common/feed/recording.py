"""The poll status, what people read about a consumer's polls (the poller's panel,
GET /status): kept in a row of its own, apart from the tracking record. An import
holds the tracking row locked until it commits; a write of the status row is a short
transaction of its own that only reads the position, so telling how a poll went
never waits for one."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from common.db import Database, insert_or_ignore, locked_single_row
from common.feed.pace import count_imports
from common.feed.storing import table


# The status row before the first poll.
FIRST_STATUS = {"imported": 0, "newest": 0}


@dataclass(frozen=True)
class PollState:
    """The poll state: the tracking record and the poll status, read together in one
    transaction."""

    position: int
    etag: str | None
    last_modified: str | None
    polled_at: datetime | None
    outcome: str | None
    message: str | None
    imported: int
    newest: int
    pending_since: datetime | None
    window_started: datetime | None
    imports_in_window: int
    imports_in_window_before: int

    @property
    def pending(self) -> int:
        """Entries left, as the last poll that could tell found the feed: they shrink as
        imports move the position, so the position plus the entries left stays the
        newest the feed was seen to hold (the page's "40 of 60")."""
        return max(0, self.newest - self.position)


class PollStatusRecorder:
    """Writes the poll status of a consumer whose tracking record is `tracking_model`,
    and reads the two as its poll state."""

    def __init__(self, db: Database, tracking_model, status_model, clock: Callable[[], datetime]):
        self.db, self.tracking_model, self.status_model, self.clock = db, tracking_model, status_model, clock

    def poll_state(self) -> PollState:
        with self.db.session() as session:
            tracking = session.get(self.tracking_model, 1)
            status = session.get(self.status_model, 1) or self.status_model(
                id=1, imported=0, newest=0, imports_in_window=0, imports_in_window_before=0)
            return PollState(
                position=tracking.position if tracking else 0, etag=tracking.etag if tracking else None,
                last_modified=tracking.last_modified if tracking else None,
                **{name: getattr(status, name) for name in (
                    "polled_at", "outcome", "message", "imported", "newest", "pending_since",
                    "window_started", "imports_in_window", "imports_in_window_before")})

    def record_newest(self, newest: int, pending_since: datetime | None) -> None:
        """The newest position of the feed as a poll finds it, before it applies
        anything: how far behind the service is while it catches up."""
        with self.db.session() as session:
            position = session.scalar(self._position()) or 0
            self._write(session, {"newest": newest, "pending_since": pending_since if newest > position else None})

    def record(self, outcome: str, message: str, imported: int, pending: int | None,
               pending_since: datetime | None = None) -> None:
        """The outcome of the last poll. With `pending` None the poll could not tell how
        far behind the service is (the feed did not answer): what the poll before found
        stays. One statement: the poll is over, and nothing of the row is read."""
        values = {"polled_at": self.clock(), "outcome": outcome, "message": message, "imported": imported}
        if pending is not None:
            values.update(newest=func.coalesce(self._position().scalar_subquery(), 0) + pending,
                          pending_since=pending_since)
        with self.db.session() as session:
            self._write(session, values)

    def count(self, imported: int) -> None:
        """Imports that committed, counted in the window of time they fell in."""
        if not imported:
            return
        with self.db.session() as session:
            count_imports(locked_single_row(self.db, session, self.status_model, FIRST_STATUS), imported, self.clock())

    def _position(self):
        tracking = table(self.tracking_model)
        return select(tracking.c.position).where(tracking.c.id == 1)

    def _write(self, session: Session, values: dict) -> None:
        status = table(self.status_model)
        if not session.execute(update(status).where(status.c.id == 1).values(values)).rowcount:  # type: ignore[attr-defined]
            self._make_status_row(session)  # the first poll
            session.execute(update(status).where(status.c.id == 1).values(values))

    def _make_status_row(self, session: Session) -> None:
        insert_or_ignore(session, self.status_model.__table__, {"id": 1, **FIRST_STATUS})
