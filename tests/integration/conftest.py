"""Fixtures of the integration tests: the real order service behind a controllable
front, consumer apps, and consumers built by hand."""
from __future__ import annotations

import pytest

from common.feed.client import FeedClient
from common.settings import Settings
from msatom.bootstrap import consumer_for, migrated
from tests.conftest import live_server
from tests.integration.support import Origin, browser_of


@pytest.fixture
def origin(order_app):
    """(Origin, its base URL): the real order service behind a controllable front."""
    front = Origin(order_app)
    with live_server(front) as url:
        try:
            yield front, url
        finally:
            front.release.set()  # no handler stays blocked past the test


@pytest.fixture
def browser(order_app):
    """The order service as a browser asks it for pages."""
    return browser_of(order_app)


@pytest.fixture
def consumer_app(make_app, settings_for):
    """A consumer service (invoicing or shipping) following the feed at `feed_url`."""

    def make(service: str, feed_url: str, **settings):
        return make_app(service, settings_for(service, feed_url=feed_url, **settings))

    return make


@pytest.fixture
def make_consumer(tmp_path):
    """A Consumer built by hand on the service's own models, on a fresh SQLite file."""
    databases = []

    def make(models, import_entry, feed_url: str, timeout=(3.05, 10.0), name="consumer", embedded=True):
        settings = Settings(service=name, database_url=f"sqlite:///{tmp_path / name}.db", embedded_documents=embedded)
        db = migrated(settings, models.MIGRATIONS)
        databases.append(db)
        return consumer_for(db, models, import_entry, FeedClient(feed_url, timeout=timeout), settings)

    yield make
    for db in databases:
        db.dispose()


@pytest.fixture
def order_site(order_app):
    """(its URL, failing): a live order app whose paths named in `failing` answer
    with the status given there instead ("404 Not Found": a document gone)."""
    failing: dict[str, str] = {}

    def app(environ, start_response):
        if environ["PATH_INFO"] in failing:
            start_response(failing[environ["PATH_INFO"]], [("Content-Type", "text/plain")])
            return [b"not now"]
        return order_app(environ, start_response)

    with live_server(app) as base:
        yield base, failing


@pytest.fixture
def follower(consumer_app, database_url):
    """A consumer app on each database engine, reading documents by their links; two
    made in one test share the database, as two processes of the service do."""

    def make(service: str, base: str):
        return consumer_app(service, f"{base}/feed", database_url=database_url, embedded_documents=False)

    return make
