"""Rebuilding invoicing or shipping from the whole feed: the result equals what the
incremental import made, orders placed meanwhile are in it, the current data are
served until the swap, one rebuild at a time, and a failed one changes nothing."""
from __future__ import annotations

import re
import socket
import threading
from contextlib import contextmanager
from typing import Any, Callable
from datetime import timedelta

import lxml.html
import pytest
from sqlalchemy import select

import invoicing.models
import shipping.models
from common.feed.progress import STALE_SECONDS, RebuildMark, new_owner
from common.utc import utc_now
from common import parts
from msatom import cli
from tests.conftest import Clock
from tests.e2e.running import PATIENCE
from tests.integration.support import BROWSER_ACCEPT, cancel_order, place_order

JSON = {"Accept": "application/json"}
MODELS = {"invoicing": invoicing.models, "shipping": shipping.models}
# Columns that say when a row was written, not what it holds: a rebuild writes anew.
WHEN_WRITTEN = {"imported_at", "rejected_at"}


def rows(app, service: str) -> dict[str, list[tuple]]:
    """Every row of the service's data tables, by table, in a stable order; the
    numbers the database gives lines stand for their place within their parent."""
    models = MODELS[service]
    result = {}
    with parts.database(app).session() as session:
        for table in models.Base.metadata.sorted_tables:
            if table.name in ("rebuild", "tracking", "poll_status"):
                continue
            numbered = table.autoincrement_column
            columns = [column for column in table.columns if column is not numbered and column.name not in WHEN_WRITTEN]
            query = select(*columns).order_by(*table.primary_key.columns)
            result[table.name] = [tuple(row) for row in session.execute(query)]
    return result


def service_table(service: str) -> str:
    return {"invoicing": "invoice", "shipping": "shipment"}[service]


def written_at(app, service: str) -> list:
    model: Any = {"invoicing": invoicing.models.Invoice, "shipping": shipping.models.Shipment}[service]
    with parts.database(app).session() as session:
        return list(session.scalars(select(model.imported_at).order_by(model.id)))


def position(app) -> int:
    return parts.consumer(app).poll_state().position


@contextmanager
def after_each_batch(rebuilder, hook: Callable[[int], None]):
    """`hook(position)` after each batch a rebuild stores, once its observer (the
    metrics) is told of it: the rebuild meanwhile waits, or fails if the hook raises."""
    observe = rebuilder.observe

    def observed(progress):
        observe(progress)
        if progress.running:
            hook(progress.position)

    rebuilder.observe = observed
    try:
        yield
    finally:
        rebuilder.observe = observe


@pytest.mark.parametrize("service", ["invoicing", "shipping"])
def test_a_rebuild_gives_the_rows_the_incremental_import_made(order_site, follower, service):
    base, failing = order_site
    placed = [place_order(base, customer_id=1 + n % 2, lines=((1 + n % 4, 1 + n),)) for n in range(5)]
    cancel_order(base, placed[1]["id"])
    cancel_order(base, placed[3]["id"])
    failing[f"/{placed[2]['id']}/versions/1"] = "404 Not Found"  # its first entry is rejected
    app = follower(service, base)
    consumer = parts.consumer(app)
    assert consumer.poll().rejected == 1
    imported, imported_at = rows(app, service), written_at(app, service)
    assert len(imported["rejected_entry"]) == 1 and len(imported[service_table(service)]) == 4
    # The data are lost or wrong: a row gone, a cancellation undone by hand.
    model: Any = {"invoicing": invoicing.models.Invoice, "shipping": shipping.models.Shipment}[service]
    with parts.database(app).session() as session:
        session.delete(session.get(model, placed[0]["id"]))
        session.get(model, placed[1]["id"]).status = "accepted"
    assert rows(app, service) != imported

    done = parts.rebuilder(app).run()

    assert done.status == "done", done.message
    assert rows(app, service) == imported
    assert min(written_at(app, service)) > max(imported_at)  # made anew
    assert position(app) == done.position == 7
    assert consumer.poll().imported == 0  # the consumer goes on from the rebuild's position


def test_orders_placed_during_a_rebuild_are_in_its_result_and_the_current_data_are_served_meanwhile(
        order_site, follower):
    base, _ = order_site
    first = [place_order(base) for _ in range(3)]
    app = follower("invoicing", base)
    parts.consumer(app).poll()
    rebuilder, seen_during = parts.rebuilder(app), list[Any]()

    def place_one_when_the_first_page_is_read(_position):
        if not seen_during:
            seen_during.append(ids(app))
            seen_during.append(place_order(base)["id"])

    with after_each_batch(rebuilder, place_one_when_the_first_page_is_read):
        done = rebuilder.run()

    served, during = seen_during
    assert done.status == "done", done.message
    assert served == sorted(order["id"] for order in first)
    assert ids(app) == sorted([*served, during])
    assert position(app) == done.position == 4


def test_entries_the_consumer_imports_during_a_rebuild_are_never_undone_by_the_swap(order_site, follower, monkeypatch):
    base, _ = order_site
    [place_order(base) for _ in range(2)]
    app = follower("invoicing", base)
    consumer, rebuilder = parts.consumer(app), parts.rebuilder(app)
    consumer.poll()
    swap, placed = rebuilder.copy.swap, list[Any]()

    def consumer_first():  # an order, imported by the consumer, just before the swap
        if not placed:
            placed.append(place_order(base)["id"])
            assert consumer.poll().imported == 1
        return swap()

    monkeypatch.setattr(rebuilder.copy, "swap", consumer_first)
    done = rebuilder.run()

    assert done.status == "done", done.message
    assert placed[0] in ids(app)
    assert position(app) == done.position == 3


