"""A retry of a rejected entry and a rebuild never undo each other, on SQLite and
PostgreSQL: each race is held at its point by a hook, and afterwards every order is
imported exactly once or listed as rejected with its reason, and nothing answers 500."""
from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

import invoicing.models
from common import parts
from common.db import Database
from common.feed.progress import STALE_SECONDS
from common.utc import utc_now
from tests.integration.support import place_order
from tests.support.importing import watched
from tests.support.waiting import PATIENCE, until

JSON = {"Accept": "application/json"}
GONE, BUSY = "404 Not Found", "503 Service Unavailable"


def first_version(order: dict) -> str:
    return f"/{order['id']}/versions/1"


def invoice_ids(app) -> list[int]:
    return sorted(invoice["id"] for invoice in app.test_client().get("/", headers=JSON).get_json())


def rejected(app) -> dict[int, str]:
    """The rejected entries: position -> reason."""
    return {entry.position: entry.reason for entry in parts.consumer(app).rejected()}


def assert_each_order_imported_once(app, placed: list[dict]) -> None:
    assert invoice_ids(app) == sorted(order["id"] for order in placed)
    assert rejected(app) == {}


def retry(app, position: int) -> tuple[int, dict]:
    answer = app.test_client().post(f"/rejected/{position}/retry", headers=JSON)
    return answer.status_code, answer.get_json()


def rejected_once(order_site, follower, orders: int = 3):
    """Orders placed, the first one's document gone while invoicing imports them: the
    app, the orders, and the paths that fail."""
    base, failing = order_site
    placed = [place_order(base) for _ in range(orders)]
    failing[first_version(placed[0])] = GONE
    app = follower("invoicing", base)
    assert parts.consumer(app).poll().rejected == 1
    return app, placed, failing


def all_imported(order_site, follower):
    """Three orders placed and imported by invoicing: the app, the orders, and the
    paths that fail."""
    base, failing = order_site
    placed = [place_order(base) for _ in range(3)]
    app = follower("invoicing", base)
    parts.consumer(app).poll()
    return app, placed, failing


def held_fetches(consumer, monkeypatch, hold) -> None:
    """Every document the consumer's retries fetch is handed on only after `hold()`."""
    get_json = consumer.client.get_json

    def fetched_then_held(url, *args, **kwargs):
        document = get_json(url, *args, **kwargs)
        hold()
        return document

    monkeypatch.setattr(consumer.client, "get_json", fetched_then_held)


def test_a_retry_just_before_the_swap_stays_imported(order_site, follower, monkeypatch):
    app, placed, failing = rejected_once(order_site, follower)
    rebuilder = parts.rebuilder(app)
    swap, answers = rebuilder.copy.swap, list[tuple[int, dict]]()

    def retried_first():  # the copy rejected entry 1 too; now its document is back
        if not answers:
            failing.clear()
            answers.append(retry(app, 1))
        return swap()

    monkeypatch.setattr(rebuilder.copy, "swap", retried_first)
    done = rebuilder.run()

    assert done.status == "done", done.message
    assert answers == [(200, {"imported": True, "message": "Imported."})]
    assert_each_order_imported_once(app, placed)


def test_a_retry_the_swap_overtook_answers_that_the_entry_was_imported_already(order_site, follower, monkeypatch):
    app, placed, failing = rejected_once(order_site, follower)
    failing.clear()  # the document is back: the rebuild's copy imports it
    fetched, go_on = threading.Event(), threading.Event()

    def held():
        fetched.set()
        assert go_on.wait(PATIENCE)

    held_fetches(parts.consumer(app), monkeypatch, held)
    answers: list = []
    retrying = threading.Thread(target=lambda: answers.append(retry(app, 1)))
    retrying.start()
    try:
        assert fetched.wait(PATIENCE)
        done = parts.rebuilder(app).run()  # its swap clears the rejection
    finally:
        go_on.set()
        retrying.join(PATIENCE)

    assert done.status == "done", done.message
    assert answers == [(200, {"imported": True, "message": "Entry 1 was imported already."})]
    assert_each_order_imported_once(app, placed)


def test_two_retries_of_one_entry_at_once_import_it_once(order_site, follower, monkeypatch):
    app, placed, failing = rejected_once(order_site, follower)
    failing.clear()
    both_fetched = threading.Barrier(2, timeout=PATIENCE)
    held_fetches(parts.consumer(app), monkeypatch, both_fetched.wait)
    answers: list = []
    retries = [threading.Thread(target=lambda: answers.append(retry(app, 1))) for _ in range(2)]
    for thread in retries:
        thread.start()
    for thread in retries:
        thread.join(PATIENCE)

    assert sorted(answers, key=lambda answer: answer[1]["message"]) == [
        (200, {"imported": True, "message": "Entry 1 was imported already."}),
        (200, {"imported": True, "message": "Imported."})]
    assert_each_order_imported_once(app, placed)


