"""Invoicing (gunicorn on PostgreSQL) is killed in the middle of a rebuild from the
feed: restarted, it serves the data it had, and a new rebuild completes with the
same invoices."""
from __future__ import annotations

import threading
import uuid

import pytest
import requests
from sqlalchemy import create_engine, text
from werkzeug.wrappers import Request, Response

from msatom.stack import free_port
from tests.conftest import live_server
from tests.e2e.running import PATIENCE, every_item, gunicorn, http, kill_group, trouble_in, wait_for_health
from tests.support.waiting import until
from tests.e2e.test_consumer_crash import cancel, feed_length, place, wait_until_caught_up, wait_until_disconnected

pytestmark = pytest.mark.e2e

ORDERS = 60
PAGE_SIZE = 20  # three archive pages; the rebuild is killed waiting for the second
HELD = "/feed/archive/2"


class Front:
    """In front of the order service: passes every request on, but holds those for
    the held page while `holding`; counts the ones it holds."""

    def __init__(self, order_url: str):
        self.order_url, self.session = order_url, http()
        self.holding, self.released = False, threading.Event()
        self.held = 0

    def __call__(self, environ, start_response):
        request = Request(environ)
        if request.path == HELD and self.holding:
            self.held += 1
            self.released.wait(PATIENCE)
        upstream = self.session.get(self.order_url + request.full_path.rstrip("?"), allow_redirects=False,
                                    headers={name: value for name, value in request.headers.items()
                                             if name.lower() not in ("content-length", "connection")},
                                    timeout=PATIENCE)
        headers = [(name, value) for name, value in upstream.headers.items()
                   if name.lower() not in ("content-length", "connection", "transfer-encoding", "content-encoding",
                                           "keep-alive")]
        return Response(upstream.content, upstream.status_code, headers)(environ, start_response)

    def release(self) -> None:
        self.holding = False
        self.released.set()


def test_invoicing_killed_during_a_rebuild_serves_its_data_and_rebuilds_after_a_restart(postgres, tmp_path):
    suffix = uuid.uuid4().hex[:8]
    order_db = postgres.create_database(f"order_{suffix}")
    invoicing_db = postgres.create_database(f"invoicing_{suffix}")
    order_url, invoicing_url = (f"http://127.0.0.1:{free_port()}" for _ in range(2))
    order = gunicorn("order", int(order_url.rsplit(":", 1)[1]), tmp_path, 1,
                           DATABASE_URL=order_db, FEED_PAGE_SIZE=str(PAGE_SIZE))
    front = Front(order_url)
    database = create_engine(invoicing_db)
    session = http()
    invoicing = None
    try:
        wait_for_health(order, order_url, "order")
        placed = [place(session, order_url, n) for n in range(ORDERS)]
        cancel(session, order_url, placed[5])
        entries = feed_length(session, order_url)
        with live_server(front) as feed_origin:

            def start_invoicing():
                process = gunicorn("invoicing", int(invoicing_url.rsplit(":", 1)[1]), tmp_path, 1,
                                         DATABASE_URL=invoicing_db, ORDER_FEED_URL=f"{feed_origin}/feed",
                                         POLL_INTERVAL_SECONDS="0.05")
                wait_for_health(process, invoicing_url, "invoicing")
                return process

            invoicing = start_invoicing()
            wait_until_caught_up(database, entries, invoicing)
            before = every_item(session, f"{invoicing_url}/")
            assert len(before) == ORDERS

            front.holding = True  # from now on; the consumer's own catching up read every page
            started = rebuild(session, invoicing_url)
            assert started.status_code == 202, started.text
            until(lambda: front.held and mark(database)[1] == PAGE_SIZE,
                  "the rebuild taking the first page and waiting for the second", process=invoicing)
            assert copied(database) == PAGE_SIZE  # the copy has the first page
            kill_group(invoicing.process)
            wait_until_disconnected(database)
            front.release()
            assert mark(database)[0] == "running"  # left by the dead process

            invoicing = start_invoicing()
            assert every_item(session, f"{invoicing_url}/") == before  # the current data, untouched
            again = rebuild(session, invoicing_url)
            assert again.status_code == 202, again.text  # the dead one's mark does not block
            until(lambda: mark(database)[0] != "running", "the new rebuild ending", process=invoicing)

            assert mark(database) == ("done", entries)
            after = every_item(session, f"{invoicing_url}/")
            assert [without_time(invoice) for invoice in after] == [without_time(invoice) for invoice in before]
            assert min(invoice["importedAt"] for invoice in after) > max(invoice["importedAt"] for invoice in before)
            assert not trouble_in(invoicing.output()), "\n".join(trouble_in(invoicing.output())[:30])
    finally:
        front.release()
        if invoicing is not None:
            invoicing.stop()
        order.stop()
        database.dispose()


def rebuild(session, invoicing_url: str) -> requests.Response:
    return session.post(f"{invoicing_url}/rebuild", headers={"Accept": "application/json"}, timeout=PATIENCE)


def mark(engine) -> tuple[str, int] | None:
    with engine.connect() as connection:
        row = connection.execute(text("SELECT status, position FROM rebuild WHERE id = 1")).first()
        return tuple(row) if row else (None, 0)


def copied(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM rebuilding.invoice")).scalar()


def without_time(invoice: dict) -> dict:
    return {name: value for name, value in invoice.items() if name != "importedAt"}


