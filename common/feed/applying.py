"""Applying a feed's changes to a service's own database: each batch of imports and the
position it reached commit in one transaction (the tracking record: a position
recorded with its effect), so each entry takes effect exactly once."""
from __future__ import annotations

import logging
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from common.db import Database, locked_single_row
from common.feed.documents import DocumentError
from common.feed.client import FeedError
from common.feed.parsing import ParsedEntry
from common.feed.reading import Change
from common.feed.storing import Rows, VersionedImport
from common.tracing import processing

log = logging.getLogger(__name__)

# Asked first in every transaction that applies something, once the tracking row is
# locked: raises to refuse it (a rebuild's copy that another rebuild took over).
Guard = Callable[[Session], None]


@dataclass
class Tally:
    imported: int = 0
    rejected: int = 0

    def add(self, other: Tally) -> None:
        self.imported += other.imported
        self.rejected += other.rejected


class Applier:
    """Stores each change's document with `import_`, which maps it to the service's
    rows, and keeps the entries whose documents will not do as rejected."""

    def __init__(self, db: Database, tracking_model, rejected_model, import_: VersionedImport,
                 clock: Callable[[], datetime], guard: Guard = lambda session: None, tracer: Any | None = None):
        self.db = db
        self.tracer = tracer  # a span for each entry imported (common/tracing.py); None: none
        self.tracking_model = tracking_model
        self.rejected_model = rejected_model
        self.import_ = import_
        self.clock = clock
        self.guard = guard

    def apply(self, changes: list[Change]) -> Tally:
        """In one transaction: lock the tracking row, check that the changes follow its
        position (another process of this service may have taken some meanwhile:
        those are passed over), map each document to rows (one that does not map is
        rejected), store them all with a few statements for the whole batch, move the
        position to the last, commit. Should the database refuse a value of the batch
        (too long for its column, say), all of it is rolled back and done again in a
        transaction of its own, entry by entry, each in a savepoint, and the entries
        whose values it refuses are rejected. Any other failure (the database away, a
        constraint that refuses every row) rolls all of it back, position included, and
        the poll reports it: no entry is at fault then."""
        try:
            return self._apply(changes, one_by_one=False)
        except DataError:  # a value that does not fit a column: find its entry
            return self._apply(changes, one_by_one=True)

    def _apply(self, changes: list[Change], one_by_one: bool) -> Tally:
        with ExitStack() as traced, self.db.session() as session:  # the spans end once the batch committed
            tracking = self.tracking_row(session)
            self.guard(session)
            taken = _following(changes, tracking.position)
            now = self.clock()
            mapped, rejected = self._map(taken, now)
            if self.tracer is not None:  # nothing to gather for spans nobody makes
                traced.enter_context(processing(self.tracer, [
                    (change.entry.position, change.entry.id, rows.head["id"], change.document)
                    for change, rows in mapped]))
            if one_by_one:
                imported = self._one_by_one(session, mapped, rejected)
            else:
                imported = sum(self.import_.store(session, [rows for _, rows in mapped]))
            for entry, reason in rejected:
                self._reject(session, entry, reason, now)
            if taken:
                tracking.position = taken[-1].entry.position
        return Tally(imported, len(rejected))

    def _map(self, changes: list[Change],
             now: datetime) -> tuple[list[tuple[Change, Rows]], list[tuple[ParsedEntry, str]]]:
        mapped, rejected = [], []
        for change in changes:
            if isinstance(change.document, FeedError):
                rejected.append((change.entry, str(change.document)))
                continue
            try:
                mapped.append((change, self.import_.rows(change.document, now)))
            except DocumentError as error:
                rejected.append((change.entry, f"{change.entry.content_src}: {error}"))
        return mapped, rejected

    def _one_by_one(self, session: Session, mapped: list[tuple[Change, Rows]],
                    rejected: list[tuple[ParsedEntry, str]]) -> int:
        """The slow way, to find the entries the database refuses: each in a savepoint."""
        imported = 0
        for change, rows in mapped:
            try:
                with session.begin_nested():
                    imported += sum(self.import_.store(session, [rows]))
            except DataError as error:
                rejected.append((change.entry, f"{change.entry.content_src}: the database refused it "
                                               f"({type(error.orig).__name__})."))
        rejected.sort(key=lambda item: item[0].position)
        return imported

    def tracking(self):
        """The tracking record as committed; no lock, so it never waits for an import."""
        with self.db.session() as session:
            return session.get(self.tracking_model, 1) or self.tracking_model(id=1, position=0)

    def tracking_row(self, session: Session):
        """The tracking row, locked until the transaction ends."""
        return locked_single_row(self.db, session, self.tracking_model, {"position": 0})

    def read_through(self, etag: str | None, last_modified: str | None) -> None:
        """Keep the validators of the subscription document once every change of it is
        in: they belong to the position, which has read that far. Written with the row
        locked, as an import writes it, so the two take their turns."""
        with self.db.session() as session:
            tracking = self.tracking_row(session)
            tracking.etag, tracking.last_modified = etag, last_modified

    def rejected(self) -> list:
        with self.db.session() as session:
            return list(session.scalars(select(self.rejected_model).order_by(self.rejected_model.position)))

    def _reject(self, session: Session, entry: ParsedEntry, reason: str, now: datetime) -> None:
        log.warning("feed entry %d rejected: %s", entry.position, reason)
        session.merge(self.rejected_model(position=entry.position, entry_id=entry.id, content_src=entry.content_src,
                                          reason=reason, rejected_at=now, attempts=1))


def _following(changes: list[Change], position: int) -> list[Change]:
    """The changes after `position`, which must follow it without a gap."""
    taken: list[Change] = []
    for change in changes:
        if change.entry.position <= position:
            continue
        if change.entry.position != position + 1:
            raise FeedError(f"Entry {change.entry.position} came before entry {position + 1}.")
        taken.append(change)
        position = change.entry.position
    return taken
