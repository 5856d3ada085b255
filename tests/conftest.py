"""Fixtures shared by every kind of test: settings, a controllable clock, live servers."""
from __future__ import annotations

import os
import re
import shutil
import threading
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from account import models as account_models
from common.db import Database
from common.schema import upgrade
from common.settings import Settings
from invoicing import models as invoicing_models
from order import models as order_models
from shipping import models as shipping_models
from common.web.app import close_app
from msatom.bootstrap import create_app, settings_from_env
from msatom.stack import MissingProgram, PostgresCluster

REQUIRE_REAL_STACK = os.environ.get("REQUIRE_REAL_STACK") == "1"


def missing(message: str):
    """Skip a test that needs a real program the machine lacks; with
    REQUIRE_REAL_STACK=1 (CI) that is a failure instead."""
    if REQUIRE_REAL_STACK:
        pytest.fail(f"{message}, and REQUIRE_REAL_STACK=1 forbids skipping")
    pytest.skip(message)


def require_program(name: str) -> str:
    """The path of a real program the test needs."""
    path = shutil.which(name)
    if path is None:
        missing(f"{name} is not installed (Debian package {name})")
    return path


@contextmanager
def running(make):
    """A started PostgresCluster or Stack (what `make` builds), stopped afterwards;
    skipped (or failed, in CI) when its programs are missing."""
    try:
        thing = make()
    except MissingProgram as error:
        missing(str(error))
    thing.start()
    try:
        yield thing
    finally:
        thing.stop()


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL server for the whole test run."""
    with running(PostgresCluster) as cluster:
        yield cluster


@pytest.fixture
def postgres_url(postgres) -> str:
    """The URL of a new, empty PostgreSQL database of the test's own."""
    return postgres.create_database(f"test_{uuid.uuid4().hex[:12]}")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """An empty database on each engine the services support."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return request.getfixturevalue("postgres_url")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 22, 10, 0, 0, 300_000, tzinfo=timezone.utc))


@pytest.fixture
def settings_for(tmp_path):
    """Settings of one service with its own SQLite file in the test's folder."""

    def make(service: str, **changes) -> Settings:
        base = settings_from_env(service, {}).but(
            database_url=f"sqlite:///{tmp_path / service}.db", poll_interval_seconds=0, test_password_hashes=True
        )
        return base.but(**changes)

    return make


MIGRATIONS = {"account": account_models.MIGRATIONS, "order": order_models.MIGRATIONS,
              "invoicing": invoicing_models.MIGRATIONS, "shipping": shipping_models.MIGRATIONS}


@pytest.fixture(scope="session")
def migrated_files(tmp_path_factory):
    """A SQLite file per service with its schema brought up to date once: an app about
    to migrate a file that is not there yet starts from a copy, as it would have made
    it (test_migrations runs the migrations themselves, and every started system too)."""
    folder = tmp_path_factory.mktemp("migrated")

    def of(service: str):
        file = folder / f"{service}.db"
        if not file.exists():
            db = Database(f"sqlite:///{file}")
            upgrade(db, MIGRATIONS[service])
            db.dispose()
        return file

    return of


@pytest.fixture
def make_app(migrated_files):
    """Build apps of any service; every one is closed when the test ends."""
    apps = []

    def make(service: str, settings: Settings):
        url = make_url(settings.database_url)
        if url.get_backend_name() == "sqlite" and url.database and not os.path.exists(url.database):
            shutil.copyfile(migrated_files(service), url.database)
        app = create_app(service, settings)
        apps.append(app)
        return app

    yield make
    for app in apps:
        close_app(app)


@contextmanager
def live_server(app, port: int = 0):
    """Serve a WSGI app on a loopback port (a free one by default) in a thread; yields its base URL."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def order_app(make_app, settings_for):
    return make_app("order", settings_for("order"))


@pytest.fixture
def order_url(order_app):
    with live_server(order_app) as url:
        yield url


def form_token(html: str) -> str:
    """The CSRF token in a page's form, as a browser sends it back."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no form token"
    return match.group(1)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """schemathesis gives the test of each API operation the one node id of its test
    function; pytest-xdist (`make test`), which hands tests to its workers by node id,
    would run only one of them. Each gets the id its name says: `...::test[GET /feed]`."""
    for item in items:
        if item.nodeid.rsplit("::", 1)[-1] != item.name:
            item._id = item.parent.id.child(item.name)
