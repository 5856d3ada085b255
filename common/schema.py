"""Bringing a service's database schema up to date with its Alembic migrations.

Every service keeps its own migration history (`<service>/migrations/versions`);
the environment script that runs them is shared (`common/migrations`).
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData

from common.db import Database

SCRIPTS = Path(__file__).with_name("migrations")


def alembic_config(db: Database, versions: Path, metadata: MetaData | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(versions).replace("%", "%%"))
    config.attributes["engine"] = db.engine
    config.attributes["metadata"] = metadata
    return config


def upgrade(db: Database, versions: Path) -> None:
    """Apply the migrations the database lacks; safe when replicas start together."""
    command.upgrade(alembic_config(db, versions), "head")
