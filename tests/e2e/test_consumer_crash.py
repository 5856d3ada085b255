"""Invoicing is killed (SIGKILL, the whole gunicorn process group) again and
again in the middle of importing a long feed, and restarted on the same database
each time: in the end each order is invoiced exactly once, in feed order, and the
cancellations made along the way all arrive."""
from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import create_engine, text

from common.feed.parsing import parse_page
from msatom.stack import free_port
from tests.support.orders import order_request
from tests.e2e.running import PATIENCE, every_item, gunicorn, http, kill_group, trouble_in, wait_for_health

pytestmark = pytest.mark.e2e

ORDERS = 500  # enough that five restarts, each importing a little, leave some to do
PAGE_SIZE = 20  # 500 orders fill 25 archive pages
CRASHES = 5
# Where each kill lands once the invoice count grew: at once, in the middle of a
# transaction that writes to invoicing's database, or a moment later (fetching the
# next documents, or applying them).
KILLS = ("at once", "in a transaction", 0.05, "in a transaction", 0.2)


def test_invoicing_killed_five_times_while_importing_invoices_every_order_once_in_order(postgres, tmp_path):
    suffix = uuid.uuid4().hex[:8]
    order_db = postgres.create_database(f"order_{suffix}")
    invoicing_db = postgres.create_database(f"invoicing_{suffix}")
    order_url, invoicing_url = (f"http://127.0.0.1:{free_port()}" for _ in range(2))
    order = gunicorn("order", int(order_url.rsplit(":", 1)[1]), tmp_path, 1,
                           DATABASE_URL=order_db, FEED_PAGE_SIZE=str(PAGE_SIZE))
    invoicing = None
    invoices_in_db = create_engine(invoicing_db)  # to watch the import, and for its position
    session = http()
    starts = []  # (invoices when started, invoices after the kill)
    try:
        wait_for_health(order, order_url, "order")
        placed = [place(session, order_url, n) for n in range(ORDERS)]
        cancelled = []

        def start_invoicing():
            process = gunicorn("invoicing", int(invoicing_url.rsplit(":", 1)[1]), tmp_path, 1,
                                     DATABASE_URL=invoicing_db, ORDER_FEED_URL=f"{order_url}/feed",
                                     POLL_INTERVAL_SECONDS="0.05")
            wait_for_health(process, invoicing_url, "invoicing")
            return process

        for crash in range(CRASHES):
            # An order invoiced already and one not yet are cancelled while invoicing is down.
            cancelled += [cancel(session, order_url, placed[crash]), cancel(session, order_url, placed[-1 - crash])]
            before = count(invoices_in_db)
            invoicing = start_invoicing()
            wait_until_grown(invoices_in_db, before, invoicing)
            kill = KILLS[crash]
            if kill == "in a transaction":
                wait_until_writing(invoices_in_db, invoicing)
            elif isinstance(kill, float):
                time.sleep(kill)
            kill_group(invoicing.process)
            wait_until_disconnected(invoices_in_db)  # what it was writing is rolled back
            after = count(invoices_in_db)
            starts.append((before, after))
            assert after < ORDERS, f"invoicing imported everything before kill {crash + 1} landed: {starts}"

        invoicing = start_invoicing()
        entries = feed_length(session, order_url)
        assert entries == ORDERS + 2 * CRASHES
        wait_until_caught_up(invoices_in_db, entries, invoicing)

        invoices = every_item(session, f"{invoicing_url}/")
        ids = [invoice["id"] for invoice in invoices]
        assert len(ids) == len(set(ids)), f"duplicate invoices: {len(ids) - len(set(ids))}"
        assert set(ids) == set(placed), f"no invoice for orders {sorted(set(placed) - set(ids))[:20]}"
        # The list is newest first. Taken in feed order, the invoices were made in
        # the order the orders were placed.
        oldest_first = sorted(reversed(invoices), key=lambda invoice: invoice["importedAt"])
        assert [invoice["id"] for invoice in oldest_first] == placed
        assert sorted(i["id"] for i in invoices if i["status"] == "cancelled") == sorted(cancelled)
        orders = {o["id"]: o for o in every_item(session, f"{order_url}/")}
        for invoice in invoices:
            assert invoice["totalAmount"] == orders[invoice["id"]]["totalPrice"]
            assert invoice["orderVersion"] == orders[invoice["id"]]["version"]
        assert position(invoices_in_db) == entries
        assert not trouble_in(invoicing.output()), "\n".join(trouble_in(invoicing.output())[:30])
        assert not trouble_in(order.output()), "\n".join(trouble_in(order.output())[:30])
        print(f"invoices before each start and after each kill: {starts}")
    finally:
        if invoicing is not None:
            invoicing.stop()
        order.stop()
        invoices_in_db.dispose()


