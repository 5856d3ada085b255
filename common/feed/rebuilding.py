"""Rebuilding a service's data from its feed's first entry, next to the data it serves,
and putting the result in their place in one transaction."""
from __future__ import annotations

import logging
import threading
from functools import partial
from typing import Any, Callable

from sqlalchemy import select

from common import request_id
from common.db import Database
from common.feed.applying import Applier
from common.feed.copying import Copy, CopyTakenOver
from common.feed.client import FeedClient
from common.feed.progress import Progress, RebuildMark, new_owner
from common.feed.reading import FeedReader, Stopped
from common.feed.retrying import retry
from common.feed.storing import VersionedImport
from common.feed.running import BATCH

log = logging.getLogger(__name__)

# How long POST /rebuild waits to learn whether its rebuild took the mark.
CLAIM_SECONDS = 30


class Rebuilder:
    """Rebuilds one service's data from the whole feed.

    A rebuild first takes the lock `rebuild <feed>` across the service's processes
    (on PostgreSQL an advisory lock held for its whole length, which dies with its
    process) and the mark in the service's database (progress.py): one rebuild at a
    time, and every process shows its progress. It makes fresh, empty copies of the
    service's tables, marked as its own (copying.py), and reads the feed from its
    first entry into them with the same Applier the consumer uses: each batch and the
    copy's position commit in one transaction of the copy's own, and the mark reports
    how far it got. A document it cannot have is kept in the copy as rejected, with
    the reason, as a poller keeps one that is gone. Meanwhile the service serves its
    current data, and its consumer goes on importing new entries into them, and
    people may retry rejected entries there.

    After a pass over the feed that brought nothing new, the swap, one transaction:
    lock the consumer's tracking row (no import or retry commits meanwhile), check that
    the rebuild still holds the mark and that the copy is the one it made (a rebuild
    that lost its lock to another stops here, or at its next batch, and touches
    nothing), then compare the copy's own position and rejected entries with the
    current ones. When the consumer took entries the copy has not: another pass.
    When the current data hold an entry the copy rejected (a retry imported it, or
    its document could not be had during the rebuild): that entry is tried again in
    the copy first; if its document is gone, the rejection is carried over, and if it
    cannot be had now, the rebuild fails and the current data stay. Otherwise: replace
    the current rows by the copy's, rejected entries included, move the consumer's
    position to the copy's, mark the rebuild done, commit. Then the copy is dropped.
    A failure or a crash before that commit leaves the current data as they were, and
    the next rebuild starts from a fresh copy.
    """

    def __init__(self, db: Database, copy: Copy, tracking_model, rejected_model, mark_model,
                 import_: VersionedImport, client: FeedClient, clock, embedded: bool = True,
                 observe: Callable[[Progress], None] = lambda progress: None, tracer: Any | None = None):
        self.db, self.copy, self.client = db, copy, client
        self.mark = RebuildMark(db, mark_model, clock)
        self.current = Applier(db, tracking_model, rejected_model, import_, clock, tracer=tracer)
        self.copied = partial(Applier, copy.db, tracking_model, rejected_model, import_, clock, tracer=tracer)
        self.reader = FeedReader(client, embedded, passes_unavailable=True)
        self.observe = observe  # told of its progress after every batch (metrics)
        self._tracking_table = copy.tables[tracking_model.__table__.name]
        self._rejected_table = copy.tables[rejected_model.__table__.name]
        self._lock = threading.Lock()
        self._lock_name = f"rebuild {client.feed_url}"
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def progress(self) -> Progress:
        return self.mark.current()

    def start(self) -> Progress | None:
        """Start a rebuild in the background; its progress, or None when one runs."""
        claimed, outcome = threading.Event(), []

        def told(taken: bool) -> None:
            outcome.append(taken)
            claimed.set()

        thread = threading.Thread(target=self.run, args=(told,), name=self._lock_name, daemon=True)
        thread.start()
        claimed.wait(CLAIM_SECONDS)
        if outcome != [True]:
            return None
        self._thread = thread
        return self.progress()

    def run(self, told: Callable[[bool], None] = lambda taken: None) -> Progress | None:
        """Rebuild now, in this thread; its outcome, or None when one runs."""
        if not self._lock.acquire(blocking=False):
            told(False)
            return None
        try:
            with self.db.exclusive(self._lock_name, wait=False) as taken, request_id.scope():
                owner = new_owner()
                if not taken or not self.mark.claim(owner):
                    told(False)
                    return None
                told(True)
                self._rebuild_or_fail(owner)
                return self.progress()
        finally:
            self._lock.release()

    def wait(self, seconds: float) -> bool:
        """Wait at most `seconds` for a rebuild this process started; whether it ended."""
        if self._thread is not None:
            self._thread.join(seconds)
        return self._thread is None or not self._thread.is_alive()

    def close(self, seconds: float = 30) -> None:
        """Stop a rebuild of this process at its next batch; the current data stay."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(seconds)

    def _rebuild_or_fail(self, owner: str) -> None:
        log.info("rebuild from %s started", self.client.feed_url)
        try:
            self._rebuild(owner)
            log.info("rebuild from %s done", self.client.feed_url)
        except Exception as error:  # noqa: BLE001 - a rebuild must report, never die
            cause = error.error if isinstance(error, Stopped) else error
            log.warning("rebuild from %s failed: %s", self.client.feed_url, cause, exc_info=cause)
            self.mark.fail(owner, str(cause) or type(cause).__name__)
        finally:
            self.observe(self.progress())
            try:
                self.copy.drop(owner)
            except Exception:  # noqa: BLE001 - the next rebuild makes it fresh anyway
                log.exception("could not drop the copy of a rebuild")

    def _rebuild(self, owner: str) -> None:
        self.copy.create(owner)
        applier = self.copied(guard=partial(self.copy.check_made_by, owner=owner))
        position, carried = 0, set[int]()
        while True:
            subscription = self.reader.parse(self.reader.subscription(None, None).body)
            before = position
            for changes in self.reader.changes_after(position, subscription, BATCH):
                self._stop_if_asked()
                applier.apply(changes)
                position = max(position, changes[-1].entry.position)
                if not self.mark.report(owner, position, subscription.newest):
                    raise CopyTakenOver()
                self.observe(self.progress())
            if position == before:
                again = self._swap(owner, carried)
                if again is None:
                    return
                carried |= self._try_again(applier, again)
            self._stop_if_asked()

    def _swap(self, owner: str, carried: set[int]) -> set[int] | None:
        """Put the copy in place of the current data; None when done, else the entries
        to try again in the copy first (none: the consumer is ahead, another pass)."""
        with self.copy.swap() as session:
            tracking = self.current.tracking_row(session)
            if not self.mark.holds(session, owner):
                raise CopyTakenOver()
            self.copy.check_made_by(session, owner)
            copied = self._tracking_table
            position = session.scalar(select(copied.c.position).where(copied.c.id == 1)) or 0
            if tracking.position > position:
                return set()
            again = self._rejected_only_in_copy(session, tracking.position) - carried
            if again:
                return again
            self.copy.replace(session)
            tracking.position, tracking.etag, tracking.last_modified = position, None, None
            self.mark.finish(session, owner, position)
            return None

    def _rejected_only_in_copy(self, session, reached: int) -> set[int]:
        """Entries up to the consumer's position `reached` that the copy rejected and the
        current data hold: imported there, by the consumer or by a retry."""
        in_copy = session.scalars(select(self._rejected_table.c.position)
                                  .where(self._rejected_table.c.position <= reached))
        current = self.current.rejected_model
        rejected_now = set(session.scalars(select(current.position).where(current.position <= reached)))
        return set(in_copy) - rejected_now

    def _try_again(self, applier: Applier, positions: set[int]) -> set[int]:
        """Retry `positions` in the copy; those whose documents are gone stay rejected
        and are carried over. One that cannot be had now fails the rebuild: the current
        data hold it, and the swap would put a passing failure in its place."""
        gone = set()
        for position in sorted(positions):
            retried = retry(applier, position, self.client.get_json)
            if retried.imported:
                continue
            if not retried.lasting:
                raise RuntimeError(f"Entry {position} is imported in the current data, but its document could "
                                   f"not be had for the rebuild: {retried.message} Start the rebuild again later.")
            gone.add(position)
        return gone

    def _stop_if_asked(self) -> None:
        if self._stopping.is_set():
            raise RuntimeError("The service stopped during the rebuild; start it again.")
