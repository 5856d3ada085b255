"""Holding a request inside its transaction, without relying on timing: the test locks
the order feed's log as a transaction placing an order does, and sees in `pg_locks`
who waits."""
from __future__ import annotations

from sqlalchemy import text

from common.db import Database


class HeldFeed:
    """The feed's log locked as an order's transaction locks it: a request that places
    an order waits there, inside its transaction, until the block ends."""

    def __init__(self, database_url: str):
        self.db = Database(database_url)

    def __enter__(self) -> HeldFeed:
        self.connection = self.db.engine.connect()
        self.connection.execute(text("LOCK TABLE feed_entry IN EXCLUSIVE MODE"))
        return self

    def __exit__(self, *_) -> None:
        self.connection.rollback()
        self.connection.close()
        self.db.dispose()

    def waiting(self, locktype: str = "%") -> int:
        """How many transactions wait for a lock in this database (of the type given)."""
        with self.db.engine.connect() as connection:
            return connection.scalar(text(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype LIKE :type AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())"), {"type": locktype})
