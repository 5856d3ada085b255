"""Fixtures of the integration tests: the real order service behind a controllable
front, consumer apps, and consumers built by hand."""
from __future__ import annotations

import pytest

from common.db import Database
from common.schema import upgrade
from common.feed.running import Consumer
from common.feed.following import FeedClient
from common.utc import utc_now
from tests.conftest import live_server
from tests.integration.support import Origin


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
def consumer_app(make_app, settings_for):
    """A consumer service (invoicing or shipping) following the feed at `feed_url`."""

    def make(service: str, feed_url: str, **settings):
        return make_app(service, settings_for(service, order_feed_url=feed_url, **settings))

    return make


@pytest.fixture
def make_consumer(tmp_path):
    """A Consumer built by hand on the service's own models, on a fresh SQLite file."""
    databases = []

    def make(models, import_entry, feed_url: str, timeout=(3.05, 10.0), name="consumer", embedded=True):
        db = Database(f"sqlite:///{tmp_path / name}.db")
        upgrade(db, models.MIGRATIONS)
        databases.append(db)
        client = FeedClient(feed_url, timeout=timeout)
        return Consumer(db, models.PollState, models.RejectedEntry, import_entry, client, utc_now,
                        embedded=embedded)

    yield make
    for db in databases:
        db.dispose()
