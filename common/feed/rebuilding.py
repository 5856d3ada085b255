"""Rebuilding a service's data from its feed's first entry, next to the data it serves,
and putting the result in their place in one transaction."""
from __future__ import annotations

import logging
import threading
from typing import Callable

from common import request_id
from common.db import Database
from common.feed.applying import Applier, ImportEntry
from common.feed.copying import Copy
from common.feed.following import FeedClient
from common.feed.progress import Progress, RebuildMark, new_owner
from common.feed.reading import FeedReader, Stopped
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
    service's tables (copying.py) and reads the feed from its first entry into them
    with the same Applier the consumer uses: each batch and the copy's position
    commit in one transaction of the copy's own, and the mark reports how far it got.
    Meanwhile the service serves its current data, and its consumer goes on importing
    new entries into them.

    After a pass over the feed that brought nothing new, the swap, one transaction:
    lock the consumer's state row (no import commits meanwhile), check that the copy
    reached the consumer's position (when the consumer took entries the copy has not,
    another pass first), replace the current rows by the copy's, move the consumer's
    position to the copy's, mark the rebuild done, commit. Then the copy is dropped.
    A failure or a crash before that commit leaves the current data as they were, and
    the next rebuild starts from a fresh copy.
    """

    def __init__(self, db: Database, copy: Copy, state_model, rejected_model, mark_model,
                 import_entry: ImportEntry, client: FeedClient, clock, embedded: bool = True,
                 observe: Callable[[Progress], None] = lambda progress: None):
        self.db, self.copy, self.client = db, copy, client
        self.mark = RebuildMark(db, mark_model, clock)
        self.current = Applier(db, state_model, rejected_model, import_entry, clock)
        self.applier = Applier(copy.db, state_model, rejected_model, import_entry, clock)
        self.reader = FeedReader(client, embedded)
        self.observe = observe  # told of its progress after every batch (metrics)
        self.after_batch: Callable[[int], None] = lambda position: None  # a hook for tests
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
                self.copy.drop()
            except Exception:  # noqa: BLE001 - the next rebuild makes it fresh anyway
                log.exception("could not drop the copy of a rebuild")

    def _rebuild(self, owner: str) -> None:
        self.copy.create()
        position = 0
        while True:
            subscription = self.reader.parse(self.reader.subscription(None, None).body)
            before = position
            for changes in self.reader.changes_after(position, subscription, BATCH):
                self._stop_if_asked()
                self.applier.apply(changes)
                position = max(position, changes[-1].entry.position)
                self.mark.report(owner, position, subscription.newest)
                self.observe(self.progress())
                self.after_batch(position)
            if position == before and self._swap(owner, position):
                return
            self._stop_if_asked()

    def _swap(self, owner: str, position: int) -> bool:
        with self.copy.swap() as session:
            state = self.current.state_row(session)
            if state.position > position:
                return False  # the consumer took entries the copy has not: another pass
            self.copy.replace(session)
            state.position, state.etag, state.last_modified = position, None, None
            self.mark.finish(session, owner, position)
            return True

    def _stop_if_asked(self) -> None:
        if self._stopping.is_set():
            raise RuntimeError("The service stopped during the rebuild; start it again.")
