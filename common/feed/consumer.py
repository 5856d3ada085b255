"""A service's subscription to a feed: poll, import what is new, remember how far it got."""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Callable

import requests
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from common import request_id
from common.db import Database, insert_or_ignore
from common.feed.documents import DocumentError
from common.feed.following import FeedClient, FeedEntry, FeedError, FeedPage, UnusableDocument, parse_page

log = logging.getLogger(__name__)

# Catching up, documents are fetched a few at a time and applied in batches of
# one transaction each; every batch moves the position along with its imports.
FETCHES_AT_ONCE = 4
BATCH = 50
# After failed polls the schedule waits 2, 4, 8 ... seconds, at most this long.
MAX_BACKOFF_SECONDS = 60.0

# (session, document, now) -> whether it stored something new for the service.
ImportEntry = Callable[[Session, Any, datetime], bool]


@dataclass(frozen=True)
class PollResult:
    status: int | str
    imported: int = 0
    pending: int = 0
    message: str = ""
    rejected: int = 0  # entries whose documents could not be used; kept to retry

    @property
    def ok(self) -> bool:
        return self.status != "error"

    def as_json(self) -> dict:
        return asdict(self)


class Consumer:
    """Polls one feed for one service and hands each new entry's document to
    `import_entry`, which stores it in the session it is given."""

    def __init__(self, db: Database, state_model, rejected_model, import_entry: ImportEntry,
                 client: FeedClient, clock: Callable[[], datetime],
                 observe: Callable[[PollResult, float], None] = lambda result, seconds: None):
        self.observe = observe  # told of every poll's result and duration (metrics)
        self.db = db
        self.state_model = state_model
        self.rejected_model = rejected_model
        self.import_entry = import_entry
        self.client = client
        self.clock = clock
        # One poll at a time, whether scheduled or asked for: in this process, and
        # across the processes (workers, replicas) that share the database.
        self._lock = threading.Lock()
        self._failures = 0
        self._resume_at = 0.0  # time.monotonic() before which the schedule leaves the feed alone
        self._lock_name = f"poll {client.feed_url}"

    def poll(self, wait: bool = True) -> PollResult | None:
        """Poll now. While another process of this service polls, wait for it, or
        with wait=False (the schedule's way) do nothing and return None; the
        schedule also does nothing while it backs off after failures."""
        if not wait and time.monotonic() < self._resume_at:
            return None
        try:
            with self._lock, self.db.exclusive(self._lock_name, wait) as taken, request_id.scope():
                return self._poll_and_record() if taken else None
        except SQLAlchemyError as error:
            log.warning("poll of %s: the database does not answer: %s", self.client.feed_url, error)
            return PollResult("error", message="The service's database does not answer.")

    def _poll_and_record(self) -> PollResult:
        started = time.perf_counter()
        try:
            result = self._poll()
        except Exception as error:  # noqa: BLE001 - a poll must report, never die
            result = PollResult("error", message=self._describe(error))
        self._record(result)
        self._back_off(result)
        self.observe(result, time.perf_counter() - started)
        if not result.ok:
            log.warning("poll of %s: %s", self.client.feed_url, result.message)
        elif result.status == 200:
            log.info("poll of %s imported %d (200)", self.client.feed_url, result.imported)
        else:
            log.debug("poll of %s found nothing new (%s)", self.client.feed_url, result.status)
        return result

    def backoff_seconds(self) -> float:
        """How long the schedule still waits before it tries the feed again."""
        return max(0.0, self._resume_at - time.monotonic())

    def _back_off(self, result: PollResult) -> None:
        self._failures = self._failures + 1 if not result.ok else 0
        delay = min(MAX_BACKOFF_SECONDS, 2.0 ** self._failures) if self._failures else 0.0
        self._resume_at = time.monotonic() + delay

    def state(self):
        with self.db.session() as session:
            return session.get(self.state_model, 1) or self.state_model(id=1, position=0)

    def _poll(self) -> PollResult:
        saved = self.state()
        response = self.client.get_feed(saved.etag, saved.last_modified)
        if response.status == 304:
            return PollResult(304)
        entries = self._entries_after(saved.position, parse_page(response.body, self.client.feed_url))
        tally, done = _Tally(), 0
        with ThreadPoolExecutor(FETCHES_AT_ONCE, initializer=request_id.adopt,
                                initargs=(request_id.current(),)) as fetcher:  # the poll's id in every fetch
            while done < len(entries):
                batch = entries[done:done + BATCH]
                try:
                    self._import(batch, fetcher, tally)
                    done += len(batch)
                except _Partial as partial:
                    done += partial.done
                    return PollResult("error", tally.imported, len(entries) - done,
                                      self._describe(partial.error), tally.rejected)
        self._save_validators(response.etag, response.last_modified)
        return PollResult(200, tally.imported, rejected=tally.rejected)

    def _entries_after(self, position: int, page: FeedPage) -> list[FeedEntry]:
        """The entries after `position`, oldest first: from the subscription
        document back along prev-archive links as far as needed."""
        pages = [page]
        while not pages[-1].reaches_back_to(position + 1) and pages[-1].prev_archive:
            url = pages[-1].prev_archive
            pages.append(parse_page(self.client.get_page(url), url))
        entries = []
        for entry in (entry for page in reversed(pages) for entry in page.entries if entry.position > position):
            if entries and entry == entries[-1]:
                continue  # the feed repeats an entry, here or across pages: take it once
            entries.append(entry)
        for expected, entry in enumerate(entries, start=position + 1):
            if entry.position < expected:
                raise FeedError(f"The feed has two different entries at position {entry.position}.")
            if entry.position > expected:
                raise FeedError(f"The feed skips from position {expected - 1} to {entry.position}.")
        return entries

    def _import(self, batch: list[FeedEntry], fetcher: ThreadPoolExecutor, tally: _Tally) -> None:
        """Apply a batch of entries and advance the position, in one transaction.

        Their documents are fetched several at a time. A document that will never
        do (UnusableDocument) is applied as a rejection; when one cannot be had now,
        the entries before it are applied and _Partial tells how far it got.
        """
        documents, error = [], None
        for future in [fetcher.submit(self.client.get_document, entry) for entry in batch]:
            if error is not None:
                future.cancel()
                continue
            try:
                documents.append(future.result())
            except UnusableDocument as unusable:
                documents.append(unusable)
            except Exception as failure:  # noqa: BLE001 - reported with what was done
                error = failure
        try:
            self._apply(batch[:len(documents)], documents, tally)
        except Exception as failure:  # noqa: BLE001 - the transaction rolled back: nothing of it took effect
            raise _Partial(0, failure) from failure
        if error is not None:
            raise _Partial(len(documents), error)

    def _apply(self, entries: list[FeedEntry], documents: list, tally: _Tally) -> None:
        batch = _Tally()
        with self.db.session() as session:
            state = self._state_row(session)
            for entry, document in zip(entries, documents, strict=True):
                if state.position >= entry.position:
                    continue  # another process of this service took it meanwhile
                if state.position != entry.position - 1:
                    raise FeedError(f"Entry {entry.position} came before entry {state.position + 1}.")
                state.position = entry.position
                self._take(session, entry, document, batch)
        tally.imported += batch.imported
        tally.rejected += batch.rejected

    def _take(self, session: Session, entry: FeedEntry, document, tally: _Tally) -> None:
        """Import one entry's document, or keep the entry as rejected with the reason."""
        if isinstance(document, UnusableDocument):
            self._reject(session, entry, str(document), tally)
            return
        try:
            with session.begin_nested():  # a mapping error undoes this entry alone
                tally.imported += 1 if self.import_entry(session, document, self.clock()) else 0
        except DocumentError as error:
            self._reject(session, entry, f"{entry.content_src}: {error}", tally)

    def _reject(self, session: Session, entry: FeedEntry, reason: str, tally: _Tally) -> None:
        log.warning("feed entry %d rejected: %s", entry.position, reason)
        session.merge(self.rejected_model(position=entry.position, entry_id=entry.id, content_src=entry.content_src,
                                          reason=reason, rejected_at=self.clock(), attempts=1))
        tally.rejected += 1

    def rejected(self) -> list:
        with self.db.session() as session:
            return list(session.scalars(select(self.rejected_model).order_by(self.rejected_model.position)))

    def retry(self, position: int) -> str | None:
        """Try a rejected entry again; None when it was imported now, else why not."""
        with self.db.session() as session:
            rejected = session.get(self.rejected_model, position)
            if rejected is None:
                return f"There is no rejected entry at position {position}."
            url = rejected.content_src
        try:
            document = self.client.get_json(url)
            with self.db.session() as session:
                self.import_entry(session, document, self.clock())
                session.delete(session.get(self.rejected_model, position))
            return None
        except (FeedError, DocumentError, requests.RequestException) as error:
            with self.db.session() as session:
                rejected = session.get(self.rejected_model, position)
                rejected.reason, rejected.attempts = str(error), rejected.attempts + 1
            return str(error)

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
        """The state row, locked until the transaction ends (on SQLite the insert
        attempt alone makes the transaction the one writer)."""
        insert_or_ignore(session, self.state_model.__table__, {"id": 1, "imported": 0, "pending": 0, "position": 0})
        return session.get(self.state_model, 1, with_for_update=True, populate_existing=True)


@dataclass
class _Tally:
    imported: int = 0
    rejected: int = 0


class _Partial(Exception):
    """A batch stopped by `error` after `done` entries took effect."""

    def __init__(self, done: int, error: Exception):
        super().__init__(str(error))
        self.done, self.error = done, error


class _PollStillRunning(logging.Filter):
    """A poll that outlasts the interval (catching up) makes the scheduler skip a
    run and log a warning each time; that is the intended behaviour, not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


def start_schedule(poll: Callable[[], object], interval_seconds: float) -> BackgroundScheduler:
    """Run `poll` every `interval_seconds`, never two at once."""
    scheduler_log = logging.getLogger("apscheduler.scheduler")
    if not any(isinstance(f, _PollStillRunning) for f in scheduler_log.filters):
        scheduler_log.addFilter(_PollStillRunning())
    scheduler = BackgroundScheduler(
        job_defaults={"coalesce": True, "max_instances": 1}, timezone="UTC"
    )
    scheduler.add_job(poll, "interval", seconds=interval_seconds, id="poll")
    scheduler.start()
    return scheduler