def state_locked_elsewhere(database_url: str) -> bool:
    """Whether another connection finds the consumer's tracking row locked (PostgreSQL),
    or the database's one write lock taken (SQLite)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(url.database, timeout=0)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.rollback()
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            connection.close()
    other = Database(database_url)
    try:
        with other.engine.begin() as locking:
            locking.execute(text("SELECT id FROM tracking WHERE id = 1 FOR UPDATE NOWAIT"))
        return False
    except OperationalError:
        return True
    finally:
        other.dispose()


def test_a_retry_compares_and_stores_the_version_with_the_state_locked(order_site, follower, database_url,
                                                                      monkeypatch):
    app, _, failing = rejected_once(order_site, follower)
    failing.clear()
    applier, locked = parts.consumer(app).applier, list[bool]()
    monkeypatch.setattr(applier, "import_", watched(
        applier.import_, mapping=lambda document: locked.append(state_locked_elsewhere(database_url))))

    assert retry(app, 1) == (200, {"imported": True, "message": "Imported."})
    assert locked == [True]


def test_a_retry_after_a_swap_that_kept_the_rejection_imports_the_entry(order_site, follower):
    app, placed, failing = rejected_once(order_site, follower)

    done = parts.rebuilder(app).run()  # the document is still gone: rejected in the result too
    failing.clear()
    still = dict(rejected(app))
    answer = retry(app, 1)

    assert done.status == "done", done.message
    assert list(still) == [1] and "HTTP 404" in still[1]
    assert answer == (200, {"imported": True, "message": "Imported."})
    assert_each_order_imported_once(app, placed)


def take_the_lock_away(app) -> None:
    """What a rebuild's process may live through: on PostgreSQL the connection that holds
    its advisory lock is cut; on SQLite its mark goes unreported past the limit."""
    db = parts.database(app)
    if db.locks_across_processes:
        with db.engine.begin() as connection:
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"))

        def released() -> bool:
            with db.engine.connect() as connection:
                return not connection.scalar(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"))

        until(released, "the advisory lock goes with its connection")
    else:
        with db.session() as session:
            session.get(invoicing.models.Rebuild, 1).reported_at = utc_now() - timedelta(seconds=STALE_SECONDS + 1)


def test_a_rebuild_that_lost_its_lock_leaves_the_data_and_the_copy_to_the_one_that_took_over(
        order_site, follower, monkeypatch):
    base, _ = order_site
    placed = [place_order(base) for _ in range(3)]
    app, other_process = follower("invoicing", base), follower("invoicing", base)
    parts.consumer(app).poll()
    first, second = parts.rebuilder(app), parts.rebuilder(other_process)
    copied, go_on = threading.Event(), threading.Event()
    create, swap = second.copy.create, first.copy.swap

    def created_then_held(*made_by):
        create(*made_by)
        copied.set()
        assert go_on.wait(PATIENCE)

    def overtaken_then_swap():  # the first's last pass is over: now it loses its lock
        take_the_lock_away(app)
        assert second.start() is not None
        assert copied.wait(PATIENCE)  # the second has made its copy, empty
        return swap()

    monkeypatch.setattr(second.copy, "create", created_then_held)
    monkeypatch.setattr(first.copy, "swap", overtaken_then_swap)
    try:
        first.run()
        after_first = invoice_ids(app), parts.consumer(app).poll_state().position
    finally:
        go_on.set()
    assert second.wait(PATIENCE)

    assert after_first == (sorted(order["id"] for order in placed), 3)
    assert second.progress().status == "done", second.progress().message
    assert invoice_ids(app) == sorted(order["id"] for order in placed)
    assert parts.consumer(app).poll_state().position == 3


def test_a_document_the_rebuild_cannot_have_is_rejected_in_its_result(order_site, follower):
    base, failing = order_site
    placed = [place_order(base) for _ in range(3)]
    failing[first_version(placed[1])] = BUSY
    app = follower("invoicing", base)  # it has imported nothing yet

    done = parts.rebuilder(app).run()

    assert done.status == "done", done.message
    assert invoice_ids(app) == sorted(order["id"] for order in (placed[0], placed[2]))
    assert list(rejected(app)) == [2] and "HTTP 503" in rejected(app)[2]


def test_an_imported_entry_the_rebuild_could_not_have_for_a_moment_stays_imported(
        order_site, follower, monkeypatch):
    app, placed, failing = all_imported(order_site, follower)
    failing[first_version(placed[1])] = BUSY  # while the rebuild reads the feed
    rebuilder = parts.rebuilder(app)
    swap = rebuilder.copy.swap

    def answering_again():
        failing.clear()
        return swap()

    monkeypatch.setattr(rebuilder.copy, "swap", answering_again)
    done = rebuilder.run()

    assert done.status == "done", done.message
    assert_each_order_imported_once(app, placed)


def test_an_imported_entry_whose_document_cannot_be_had_fails_the_rebuild_and_the_data_stay(order_site, follower):
    app, placed, failing = all_imported(order_site, follower)
    failing[first_version(placed[1])] = BUSY

    failed = parts.rebuilder(app).run()

    assert failed.status == "failed"
    assert "Entry 2 is imported in the current data" in failed.message and "HTTP 503" in failed.message
    assert invoice_ids(app) == sorted(order["id"] for order in placed)
    assert rejected(app) == {} and parts.consumer(app).poll_state().position == 3


def test_an_imported_entry_whose_document_is_gone_is_rejected_by_the_rebuild(order_site, follower):
    app, placed, failing = all_imported(order_site, follower)
    failing[first_version(placed[1])] = GONE

    done = parts.rebuilder(app).run()

    assert done.status == "done", done.message
    assert invoice_ids(app) == sorted(order["id"] for order in (placed[0], placed[2]))
    assert list(rejected(app)) == [2] and "HTTP 404" in rejected(app)[2]
