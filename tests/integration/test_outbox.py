"""The order feed's log on SQLite and PostgreSQL: placing and cancelling orders
gives positions 1..n without gaps, in the order the changes were committed, also
when many requests write at once."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text

from common.db import Database
from common.feed import outbox
from common.schema import upgrade
from common.utc import utc_now
from order import service
from order.models import MIGRATIONS, FeedEntry, OrderConflict
from tests.support.orders import order_request


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    upgrade(database, MIGRATIONS)
    outbox.install(database)
    yield database
    database.dispose()


def place(db: Database) -> int:
    with db.session() as session:
        return service.place_order(session, order_request(), utc_now).id


def cancel(db: Database, order_id: int) -> None:
    with db.session() as session:
        service.cancel_order(session, order_id, utc_now)


def log(db: Database) -> list[tuple[int, int, int, str]]:
    """(position, order id, order version, event) of every entry, by position."""
    with db.session() as session:
        rows = session.execute(select(FeedEntry.position, FeedEntry.order_id, FeedEntry.order_version,
                                      FeedEntry.event).order_by(FeedEntry.position))
        return [(row.position, row.order_id, row.order_version, row.event) for row in rows]


def test_each_change_takes_the_next_position(db):
    first, second = place(db), place(db)
    cancel(db, first)
    third = place(db)
    cancel(db, third)

    assert log(db) == [(1, first, 1, "placed"), (2, second, 1, "placed"), (3, first, 2, "cancelled"),
                       (4, third, 1, "placed"), (5, third, 2, "cancelled")]


def test_a_change_that_is_not_committed_leaves_no_gap(db):
    first = place(db)
    with pytest.raises(RuntimeError):
        with db.session() as session:
            service.place_order(session, order_request(), utc_now)
            raise RuntimeError("the request fails after the order got its position")
    with pytest.raises(service.InvalidOrder):
        with db.session() as session:
            service.place_order(session, order_request(customer_id=99), utc_now)
    cancel(db, first)
    with pytest.raises(OrderConflict):
        cancel(db, first)
    second = place(db)

    assert log(db) == [(1, first, 1, "placed"), (2, first, 2, "cancelled"), (3, second, 1, "placed")]


def test_an_order_placed_in_a_savepoint_that_rolls_back_leaves_no_entry(db):
    with db.session() as session:
        kept = service.place_order(session, order_request(), utc_now).id
        with pytest.raises(RuntimeError):
            with session.begin_nested():
                service.place_order(session, order_request(), utc_now)
                raise RuntimeError("the savepoint's part of the work fails")
        with session.begin_nested():  # a savepoint released keeps what it noted
            also_kept = service.place_order(session, order_request(), utc_now).id

    assert log(db) == [(1, kept, 1, "placed"), (2, also_kept, 1, "placed")]


def test_a_released_savepoint_writes_no_entry_and_takes_no_lock_before_the_commit(db):
    with db.session() as session:
        with session.begin_nested():
            order_id = service.place_order(session, order_request(), utc_now).id
        entries_before_commit = session.scalar(select(func.count()).select_from(FeedEntry))
        with db.session() as other:
            locked = outbox.writing(other, FeedEntry.__table__)

    assert (entries_before_commit, locked) == (0, False)
    assert log(db) == [(1, order_id, 1, "placed")]


def test_a_database_without_the_outbox_refuses_an_append_instead_of_losing_it(database_url):
    bare = Database(database_url)
    upgrade(bare, MIGRATIONS)
    try:
        with pytest.raises(outbox.NotInstalled):
            with bare.session() as session:
                service.place_order(session, order_request(), utc_now)
        assert log(bare) == []
    finally:
        bare.dispose()


def test_concurrent_writers_commit_positions_without_gaps_and_readers_never_see_one(db):
    """Writers place and cancel orders at once while a reader looks at the log again
    and again: every look shows positions 1..k, the feed a consumer follows never
    skips one that commits later."""
    writers, rounds = 6, 4
    start = threading.Barrier(writers + 1)
    done = threading.Event()
    errors, looks = [], []

    def write():
        start.wait()
        try:
            for _ in range(rounds):
                cancel(db, place(db))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(repr(error))

    def read():
        start.wait()
        while not done.is_set():
            with db.session() as session:
                looks.append(session.scalars(select(FeedEntry.position).order_by(FeedEntry.position)).all())

    threads = [threading.Thread(target=write) for _ in range(writers)]
    reader = threading.Thread(target=read)
    for thread in [*threads, reader]:
        thread.start()
    for thread in threads:
        thread.join(60)
    done.set()
    reader.join(60)

    assert errors == []
    entries = log(db)
    assert [position for position, *_ in entries] == list(range(1, 2 * writers * rounds + 1))
    placed = {order_id: position for position, order_id, version, event in entries if event == "placed"}
    cancelled = {order_id: position for position, order_id, version, event in entries if event == "cancelled"}
    assert len(placed) == len(cancelled) == writers * rounds
    assert all(placed[order_id] < cancelled[order_id] for order_id in placed)
    assert looks and all(look == list(range(1, len(look) + 1)) for look in looks)
    with db.session() as session:
        times = session.scalars(select(FeedEntry.recorded_at).order_by(FeedEntry.position)).all()
    assert times == sorted(times), "an entry's time lies before the one of an entry before it"


def test_while_an_entry_is_being_written_if_modified_since_gets_the_feed(postgres_url, make_app, settings_for,
                                                                          clock):
    """The writer already holds the log's lock and may commit an entry with a time
    in a second that is over; until it commits, If-Modified-Since proves nothing."""
    app = make_app("order", settings_for("order", database_url=postgres_url, clock=clock))
    client = app.test_client()
    client.post("/", json=order_request())
    clock.advance(seconds=1)  # the order's second is over: its Last-Modified is final
    last_modified = client.get("/feed").headers["Last-Modified"]
    assert client.get("/feed", headers={"If-Modified-Since": last_modified}).status_code == 304

    writer = Database(postgres_url)
    with writer.session() as session:
        session.execute(text("LOCK TABLE feed_entry IN EXCLUSIVE MODE"))
        during = client.get("/feed", headers={"If-Modified-Since": last_modified})
    after = client.get("/feed", headers={"If-Modified-Since": last_modified})
    writer.dispose()

    assert (during.status_code, after.status_code) == (200, 304)
