"""Writing a new order and each version's document with plain inserts, built once.

The ORM's unit of work tracks every object it writes and sorts them before it sends
anything: for an order and its lines it took more CPU than the statements did. Here
the order is made in memory (an `Order` of no session), then its row, its lines in
one statement, and each version's document go straight to the database.
"""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy import inspect, insert
from sqlalchemy.orm import Session

from order.documents import version_document
from order.models import Base, Order, OrderLine, OrderVersion

_ORDER = insert(Order.__table__).returning(Order.__table__.c.id)
_LINE = insert(OrderLine.__table__)
_VERSION = insert(OrderVersion.__table__)


def add_order(session: Session, order: Order) -> None:
    """Insert `order` (made in memory, not added to the session) and its lines in the
    session's transaction; give it its id."""
    order.id = session.execute(_ORDER, _values(order)).scalar_one()
    # The lines' ids follow their order in the list, which is how they are read back.
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
