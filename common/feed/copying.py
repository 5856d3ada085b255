"""The copy a rebuild writes into while the service goes on serving its current data:
the service's own tables once more, empty, in a schema of their own (PostgreSQL) or
in a database file attached next to the service's (SQLite), and the swap that puts
the copy's rows in place of the current ones in one transaction."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Column, MetaData, String, Table, delete, event, insert, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from common.db import Database, make_engine

# The schema (PostgreSQL) or attached database (SQLite) that holds the copy.
SCHEMA = "rebuilding"


class Copy:
    """Empty copies of `tables` (in the order of their dependencies) for a rebuild to
    fill; `swapped` are the ones whose rows take the place of the current rows."""

    def __init__(self, db: Database, tables: list[Table], swapped: list[Table]):
        self.engine = make_engine(db.url)
        copy_file = _copy_file(db.url)
        self.in_memory = self.engine.dialect.name == "sqlite" and copy_file is None
        if self.engine.dialect.name == "sqlite" and copy_file is not None:
            event.listen(self.engine, "connect", _attacher(copy_file))
        self.metadata = MetaData()
        self.tables = {table.name: table.to_metadata(self.metadata, schema=SCHEMA) for table in tables}
        # Which rebuild made the copy: a rebuild that lost its lock finds another's
        # copy here and leaves it alone.
        self.made_by = Table("copy_made_by", self.metadata, Column("owner", String(64), primary_key=True),
                             schema=SCHEMA)
        self.swapped = swapped
        # Both the current tables and the copy, as the swap needs them.
        self.both = Database(db.url, self.engine)
        # The models' own tables read and written in the copy: what the import uses.
        self.db = self.both.translated(SCHEMA)

    def create(self, owner: str) -> None:
        """Fresh, empty copies of the tables, made by the rebuild `owner`; whatever an
        earlier rebuild left goes."""
        if self.in_memory:
            raise ValueError("A rebuild needs the service's SQLite database in a file, not in memory.")
        with self.engine.begin() as connection:
            if self.engine.dialect.name == "postgresql":
                connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
            self.metadata.drop_all(connection)
            self.metadata.create_all(connection)
            connection.execute(insert(self.made_by).values(owner=owner))

    def check_made_by(self, session: Session, owner: str) -> None:
        """Raise CopyTakenOver unless the copy is the one the rebuild `owner` made.
        Within a transaction that writes to the copy: another rebuild's drop of it
        waits for that transaction (PostgreSQL), or cannot come between (SQLite)."""
        if session.scalar(select(self.made_by.c.owner)) != owner:
            raise CopyTakenOver()

    @contextmanager
    def swap(self) -> Iterator[Session]:
        """A transaction that sees the current tables and the copy."""
        with self.both.session() as session:
            yield session

    def replace(self, session: Session) -> None:
        """In `session`: the current rows of the swapped tables give way to the copy's.
        A column the database numbers itself (a line's id) is numbered anew, in the
        copy's order, so that later inserts into the current table do not collide."""
        for table in reversed(self.swapped):
            session.execute(delete(table))
        for table in self.swapped:
            copy, numbered = self.tables[table.name], table.autoincrement_column
            names = [column.name for column in table.columns if column is not numbered]
            rows = select(*(copy.c[name] for name in names))
            if numbered is not None:
                rows = rows.order_by(copy.c[numbered.name])
            session.execute(insert(table).from_select(names, rows))

    def drop(self, owner: str) -> None:
        """Drop the copy the rebuild `owner` made; another rebuild's copy stays."""
        with self.engine.begin() as connection:
            if self._made_by(connection) == owner:
                self.metadata.drop_all(connection)

    def _made_by(self, connection) -> str | None:
        if not inspect(connection).has_table(self.made_by.name, schema=SCHEMA):
            return None
        return connection.scalar(select(self.made_by.c.owner))

    def dispose(self) -> None:
        self.engine.dispose()


class CopyTakenOver(Exception):
    """Another rebuild took over: the mark, or the copy this one filled."""

    def __init__(self) -> None:
        super().__init__("Another rebuild took over; this one stopped, and the current data stay as they were.")


def _copy_file(url: str) -> str | None:
    """The file of the copy next to the service's, None for a database in memory."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return str(Path(database).with_suffix(f".{SCHEMA}.db"))


def _attacher(path: str):
    def attach(dbapi_connection, _record) -> None:
        dbapi_connection.execute(f"ATTACH DATABASE ? AS {SCHEMA}", (path,))

    return attach
