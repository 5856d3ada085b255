"""A service's subscription to a feed: poll, import what is new, remember how far it got."""
from __future__ import annotations

import logging
import threading
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Callable

import requests
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from common.db import Database, insert_or_ignore
from common.feed.documents import DocumentError
from common.feed.following import FeedClient, FeedEntry, FeedError, parse_feed

log = logging.getLogger(__name__)

# (session, document, now) -> whether it stored something new for the service.
ImportEntry = Callable[[Session, Any, datetime], bool]


@dataclass(frozen=True)
class PollResult:
    status: int | str
    imported: int = 0
    pending: int = 0
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status != "error"

    def as_json(self) -> dict:
        return asdict(self)


class Consumer:
    """Polls one feed for one service and hands each new entry's document to
    `import_entry`, which stores it in the session it is given."""

    def __init__(self, db: Database, state_model, imported_model, import_entry: ImportEntry,
                 client: FeedClient, clock: Callable[[], datetime]):
        self.db = db
        self.state_model = state_model
        self.imported_table = imported_model.__table__
        self.imported_model = imported_model
        self.import_entry = import_entry
        self.client = client
        self.clock = clock
        # One poll at a time, whether scheduled or asked for: in this process, and
        # across the processes (workers, replicas) that share the database.
        self._lock = threading.Lock()
        self._lock_name = f"poll {client.feed_url}"

    def poll(self, wait: bool = True) -> PollResult | None:
        """Poll now. While another process of this service polls, wait for it, or
        with wait=False (the schedule's way) do nothing and return None."""
        try:
            with self._lock, self.db.exclusive(self._lock_name, wait) as taken:
                return self._poll_and_record() if taken else None
        except SQLAlchemyError as error:
            log.warning("poll of %s: the database does not answer: %s", self.client.feed_url, error)
            return PollResult("error", message="The service's database does not answer.")

    def _poll_and_record(self) -> PollResult:
        try:
            result = self._poll()
        except Exception as error:  # noqa: BLE001 - a poll must report, never die
            result = PollResult("error", message=self._describe(error))
        self._record(result)
        if not result.ok:
            log.warning("poll of %s: %s", self.client.feed_url, result.message)
        elif result.imported:
            log.info("poll of %s imported %d", self.client.feed_url, result.imported)
        return result

    def state(self):
        with self.db.session() as session:
            return session.get(self.state_model, 1) or self.state_model(id=1)

    def _poll(self) -> PollResult:
        saved = self.state()
        response = self.client.get_feed(saved.etag, saved.last_modified)
        if response.status == 304:
            return PollResult(304)
        entries = parse_feed(response.body, self.client.feed_url)
        new = self._not_imported(entries)
        imported = 0
        for done, entry in enumerate(new):
            try:
                imported += self._import(entry)
            except Exception as error:  # noqa: BLE001 - what was imported stays counted
                return PollResult("error", imported, len(new) - done, self._describe(error))
        self._save_validators(response.etag, response.last_modified)
        return PollResult(200, imported)

    def _not_imported(self, entries: list[FeedEntry]) -> list[FeedEntry]:
        ids = [entry.id for entry in entries]
        with self.db.session() as session:
            column = self.imported_model.entry_id
            known = set(session.scalars(select(column).where(column.in_(ids))))
        seen_in_feed = set()
        new = []
        for entry in entries:
            if entry.id not in known and entry.id not in seen_in_feed:
                seen_in_feed.add(entry.id)
                new.append(entry)
        return new

    def _import(self, entry: FeedEntry) -> int:
        document = self.client.get_json(entry.content_src)
        with self.db.session() as session:
            now = self.clock()
            if not insert_or_ignore(session, self.imported_table, {"entry_id": entry.id, "imported_at": now}):
                return 0  # another poller took it in the meantime
            return 1 if self.import_entry(session, document, now) else 0

    def _describe(self, error: Exception) -> str:
        if isinstance(error, (FeedError, DocumentError, requests.RequestException)):
            return str(error)
        log.exception("poll of %s failed", self.client.feed_url)
        return f"Unexpected failure: {type(error).__name__}."

    def _save_validators(self, etag: str | None, last_modified: str | None) -> None:
        with self.db.session() as session:
            state = self._state_row(session)
            state.etag, state.last_modified = etag, last_modified

    def _record(self, result: PollResult) -> None:
        try:
            with self.db.session() as session:
                state = self._state_row(session)
                state.polled_at = self.clock()
                state.outcome = str(result.status)
                state.message = result.message
                state.imported = result.imported
                state.pending = result.pending
        except Exception:  # noqa: BLE001 - the database may be the thing that failed
            log.exception("could not record the outcome of a poll")

    def _state_row(self, session: Session):
        insert_or_ignore(session, self.state_model.__table__, {"id": 1, "imported": 0, "pending": 0})
        return session.get(self.state_model, 1, with_for_update=True)


def start_schedule(poll: Callable[[], object], interval_seconds: float) -> BackgroundScheduler:
    """Run `poll` every `interval_seconds`, never two at once."""
    scheduler = BackgroundScheduler(
        job_defaults={"coalesce": True, "max_instances": 1}, timezone="UTC"
    )
    scheduler.add_job(poll, "interval", seconds=interval_seconds, id="poll")
    scheduler.start()
    return scheduler
