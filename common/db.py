"""Database plumbing: engine and sessions from a URL, schema set-up, portable types."""
from __future__ import annotations

import logging
import zlib
from contextlib import contextmanager
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Callable, Iterator, cast

from sqlalchemy import BigInteger, DateTime, Numeric, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, CursorResult, Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator

CENT = Decimal("0.01")
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE when lock_timeout ends a wait
log = logging.getLogger(__name__)


class Database:
    """One service's database: an engine and a session factory."""

    def __init__(self, url: str, engine: Engine | None = None):
        self.url = url
        self.engine = engine if engine is not None else make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._labels: dict[str, bool] = {}

    def translated(self, schema: str) -> Database:
        """The same database, with every table that names no schema read and written
        in `schema` instead (SQLAlchemy's schema_translate_map): the same models and
        code, on another copy of the tables."""
        return Database(self.url, self.engine.execution_options(schema_translate_map={None: schema}))

    @property
    def locks_across_processes(self) -> bool:
        """Whether `exclusive` keeps other processes out (PostgreSQL), not only other
        writers for the length of one transaction (SQLite)."""
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back when it raises."""
        with self._sessions.begin() as session:
            yield session

    @contextmanager
    def exclusive(self, name: str, wait: bool | float = True) -> Iterator[bool]:
        """Hold the lock `name` across every process that uses this database; yields
        whether it was taken. While another holds it, wait=True waits for it,
        wait=False does not, and a number waits at most that many seconds.

        On PostgreSQL a session advisory lock. SQLite already lets one writer at a
        time in, so there the lock is always taken.
        """
        if self.engine.dialect.name != "postgresql":
            yield True
            return
        key = {"key": zlib.crc32(name.encode())}
        with self.engine.connect() as connection:
            taken = _lock(connection, key, wait)
            connection.commit()
            try:
                yield taken
            finally:
                if taken:
                    _unlock(connection, key)

    def after_commit(self, callback: Callable[[Session], None]) -> None:
        """Call `callback(session)` after every commit of this database's sessions, in
        the committing thread, once what it wrote is visible to every reader."""
        self.listen("after_commit", callback)

    def listen(self, name: str, callback: Callable[..., None]) -> None:
        """Call `callback` on the session event `name` (SQLAlchemy's SessionEvents) of
        this database's sessions, and of no other database's."""
        event.listen(self._sessions, name, callback)

    def label_sessions(self, label: str) -> None:
        """Have every session made from now on hold `label` in its `info`: how code that
        is handed a session learns what was installed on its database."""
        self._labels[label] = True
        self._sessions.configure(info=dict(self._labels))

    def ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def dispose(self) -> None:
        self.engine.dispose()


def _lock(connection: Connection, key: dict, wait: bool | float) -> bool:
    if wait is False:
        return bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), key).scalar())
    if wait is not True:  # the wait ends with the transaction's lock_timeout
        connection.execute(text("SELECT set_config('lock_timeout', :timeout, true)"),
                           {"timeout": f"{max(1, round(wait * 1000))}ms"})
    try:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), key)
    except OperationalError as error:
        if getattr(error.orig, "pgcode", None) != LOCK_NOT_AVAILABLE:
            raise
        connection.rollback()
        return False
    return True


def _unlock(connection: Connection, key: dict) -> None:
    try:
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)
        connection.commit()
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
        log.warning("the lock's connection was lost, and the lock with it")


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # A database that is down or restarting must fail requests fast (503), not hang them.
        return create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 5})
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(engine, "connect", _configure_sqlite)
    return engine


def _configure_sqlite(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web pages read while a poller writes; foreign keys are off by default.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def insert_or_ignore(session: Session, table: Table, values: dict) -> bool:
    """Insert a row unless one with the same key exists; True when it was inserted.

    Safe against a concurrent insert of the same key: the database decides.
    """
    dialect = session.get_bind().dialect.name
    module = {"postgresql": postgresql, "sqlite": sqlite}[dialect]
    statement = module.insert(table).values(**values).on_conflict_do_nothing()
    return cast(CursorResult, session.execute(statement)).rowcount == 1  # an INSERT's result is a cursor's


def locked_single_row(db: Database, session: Session, model, first: dict):
    """The one row (id 1) of `model`, locked until the transaction ends; made with the
    values `first` when there is none yet. SQLite locks nothing on a read: there the
    insert attempt comes first, and makes the transaction the one writer; elsewhere it
    is made only the first time."""
    table = model.__table__
    if not db.locks_across_processes:
        insert_or_ignore(session, table, {"id": 1, **first})
    row = session.get(model, 1, with_for_update=True, populate_existing=True)
    if row is None:
        insert_or_ignore(session, table, {"id": 1, **first})
        row = session.get(model, 1, with_for_update=True, populate_existing=True)
    return row


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every database (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass a timezone-aware one")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Money(TypeDecorator):
    """An amount with two decimal places: NUMERIC where the database has it,
    whole cents on SQLite, whose NUMERIC is a binary float."""

    impl = Numeric(12, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(12, 2, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect):
        if value is None:
            return None
        value = Decimal(value).quantize(CENT)
        return int(value / CENT) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(value) * CENT).quantize(CENT)
        return Decimal(value).quantize(CENT)
