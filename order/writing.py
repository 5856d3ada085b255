"""Writing a new order and each version's document with plain inserts, built once.

The ORM's unit of work tracks every object it writes and sorts them before it sends
anything: for an order and its lines it took more CPU than the statements did. Here
the order is made in memory (an `Order` of no session), then its row and its lines
(in one statement on PostgreSQL, in two elsewhere) and each version's document go
straight to the database.
"""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Integer, TextClause, bindparam, inspect, insert, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from order.documents import version_document
from order.models import Base, Order, OrderLine, OrderVersion

_ORDER = insert(Order.__table__).returning(Order.__table__.c.id)
_LINE = insert(OrderLine.__table__)
_VERSION = insert(OrderVersion.__table__)


def add_order(session: Session, order: Order) -> None:
    """Insert `order` (made in memory, not added to the session) and its lines in the
    session's transaction; give it its id. The lines' ids follow their order in the
    list, which is how they are read back."""
    if session.get_bind().dialect.name == "postgresql":
        lines = {"item_ids": [line.item_id for line in order.lines], "counts": [line.count for line in order.lines],
                 "prices": [line.price for line in order.lines]}
        order.id = session.execute(_order_with_lines(), {**_values(order), **lines}).scalar_one()
        return
    order.id = session.execute(_ORDER, _values(order)).scalar_one()
    session.execute(_LINE, [{**_values(line), "order_id": order.id} for line in order.lines])


def add_version(session: Session, order: Order) -> None:
    """Insert the document of `order` as it is now, its current version's."""
    session.execute(_VERSION, {"order_id": order.id, "version": order.version, "document": version_document(order)})


def _values(instance: Order | OrderLine) -> dict:
    """The values of the columns of `instance`, but for its id, which the database numbers."""
    return {name: getattr(instance, name) for name in _columns(type(instance))}


@lru_cache
def _columns(model: type[Base]) -> tuple[str, ...]:
    return tuple(attribute.key for attribute in inspect(model).column_attrs if attribute.key != "id")


@lru_cache
def _order_with_lines() -> TextClause:
    """PostgreSQL: the order's row and its lines in one statement, the lines given as
    arrays and inserted in the order of the list."""
    orders, lines = Order.__table__, OrderLine.__table__
    columns = _columns(Order)
    return text(
        f"WITH placed AS (INSERT INTO {orders.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join(f':{name}' for name in columns)}) RETURNING id), "
        f"lines AS (INSERT INTO {lines.name} (order_id, item_id, count, price) "
        "SELECT placed.id, line.item_id, line.count, line.price FROM placed, "
        "unnest(:item_ids, :counts, :prices) WITH ORDINALITY AS line (item_id, count, price, number) "
        "ORDER BY line.number) "
        "SELECT id FROM placed"
    ).bindparams(*(bindparam(name, type_=orders.c[name].type) for name in columns),
                 bindparam("item_ids", type_=ARRAY(Integer)), bindparam("counts", type_=ARRAY(Integer)),
                 bindparam("prices", type_=ARRAY(lines.c.price.type)))
