"""Each service's Alembic history builds its schema from nothing, on SQLite and
PostgreSQL, matches its models, and is safe when replicas start together."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, String, Table, inspect, select

from common.db import Database, Money, UTCDateTime
from common.feed import POSITION_NS
from common.feed.recording import PollStatusRecorder
from common.schema import alembic_config, upgrade
from common.utc import utc_now
from account import models as account_models
from invoicing import models as invoicing_models
from order import models as order_models
from shipping import models as shipping_models
from tests.support.orders import order_request

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"order": order_models, "invoicing": invoicing_models, "shipping": shipping_models,
            "account": account_models}


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.mark.parametrize("service", SERVICES)
def test_upgrade_from_empty_builds_every_table_of_the_models(db, service):
    models = SERVICES[service]

    upgrade(db, models.MIGRATIONS)

    tables = set(inspect(db.engine).get_table_names())
    assert set(models.Base.metadata.tables) <= tables
    assert "alembic_version" in tables


@pytest.mark.parametrize("service", SERVICES)
def test_models_and_migrations_do_not_drift(db, service):
    models = SERVICES[service]
    upgrade(db, models.MIGRATIONS)

    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), models.Base.metadata)

    assert differences == []


def test_a_new_order_database_has_the_catalog(db):
    upgrade(db, order_models.MIGRATIONS)

    with db.session() as session:
        customers = session.scalars(select(order_models.Customer.id)).all()
        items = session.scalars(select(order_models.Item.id)).all()

    assert len(customers) >= 2 and min(customers) == 1
    assert len(items) >= 4 and min(items) == 1


def test_upgrading_a_current_schema_changes_nothing(db):
    upgrade(db, order_models.MIGRATIONS)
    upgrade(db, order_models.MIGRATIONS)

    with db.session() as session:
        assert len(session.scalars(select(order_models.Customer)).all()) == 2


def test_replicas_starting_together_all_come_up(postgres_url):
    """Four processes upgrade one empty database at once, as replicas starting
    together do; each comes up and the schema is built once."""
    script = ("import sys; from common.db import Database; from common.schema import upgrade; "
              "from order.models import MIGRATIONS; upgrade(Database(sys.argv[1]), MIGRATIONS)")
    replicas = [subprocess.Popen([sys.executable, "-c", script, postgres_url], cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                for _ in range(4)]
    outputs = [replica.communicate(timeout=60)[0] for replica in replicas]

    assert [replica.returncode for replica in replicas] == [0, 0, 0, 0], outputs
    db = Database(postgres_url)
    with db.session() as session:
        assert len(session.scalars(select(order_models.Customer)).all()) == 2
    db.dispose()


def test_orders_from_before_the_feed_log_join_the_feed_in_the_order_they_were_placed(
        database_url, make_app, settings_for, clock):
    old = Database(database_url)
    command.upgrade(alembic_config(old, order_models.MIGRATIONS), "0001")
    before = MetaData()
    orders = Table("purchase_order", before, Column("id", Integer, primary_key=True), Column("updated", UTCDateTime()),
                   Column("customer_id", Integer),
                   *(Column(f"{kind}_{part}", String) for kind in ("shipping", "billing")
                     for part in ("street", "zip", "city")))
    lines = Table("order_line", before, Column("id", Integer, primary_key=True), Column("order_id", Integer),
                  Column("item_id", Integer), Column("count", Integer), Column("price", Money()))
    with old.engine.begin() as connection:
        for customer in (2, 1, 2):
            order_id = connection.execute(orders.insert().values(
                updated=clock(), customer_id=customer,
                **{f"{kind}_{part}": "x" for kind in ("shipping", "billing") for part in ("street", "zip", "city")},
            )).inserted_primary_key[0]
            connection.execute(lines.insert().values(order_id=order_id, item_id=1, count=1, price="42.00"))
    old.dispose()

    client = make_app("order", settings_for("order", database_url=database_url)).test_client()
    placed = client.post("/", json=order_request()).get_json()
    parsed = feedparser.parse(client.get("/feed").get_data())
    prefix = next(prefix for prefix, uri in parsed.namespaces.items() if uri == POSITION_NS)

    assert [(entry[f"{prefix}_position"], entry.title) for entry in parsed.entries] == [
        ("4", f"Order {placed['id']} placed"), ("3", "Order 3 placed"), ("2", "Order 2 placed"),
        ("1", "Order 1 placed")]
    old_order = client.get("/1", headers={"Accept": "application/json"}).get_json()
    assert (old_order["status"], old_order["version"]) == ("accepted", 1)


def without_currency(document: bytes) -> dict:
    """A document as the service wrote it before it named its currency (then always EUR)."""
    written = json.loads(document)
    assert written.pop("currency") == "EUR"
    for line in written["lines"]:
        assert line["item"].pop("currency") == "EUR"
    return written


def test_entries_from_before_version_documents_get_the_documents_the_service_wrote_then(
        database_url, make_app, settings_for):
    client = make_app("order", settings_for("order", database_url=database_url)).test_client()
    placed = [client.post("/", json=order_request(customer_id=customer, lines=((1, 2), (3, 1)))).get_json()
              for customer in (1, 2)]
    client.post(f"/{placed[0]['id']}/cancel", headers={"Accept": "application/json"})
    urls = [f"/{placed[0]['id']}/versions/1", f"/{placed[0]['id']}/versions/2", f"/{placed[1]['id']}/versions/1"]
    written = [client.get(url).get_data() for url in urls]
    db = Database(database_url)
    config = alembic_config(db, order_models.MIGRATIONS)

    command.downgrade(config, "0002")
    assert "order_version" not in inspect(db.engine).get_table_names()
    command.upgrade(config, "head")
    db.dispose()

    assert [json.loads(client.get(url).get_data()) for url in urls] == [without_currency(w) for w in written]


def test_idempotency_keys_come_with_their_revision_and_go_with_its_downgrade(database_url, make_app, settings_for):
    client = make_app("order", settings_for("order", database_url=database_url)).test_client()
    key = {"Idempotency-Key": '"8e03978e-40d5-43e8-bc93-6894a57f9324"'}
    first = client.post("/", json=order_request(), headers=key)
    db = Database(database_url)
    config = alembic_config(db, order_models.MIGRATIONS)
    kept = select(order_models.IdempotencyKey.key)
    with db.session() as session:
        assert session.scalars(kept).all() == ["8e03978e-40d5-43e8-bc93-6894a57f9324"]

    command.downgrade(config, "0003")
    assert "idempotency_key" not in inspect(db.engine).get_table_names()
    command.upgrade(config, "head")
    with db.session() as session:
        assert session.scalars(kept).all() == []
    db.dispose()

    # The orders stay; the keys went with the table, so the key places an order again.
    assert client.get(first.headers["Location"], headers={"Accept": "application/json"}).get_json() == first.get_json()
    again = client.post("/", json=order_request(), headers=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json()["id"] != first.get_json()["id"]


def test_shipping_forgets_the_emails_it_kept(database_url):
    db = Database(database_url)
    config = alembic_config(db, shipping_models.MIGRATIONS)
    command.upgrade(config, "0003")
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO shipment (id, ordered_at, imported_at, status, version, recipient_firstname, "
            "recipient_name, recipient_email, street, zip, city) VALUES (7, '2026-11-22 10:00:00', "
            "'2026-11-22 10:00:01', 'accepted', 1, 'Eberhard', 'Wolff', 'eberhard.wolff@example.com', "
            "'Ohlauer Str. 43', '10999', 'Berlin')")

    command.upgrade(config, "head")

    assert "recipient_email" not in {column["name"] for column in inspect(db.engine).get_columns("shipment")}
    with db.session() as session:
        kept = session.get(shipping_models.Shipment, 7)
        assert (kept.recipient_name, kept.shipping_address.street) == ("Wolff", "Ohlauer Str. 43")
    db.dispose()


@pytest.mark.parametrize("service", ["invoicing", "shipping"])
def test_a_consumer_keeps_its_position_when_its_poll_status_moves_to_a_table_of_its_own(database_url, service):
    """A database from before the move goes on from the entry after its position:
    none is imported twice. The entries left stay as many, and a downgrade gives back
    the one row as it was."""
    models = SERVICES[service]
    db = Database(database_url)
    config = alembic_config(db, models.MIGRATIONS)
    command.upgrade(config, "0006")
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO poll_state (id, etag, last_modified, polled_at, outcome, message, imported, pending, "
            "position, pending_since, window_started, imports_in_window, imports_in_window_before) VALUES "
            "(1, '\"feed-60\"', 'Sun, 22 Nov 2026 10:15:00 GMT', '2026-11-22 10:15:40', 'error', "
            "'The feed did not answer.', 2, 20, 40, '2026-11-22 10:15:00', '2026-11-22 10:15:00', 3, 5)")

    command.upgrade(config, "head")
    moved = PollStatusRecorder(db, models.Tracking, models.PollStatus, utc_now).poll_state()
    command.downgrade(config, "0006")
    with db.engine.connect() as connection:
        back = connection.exec_driver_sql("SELECT position, pending, etag, outcome, imports_in_window_before "
                                          "FROM poll_state").all()
    db.dispose()

    assert (moved.position, moved.etag, moved.last_modified) == (40, '"feed-60"', "Sun, 22 Nov 2026 10:15:00 GMT")
    assert (moved.pending, moved.outcome, moved.message, moved.imported) == (20, "error", "The feed did not answer.", 2)
    assert (moved.imports_in_window, moved.imports_in_window_before) == (3, 5) and moved.pending_since is not None
    assert back == [(40, 20, '"feed-60"', "error", 5)]
