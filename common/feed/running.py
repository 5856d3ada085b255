"""Running a service's subscription to a feed: one poll at a time across its
processes, the outcome of each, back-off after failures, and the two ways to keep
following: waiting on the feed (long-poll) or a schedule."""
from __future__ import annotations

import logging
import threading
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Callable

import requests
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.exc import SQLAlchemyError

from common import request_id
from common.db import Database
from common.feed.applying import Applier, Tally
from common.feed.storing import VersionedImport
from common.feed.documents import DocumentError
from common.feed.client import FeedClient, FeedError, FeedResponse
from common.feed.parsing import ParsedEntry
from common.feed.standing import Standing, standing
from common.feed.reading import FeedReader, Stopped
from common.feed.recording import PollState, PollStatusRecorder
from common.feed.retrying import Retried, retry

log = logging.getLogger(__name__)

# Changes are applied in batches of one transaction each; every batch moves the
# position along with its imports.
BATCH = 50
# After failed polls the consumer waits 2, 4, 8 ... seconds, at most this long.
MAX_BACKOFF_SECONDS = 60.0
# A process that stands by while another follows the feed looks up from its wait for
# the lead this often, to notice that it is asked to stop.
STANDBY_SECONDS = 5.0


@dataclass(frozen=True)
class PollResult:
    status: int | str
    imported: int = 0
    pending: int = 0
    message: str = ""
    rejected: int = 0  # entries whose documents could not be used; kept to retry
    # When the oldest entry left for the next poll was written; not in the JSON answer.
    pending_since: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.status != "error"

    @property
    def counted(self) -> bool:
        """Whether the poll found out how far behind the service is: one that failed
        before it read the feed did not."""
        return self.ok or self.pending > 0

    def as_json(self) -> dict:
        return {field.name: getattr(self, field.name) for field in fields(self) if field.name != "pending_since"}


class Consumer:
    """Follows one feed for one service.

    A poll asks for the subscription document with the validators of the last
    complete poll. On 304 it is done. On 200 the reader hands out the changes after
    the service's position, page by page, and each batch is applied in a transaction
    of its own together with the position it reached (applying.py). When every change
    is in, the validators are saved with the position; when one cannot be had now,
    the poll ends with an error, the position stays after the last change applied,
    and the next poll goes on from there. What people read of it (its outcome, how
    far behind, imports a minute) is written apart, after each commit (recording.py).
    """

    def __init__(self, db: Database, tracking_model, status_model, rejected_model, import_: VersionedImport,
                 client: FeedClient, clock: Callable[[], datetime],
                 observe: Callable[[PollResult, float], None] = lambda result, seconds: None,
                 embedded: bool = True, tracer: Any | None = None):
        self.db = db
        self.client = client
        self.clock = clock
        self.observe = observe  # told of every poll's result and duration (metrics)
        self.reader = FeedReader(client, embedded)
        self.applier = Applier(db, tracking_model, rejected_model, import_, clock, tracer=tracer)
        self.recorder = PollStatusRecorder(db, tracking_model, status_model, clock)
        # One poll at a time, whether scheduled or asked for: in this process, and
        # across the processes (workers, replicas) that share the database.
        self._lock = threading.Lock()
        self._lock_name = f"poll {client.feed_url}"
        self._closed = False
        self._failures = 0
        self._resume_at = 0.0  # time.monotonic() before which no poll of its own starts
        # What a wait on the feed brought, for the next poll, and the wait's request id,
        # which that poll takes on: the feed's log shows the request that brought its changes.
        self._news: tuple[FeedResponse, str] | None = None

    def poll(self, wait: bool = True) -> PollResult | None:
        """Poll now. While another process of this service polls, wait for it, or
        with wait=False (a schedule's way) do nothing and return None; nothing
        either while it backs off after failures or once closed."""
        if not wait and self.backoff_seconds():
            return None
        try:
            with self._lock, self.db.exclusive(self._lock_name, wait) as taken, \
                    request_id.scope(self._news[1] if self._news else None):
                return self._poll_and_record() if taken and not self._closed else None
        except SQLAlchemyError as error:
            log.warning("poll of %s: the database does not answer: %s", self.client.feed_url, error)
            return PollResult("error", message="The service's database does not answer.")

    def wait_for_news(self, seconds: int) -> bool:
        """Wait until the feed holds something this service has not seen, at most
        `seconds` (the server holds the request). False when the server did not
        wait (it knows no long-poll, or failed): then the caller must pause itself."""
        try:
            saved = self.applier.tracking()
            with request_id.scope() as waited_as:
                response = self.reader.subscription(saved.etag, None, wait=seconds)
        except (FeedError, SQLAlchemyError) as error:  # the next poll says what is wrong
            log.debug("waiting on %s: %s", self.client.feed_url, error)
            return False
        if response.status == 200:
            # The answer is the new subscription document: the next poll starts from it
            # instead of asking again. Should another process have polled meanwhile, the
            # entries it took are passed over; the feed only ever grows.
            self._news = (response, waited_as)
        return response.status == 200 or response.waited

    def leading(self, seconds: float) -> AbstractContextManager[bool]:
        """A context that holds whether this process leads the following: one process
        of the service at a time waits on the feed and polls by itself, so that news
        wakes one of them rather than every worker, each to read the same page. The
        others wait up to `seconds` for the lead, and take it as soon as the leader
        stops or dies."""
        return self.db.exclusive(f"follow {self.client.feed_url}", seconds)

    def close(self) -> None:
        """No poll starts after this; one running now has finished when it returns."""
        with self._lock:
            self._closed = True

    def backoff_seconds(self) -> float:
        """How long the consumer still waits before it tries the feed again by itself."""
        return max(0.0, self._resume_at - time.monotonic())

    def poll_state(self) -> PollState:
        return self.recorder.poll_state()

    def polling(self) -> bool:
        """Whether a poll of this process runs now."""
        return self._lock.locked()

    def standing(self, follows: bool) -> Standing:
        """How far it has come and what it does now (GET /status); `follows`: whether
        it polls by itself, or only when asked."""
        return standing(self.recorder.poll_state(), self.polling(), self.backoff_seconds() if follows else 0.0,
                        self.clock())

    def rejected(self) -> list:
        return self.applier.rejected()

    def retry(self, position: int) -> Retried:
        """Try a rejected entry again, in turn with polls, other retries and a
        rebuild's swap."""
        return retry(self.applier, position, self.client.get_json)

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

    def _poll(self) -> PollResult:
        saved = self.applier.tracking()
        news, self._news = self._news, None
        response = news[0] if news else self.reader.subscription(saved.etag, saved.last_modified)
        if response.status == 304:
            return PollResult(304)
        subscription = self.reader.parse(response.body)
        if not (subscription.reaches_back_to(saved.position + 1) and subscription.newest - saved.position <= BATCH):
            # How far behind, while it catches up. News that the subscription document
            # holds and one batch takes (a woken consumer's) is applied at once instead,
            # and the poll status, recorded after the poll, says it.
            self.recorder.record_newest(subscription.newest,
                                         _written_first_after(saved.position, subscription.entries))
        tally, position, changes = Tally(), saved.position, []
        try:
            for changes in self.reader.changes_after(saved.position, subscription, BATCH):
                applied = self.applier.apply(changes)
                tally.add(applied)
                position = max(position, changes[-1].entry.position)
                self.recorder.count(applied.imported)
        except Exception as error:  # noqa: BLE001 - reported with what was done
            stopped = error if isinstance(error, Stopped) else None
            seen = [change.entry for change in changes] + ([stopped.entry] if stopped else []) + subscription.entries
            return PollResult("error", tally.imported, max(0, subscription.newest - position),
                              self._describe(stopped.error if stopped else error), tally.rejected,
                              _written_first_after(position, seen))
        self.applier.read_through(response.etag, response.last_modified)
        return PollResult(200, tally.imported, rejected=tally.rejected)

    def _back_off(self, result: PollResult) -> None:
        self._failures = self._failures + 1 if not result.ok else 0
        delay = min(MAX_BACKOFF_SECONDS, 2.0 ** self._failures) if self._failures else 0.0
        self._resume_at = time.monotonic() + delay

    def _describe(self, error: Exception) -> str:
        if isinstance(error, (FeedError, DocumentError, requests.RequestException)):
            return str(error)
        log.exception("poll of %s failed", self.client.feed_url, exc_info=error)
        return f"Unexpected failure: {type(error).__name__}."

    def _record(self, result: PollResult) -> None:
        try:
            self.recorder.record(str(result.status), result.message, result.imported,
                               result.pending if result.counted else None, result.pending_since)
        except Exception:  # noqa: BLE001 - the database may be the thing that failed
            log.exception("could not record the outcome of a poll")


