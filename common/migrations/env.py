"""Runs one service's migrations on the engine its config carries."""
from alembic import context
from sqlalchemy import text

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    if connection.dialect.name == "sqlite":
        # SQLite alters a table by copying it; the copy must not trip foreign keys.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()  # so that the migrations' own transaction is the one committed
    context.configure(connection=connection, target_metadata=config.attributes.get("metadata"),
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Replicas that start together take turns; the later ones find the schema current.
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('msatom schema'))"))
        context.run_migrations()
