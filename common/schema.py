"""Bringing a service's database schema up to date with its Alembic migrations.

Every service keeps its own migration history (`<service>/migrations/versions`);
the environment script that runs them is shared (`common/migrations`).
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData
from sqlalchemy.exc import OperationalError

from common.db import Database

SCRIPTS = Path(__file__).with_name("migrations")
log = logging.getLogger(__name__)


def alembic_config(db: Database, versions: Path, metadata: MetaData | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(versions).replace("%", "%%"))
    config.attributes["engine"] = db.engine
    config.attributes["metadata"] = metadata
    return config


def upgrade(db: Database, versions: Path, patience_seconds: float = 60) -> None:
    """Apply the migrations the database lacks; safe when replicas start together.

    A service may start while its database is still starting or restarting: it
    waits for it, up to `patience_seconds`, rather than fail at once.
    """
    deadline, delay = time.monotonic() + patience_seconds, 0.5
    while True:
        try:
            command.upgrade(alembic_config(db, versions), "head")
            return
        except OperationalError as error:
            if time.monotonic() + delay > deadline:
                raise
            log.warning("the database does not answer yet (%s); trying again in %.1f s", error.orig, delay)
            time.sleep(delay)
            delay = min(delay * 2, 5)
