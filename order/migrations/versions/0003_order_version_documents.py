"""order version documents: each feed entry's order as it was at the entry's version

Entries written before this revision get their documents here. An order had two
versions at most (placed; cancelled), so each is known exactly: version 1 is the order
as placed, a later one the order as it is now. The shape is the document's as of this
revision, written out here because a migration must not change with later code.

Revision ID: 0003
Revises: 0002
"""
import json
from datetime import datetime, timezone
from decimal import Decimal

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


CHUNK = 5000  # orders read and written at a time


def upgrade() -> None:
    op.create_table('order_version',
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['purchase_order.id'], ),
    sa.PrimaryKeyConstraint('order_id', 'version')
    )
    bind = op.get_bind()
    table = sa.table('order_version', sa.column('order_id'), sa.column('version'), sa.column('document'))
    versions = bind.execute(sa.text(
        "SELECT DISTINCT order_id, order_version FROM feed_entry ORDER BY order_id, order_version")).all()
    for start in range(0, len(versions), CHUNK):
        chunk = versions[start:start + CHUNK]
        orders, lines = _orders(bind, chunk[0].order_id, chunk[-1].order_id)
        op.bulk_insert(table, [{"order_id": order_id, "version": version,
                                "document": _document(orders[order_id], lines.get(order_id, []), version, bind)}
                               for order_id, version in chunk])


def downgrade() -> None:
    op.drop_table('order_version')


def _orders(bind, first: int, last: int):
    """The orders with ids from `first` to `last` with their customers, and their lines."""
    span = {"first": first, "last": last}
    orders = {row["id"]: row for row in bind.execute(sa.text(
        "SELECT o.*, c.firstname, c.name, c.email FROM purchase_order o JOIN customer c ON c.id = o.customer_id "
        "WHERE o.id BETWEEN :first AND :last"), span).mappings()}
    lines: dict[int, list] = {}
    for line in bind.execute(sa.text(
            "SELECT l.order_id, l.count, l.price, i.id AS item_id, i.name FROM order_line l "
            "JOIN item i ON i.id = l.item_id WHERE l.order_id BETWEEN :first AND :last ORDER BY l.id"),
            span).mappings():
        lines.setdefault(line["order_id"], []).append(line)
    return orders, lines


def _document(order, lines, version: int, bind) -> str:
    sqlite = bind.dialect.name == "sqlite"
    current = version == order["version"]
    prices = [_money(line["price"], sqlite) for line in lines]
    return json.dumps({
        "id": order["id"],
        "placedAt": _iso(order["placed_at"]),
        "updated": _iso(order["updated"] if current else order["placed_at"]),
        "status": order["status"] if current else "accepted",
        "version": version,
        "customer": {"id": order["customer_id"], "firstname": order["firstname"], "name": order["name"],
                     "email": order["email"]},
        "shippingAddress": {"street": order["shipping_street"], "zip": order["shipping_zip"],
                            "city": order["shipping_city"]},
        "billingAddress": {"street": order["billing_street"], "zip": order["billing_zip"],
                           "city": order["billing_city"]},
        "lines": [{"count": line["count"], "item": {"id": line["item_id"], "name": line["name"], "price": price}}
                  for line, price in zip(lines, prices, strict=True)],
        "totalPrice": _total(lines, prices),
    }, ensure_ascii=False, separators=(",", ":"))


def _money(value, sqlite: bool) -> str:
    # whole cents on SQLite (common.db.Money)
    amount = Decimal(value) / 100 if sqlite else Decimal(value)
    return str(amount.quantize(Decimal("0.01")))


def _total(lines, prices) -> str:
    return str(sum((Decimal(price) * line["count"] for line, price in zip(lines, prices, strict=True)),
                   Decimal("0.00")))


def _iso(moment) -> str:
    if isinstance(moment, str):  # SQLite hands back the stored text
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