def place(session, order_url: str, n: int) -> int:
    response = session.post(f"{order_url}/", json=order_request(customer_id=1 + n % 2, lines=((1 + n % 4, 1),)),
                            timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def cancel(session, order_url: str, order_id: int) -> int:
    response = session.post(f"{order_url}/{order_id}/cancel", headers={"Accept": "application/json"}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    return order_id


def feed_length(session, order_url: str) -> int:
    """The newest position of the order feed."""
    response = session.get(f"{order_url}/feed", timeout=30)
    page = parse_page(response.content, f"{order_url}/feed")
    assert page.entries, "the subscription document is empty"
    return page.entries[-1].position


def count(engine) -> int:
    with engine.connect() as connection:
        if not connection.execute(text("SELECT to_regclass('invoice')")).scalar():
            return 0  # not migrated yet
        return connection.execute(text("SELECT count(*) FROM invoice")).scalar()


def position(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT position FROM tracking WHERE id = 1")).scalar()


def wait_until_grown(engine, before: int, process, timeout: float = PATIENCE) -> None:
    deadline = time.monotonic() + timeout
    while count(engine) <= before:
        assert process.running(), f"invoicing exited; its log:\n{process.output()[-3000:]}"
        assert time.monotonic() < deadline, (f"invoicing imported nothing within {timeout} s of its start; "
                                             f"its log:\n{last_lines(process.output())}")
        time.sleep(0.002)


# Sessions of invoicing's processes: not ours, and not PostgreSQL's own workers (an
# autovacuum worker's ANALYZE, say, also has a transaction id and is on this database).
OTHER_CLIENTS = ("datname = current_database() AND pid <> pg_backend_pid() "
                 "AND backend_type = 'client backend'")


def wait_until_writing(engine, process, timeout: float = PATIENCE) -> None:
    """Until another session of invoicing's database is in a transaction that has
    written (or locked a row for writing): one PostgreSQL must roll back."""
    deadline = time.monotonic() + timeout
    query = text(f"SELECT count(*) FROM pg_stat_activity WHERE {OTHER_CLIENTS} AND backend_xid IS NOT NULL")
    while True:
        with engine.connect() as connection:
            if connection.execute(query).scalar():
                return
        assert time.monotonic() < deadline, (f"invoicing wrote nothing within {timeout} s; "
                                             f"its log:\n{last_lines(process.output())}")


def wait_until_disconnected(engine, timeout: float = PATIENCE) -> None:
    """Until no other session is connected to invoicing's database."""
    deadline = time.monotonic() + timeout
    query = text(f"SELECT count(*) FROM pg_stat_activity WHERE {OTHER_CLIENTS}")
    while True:
        with engine.connect() as connection:
            if not connection.execute(query).scalar():
                return
        assert time.monotonic() < deadline, f"the killed invoicing's sessions are still there after {timeout} s"
        time.sleep(0.01)


def wait_until_caught_up(engine, entries: int, process, timeout: float = 2 * PATIENCE) -> None:
    """Until invoicing's position is the feed's last (it has nothing more to do)."""
    deadline = time.monotonic() + timeout
    while position(engine) != entries:
        assert time.monotonic() < deadline, (
            f"after {timeout} s invoicing is at position {position(engine)} of {entries}; "
            f"its log:\n{last_lines(process.output())}")
        time.sleep(0.1)


def last_lines(log: str, count: int = 30) -> str:
    """The end of a log without the access log and the scheduler's skipped runs."""
    lines = [line for line in log.splitlines() if '" 200 ' not in line and "skipped: maximum" not in line]
    return "\n".join(lines[-count:])
