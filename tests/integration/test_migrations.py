"""Each service's Alembic history builds its schema from nothing, on SQLite and
PostgreSQL, matches its models, and is safe when replicas start together."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from common.db import Database
from common.schema import upgrade
from invoicing import models as invoicing_models
from order import models as order_models
from shipping import models as shipping_models

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"order": order_models, "invoicing": invoicing_models, "shipping": shipping_models}


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.mark.parametrize("service", SERVICES)
def test_upgrade_from_empty_builds_every_table_of_the_models(db, service):
    models = SERVICES[service]

    upgrade(db, models.MIGRATIONS)

    tables = set(inspect(db.engine).get_table_names())
    assert set(models.Base.metadata.tables) <= tables
    assert "alembic_version" in tables


@pytest.mark.parametrize("service", SERVICES)
def test_models_and_migrations_do_not_drift(db, service):
    models = SERVICES[service]
    upgrade(db, models.MIGRATIONS)

    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), models.Base.metadata)

    assert differences == []


def test_a_new_order_database_has_the_catalog(db):
    upgrade(db, order_models.MIGRATIONS)

    with db.session() as session:
        customers = session.scalars(select(order_models.Customer.id)).all()
        items = session.scalars(select(order_models.Item.id)).all()

    assert len(customers) >= 2 and min(customers) == 1
    assert len(items) >= 4 and min(items) == 1


def test_upgrading_a_current_schema_changes_nothing(db):
    upgrade(db, order_models.MIGRATIONS)
    upgrade(db, order_models.MIGRATIONS)

    with db.session() as session:
        assert len(session.scalars(select(order_models.Customer)).all()) == 2


def test_replicas_starting_together_all_come_up(postgres_url):
    """Four processes upgrade one empty database at once, as replicas starting
    together do; each comes up and the schema is built once."""
    script = ("import sys; from common.db import Database; from common.schema import upgrade; "
              "from order.models import MIGRATIONS; upgrade(Database(sys.argv[1]), MIGRATIONS)")
    replicas = [subprocess.Popen([sys.executable, "-c", script, postgres_url], cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                for _ in range(4)]
    outputs = [replica.communicate(timeout=60)[0] for replica in replicas]

    assert [replica.returncode for replica in replicas] == [0, 0, 0, 0], outputs
    db = Database(postgres_url)
    with db.session() as session:
        assert len(session.scalars(select(order_models.Customer)).all()) == 2
    db.dispose()
