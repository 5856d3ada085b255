"""Shared by the benchmarks: an order database on PostgreSQL filled with many orders
in a few seconds, as an existing deployment holds them.

The rows are written with SQL at Alembic revision 0002 (orders, lines, feed entries),
then the schema is upgraded, so that the migration writes each entry's document as it
does for a deployment that upgrades.
"""
from __future__ import annotations

import sys
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from alembic import command  # noqa: E402
from common.db import Database  # noqa: E402
from common.schema import alembic_config, upgrade  # noqa: E402
from msatom.stack import PostgresCluster  # noqa: E402
from order.models import MIGRATIONS  # noqa: E402

PAGE_SIZE = 20  # FEED_PAGE_SIZE of the order services the benchmarks start
FILL = """
INSERT INTO purchase_order (id, placed_at, updated, customer_id, shipping_street, shipping_zip, shipping_city,
                            billing_street, billing_zip, billing_city, status, version)
SELECT g, TIMESTAMPTZ '2026-01-01 00:00:00+00' + g * INTERVAL '1 second', TIMESTAMPTZ '2026-01-01 00:00:00+00' + g * INTERVAL '1 second', 1 + g %% 2,
       'Ohlauer Str. 43', '10999', 'Berlin', 'Krischerstr. 100', '40789', 'Monheim am Rhein', 'accepted', 1
FROM generate_series(1, %(n)s) AS g;
INSERT INTO order_line (order_id, item_id, count, price)
SELECT g, item.id, 1 + g %% 3, item.price FROM generate_series(1, %(n)s) AS g JOIN item ON item.id = 1 + g %% 4;
INSERT INTO feed_entry (position, order_id, order_version, event, recorded_at)
SELECT id, id, 1, 'placed', updated FROM purchase_order;
SELECT setval('purchase_order_id_seq', %(n)s), setval('order_line_id_seq', %(n)s);
ANALYZE;
"""


def fill(cluster: PostgresCluster, size: int, name: str | None = None, extra: int = PAGE_SIZE // 2) -> str:
    """A new order database `name` (orders_<size>) on `cluster` holding `size` orders and
    `extra` more (by default half a page, so that /feed, the page still filling, holds
    entries), one feed entry each, at the newest revision; its SQLAlchemy URL."""
    name = name or f"orders_{size}"
    url = cluster.create_database(name)
    db = Database(url)
    command.upgrade(alembic_config(db, MIGRATIONS), "0002")  # the tables FILL writes
    connection = psycopg2.connect(host="127.0.0.1", port=cluster.port, user=name, dbname=name)
    with connection, connection.cursor() as cursor:
        cursor.execute(FILL, {"n": size + extra})
    connection.close()
    upgrade(db, MIGRATIONS)  # the rest, as an existing deployment gets it: each entry's document
    db.dispose()
    return url