def ids(app) -> list[int]:
    return sorted(invoice["id"] for invoice in app.test_client().get("/", headers=JSON).get_json())


def test_post_rebuild_answers_202_with_its_progress_and_409_while_it_runs(order_site, follower):
    base, _ = order_site
    place_order(base)
    app = follower("invoicing", base)
    rebuilder, client = parts.rebuilder(app), app.test_client()
    reached, release = threading.Event(), threading.Event()

    def hold(_position):
        reached.set()
        assert release.wait(PATIENCE)

    with after_each_batch(rebuilder, hold):
        started = client.post("/rebuild", headers=JSON)
        try:
            assert started.status_code == 202
            assert started.get_json()["status"] == "running"
            assert reached.wait(PATIENCE)
            again = client.post("/rebuild", headers=JSON)
            other = follower("invoicing", base).test_client().post("/rebuild", headers=JSON)  # another process
            metrics = client.get("/metrics").get_data(as_text=True)
        finally:
            release.set()
        assert rebuilder.wait(PATIENCE)

    assert again.status_code == 409 and "running" in again.get_json()["error"]
    assert other.status_code == 409
    assert re.search(r"^msatom_rebuild_running 1\.0$", metrics, re.M)
    assert re.search(r"^msatom_rebuild_position 1\.0$", metrics, re.M)
    assert re.search(r"^msatom_rebuild_entries_left 0\.0$", metrics, re.M)
    assert rebuilder.progress().status == "done"
    assert re.search(r"^msatom_rebuild_running 0\.0$", client.get("/metrics").get_data(as_text=True), re.M)


def test_the_start_page_asks_for_confirmation_and_shows_the_progress(order_site, follower):
    base, _ = order_site
    place_order(base)
    app = follower("shipping", base)
    browser = app.test_client()
    browser.environ_base["HTTP_ACCEPT"] = BROWSER_ACCEPT
    [form] = lxml.html.fromstring(browser.get("/").get_data(as_text=True)).xpath("//form[.//button='Rebuild']")
    values = dict(form.form_values())  # a checkbox not ticked is not sent

    unconfirmed = browser.post(form.get("action"), data=values)
    confirmed = browser.post(form.get("action"), data={**values, "confirm": "yes"})
    assert parts.rebuilder(app).wait(PATIENCE)
    page = lxml.html.fromstring(browser.get("/").get_data(as_text=True))
    panel = " ".join(" ".join(page.xpath("//section[@id='rebuild']")[0].itertext()).split())

    assert unconfirmed.status_code == 400 and "Tick the box" in unconfirmed.get_data(as_text=True)
    assert confirmed.status_code == 303
    assert "Last rebuild done" in panel and "Position reached 1" in panel and "Entries left 0" in panel


def test_a_failed_rebuild_leaves_the_current_data_and_the_next_one_completes(order_site, follower):
    base, _ = order_site
    [place_order(base) for _ in range(2)]
    app = follower("invoicing", base)
    parts.consumer(app).poll()
    imported = rows(app, "invoicing")
    rebuilder = parts.rebuilder(app)

    def fail(_position):
        raise RuntimeError("the process died")

    with after_each_batch(rebuilder, fail):
        failed = rebuilder.run()
    assert failed.status == "failed" and "died" in failed.message
    assert rows(app, "invoicing") == imported and written_at(app, "invoicing")

    done = rebuilder.run()

    assert done.status == "done"
    assert rows(app, "invoicing") == imported


@pytest.mark.parametrize("owner, silent_seconds", [
    ("elsewhere:1:x", STALE_SECONDS + 1),  # another host: it stopped reporting
    (f"{socket.gethostname()}:999999999:x", 0),  # this host: its process is gone
])
def test_a_running_mark_left_by_a_dead_process_does_not_block(order_site, follower, owner, silent_seconds):
    base, _ = order_site
    place_order(base)
    app = follower("invoicing", base)
    then = Clock(utc_now() - timedelta(seconds=silent_seconds))
    assert RebuildMark(parts.database(app), invoicing.models.Rebuild, then).claim(owner)

    shown = parts.rebuilder(app).progress()
    done = parts.rebuilder(app).run()

    assert shown.status == "failed" and "stopped" in shown.message
    assert done is not None and done.status == "done"


def test_a_running_mark_of_a_live_process_blocks_on_sqlite(order_site, consumer_app):
    base, _ = order_site
    app = consumer_app("invoicing", f"{base}/feed")
    assert RebuildMark(parts.database(app), invoicing.models.Rebuild, utc_now).claim(new_owner())

    assert parts.rebuilder(app).run() is None
    assert app.test_client().post("/rebuild", headers=JSON).status_code == 409


def test_msatom_rebuild_prints_its_progress_and_exits_0(order_site, settings_for, monkeypatch, capsys, consumer_app):
    base, _ = order_site
    [place_order(base) for _ in range(3)]
    database_url = settings_for("shipping").database_url
    app = consumer_app("shipping", f"{base}/feed")  # the service, serving the same database
    parts.consumer(app).poll()
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ORDER_FEED_URL", f"{base}/feed")

    status = cli.main(["rebuild", "shipping"])

    out = capsys.readouterr().out
    assert status == 0, out
    assert re.search(r"^done: position 3, 0 entries left$", out, re.M), out
    assert parts.rebuilder(app).progress().status == "done"
    assert len(app.test_client().get("/", headers=JSON).get_json()) == 3