def _written_first_after(position: int, seen: list[ParsedEntry]) -> datetime | None:
    """When the first entry after `position` among those a poll read was written: the
    entry after it where the poll got that far, else a later one (times follow
    positions: the oldest entry not applied is then at least that old)."""
    after = [entry for entry in seen if entry.position > position]
    return min(after, key=lambda entry: entry.position).updated if after else None


class Following:
    """Keeps a consumer following its feed from a thread of its own: it polls, then
    waits on the feed (long-poll) until something is new, and polls again; after a
    failed poll it waits out the back-off first. Where the feed does not hold the
    request, it pauses `interval_seconds` between polls instead. Of the processes of
    a service, one follows; the others stand by to take over (Consumer.leading)."""

    def __init__(self, consumer: Consumer, wait_seconds: int, interval_seconds: float):
        self.consumer, self.wait_seconds, self.interval_seconds = consumer, wait_seconds, interval_seconds
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"following {consumer.client.feed_url}",
                                        daemon=True)

    def start(self) -> Following:
        self._thread.start()
        return self

    def stop(self) -> None:
        """The thread may be inside a wait the server holds, or standing by for the
        lead; it ends with the process, or when that wait returns (the lead then passes
        on). No poll starts after this."""
        self._stopping.set()
        self.consumer.close()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                with self.consumer.leading(STANDBY_SECONDS) as leads:
                    if leads:
                        self._follow()
            except SQLAlchemyError as error:  # the database away: no lead to take now
                log.warning("following %s: the database does not answer: %s", self.consumer.client.feed_url, error)
                self._stopping.wait(self.interval_seconds)

    def _follow(self) -> None:
        while not self._stopping.is_set():
            try:
                self._step()
            except Exception:  # noqa: BLE001 - following must outlive any one failure
                log.exception("following %s failed; going on", self.consumer.client.feed_url)
                self._stopping.wait(self.interval_seconds)

    def _step(self) -> None:
        pause = self.consumer.backoff_seconds()
        if pause:
            self._stopping.wait(pause)
            return
        # While another process of this service polls, wait for it and poll after it:
        # waiting on the feed with the validators from before its poll would be
        # answered at once, again and again, until that poll ends.
        self.consumer.poll()
        if self.consumer.backoff_seconds() or self._stopping.is_set():
            return
        if not self.consumer.wait_for_news(self.wait_seconds):
            self._stopping.wait(self.interval_seconds)


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
