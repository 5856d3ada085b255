"""schemathesis against each service in-process (its WSGI app, SQLite): no server error,
and every answer as the service's OpenAPI document says."""
from __future__ import annotations

import pytest

from common import parts
from common.settings import Settings
from common.web.app import close_app
from msatom.bootstrap import create_app, settings_from_env
from tests.conformance import SETTINGS, conforms, every_operation
from tests.conftest import live_server
from tests.support.orders import order_request


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    """The three apps, with orders placed (one cancelled) and imported by the consumers,
    which follow the order service over HTTP."""
    folder = tmp_path_factory.mktemp("api")

    def settings(service: str, **changes) -> Settings:
        return settings_from_env(service, {}).but(database_url=f"sqlite:///{folder / service}.db",
                                                  poll_interval_seconds=0, **changes)

    order = create_app("order", settings("order", feed_page_size=2))
    client = order.test_client()
    for _ in range(3):
        assert client.post("/", json=order_request()).status_code == 201
    assert client.post("/1/cancel", headers={"Accept": "application/json"}).status_code == 200
    apps = {"order": order}
    with live_server(order) as url:
        for consumer in ("invoicing", "shipping"):
            apps[consumer] = create_app(consumer, settings(consumer, feed_url=f"{url}/feed"))
            assert parts.consumer(apps[consumer]).poll().imported == 4  # 3 placed, 1 cancelled
        yield {service: {"app": app, "base_url": "http://localhost"} for service, app in apps.items()}
    for app in apps.values():
        close_app(app)


@every_operation
@SETTINGS
def test_every_answer_is_as_documented(case, services):
    conforms(case, services)
