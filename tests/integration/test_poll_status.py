"""What people read about the polls is kept apart from the tracking record: while an
import holds the tracking row locked (PostgreSQL keeps it until the import commits),
the outcome of a poll, how far behind it found the feed and the imports it counted
are recorded at once, without waiting for that import."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from common.db import Database
from common.feed.applying import Applier, Tally
from common.feed.parsing import ParsedEntry
from common.feed.reading import Change
from common.feed.recording import PollStatusRecorder
from common.schema import upgrade
from invoicing.importer import import_order
from invoicing.models import MIGRATIONS, PollStatus, RejectedEntry, Tracking
from tests.support.documents import order
from tests.support.importing import watched

NOW = datetime(2026, 11, 22, 10, 20, tzinfo=timezone.utc)
# Long enough for any write that does not wait; a write that waits for the import
# waits until the test lets the import go, far longer.
PROMPTLY = 5


@pytest.fixture
def db(postgres_url):
    database = Database(postgres_url)
    upgrade(database, MIGRATIONS)
    yield database
    database.dispose()


def tracking_locked_elsewhere(db: Database) -> bool:
    try:
        with db.engine.begin() as other:
            other.execute(text("SELECT id FROM tracking WHERE id = 1 FOR UPDATE NOWAIT"))
        return False
    except OperationalError:
        return True


def test_a_poll_is_recorded_while_an_import_holds_the_tracking_row(db):
    stored, release = threading.Event(), threading.Event()

    def hold(batch) -> None:  # in the import's transaction, its rows written, not committed
        if batch[0].head["id"] == 8:
            stored.set()
            release.wait(60)

    applier = Applier(db, Tracking, RejectedEntry, watched(import_order, stored=hold), lambda: NOW)
    record = PollStatusRecorder(db, Tracking, PollStatus, lambda: NOW)
    first, second = (Change(ParsedEntry(f"urn:{n}", f"http://order.test/{order_id}/versions/1", n, 1),
                            order(id=order_id))
                     for n, order_id in ((1, 7), (2, 8)))
    applier.apply([first])

    with ThreadPoolExecutor(max_workers=2) as pool:
        importing = pool.submit(applier.apply, [second])
        try:
            assert stored.wait(30), "the import did not get to store its rows"
            assert tracking_locked_elsewhere(db)
            pool.submit(record.record_newest, 3, NOW).result(timeout=PROMPTLY)
            pool.submit(record.record, "error", "The feed did not answer.", 0, None).result(timeout=PROMPTLY)
            pool.submit(record.count, 2).result(timeout=PROMPTLY)
            meanwhile = record.poll_state()
        finally:
            release.set()
        assert importing.result(timeout=30) == Tally(imported=1)

    assert (meanwhile.position, meanwhile.pending, meanwhile.outcome) == (1, 2, "error")
    after = record.poll_state()
    assert (after.position, after.pending, after.pending_since) == (2, 1, NOW)
    assert (after.outcome, after.message, after.imports_in_window) == ("error", "The feed did not answer.", 2)
