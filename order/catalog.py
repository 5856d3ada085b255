"""The catalog, customers and items, as this process read it: once per database, on
first use, then kept for as long as the process runs.

Keeping it is safe because the catalog changes only with a release: its rows come
from the migrations, no request writes them, and a release starts new processes, which
read it anew. Nothing stored depends on this copy outliving a change: each line keeps
the price it was offered, a version's document is frozen when it is written, and the
current order is read with its customer joined from the table. So placing an order
reads nothing before it writes.

The kept customers and items are made from the rows, never loaded into a session (whose
rollback would expire them while other threads read them); they are never to be added
to one either.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from order.models import Customer, Item


@dataclass(frozen=True)
class Catalog:
    customers: dict[int, Customer]  # by id, in the order of their ids
    items: dict[int, Item]


# Per engine, so that every database a process opens (tests open many) has its own.
_kept: weakref.WeakKeyDictionary[Engine | Connection, Catalog] = weakref.WeakKeyDictionary()


def catalog(session: Session) -> Catalog:
    """The catalog of the session's database."""
    bind = session.get_bind()
    kept = _kept.get(bind)
    if kept is None:  # two threads may both read it: they read the same rows
        kept = _kept.setdefault(bind, _read(session))
    return kept


def _read(session: Session) -> Catalog:
    return Catalog({customer.id: customer for customer in _made(session, Customer)},
                   {item.id: item for item in _made(session, Item)})


Model = TypeVar("Model", Customer, Item)


def _made(session: Session, model: type[Model]) -> list[Model]:
    """Every row of `model`'s table, by id, as instances of no session."""
    table = model.__table__
    return [model(**row._mapping) for row in session.execute(select(table).order_by(table.c.id))]
