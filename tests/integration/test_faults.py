"""A failing dependency slows things down; it never loses or duplicates an order."""
from __future__ import annotations

import threading

import pytest
import requests
from werkzeug.serving import make_server

from common import parts
from msatom.stack import PostgresCluster
from tests.conftest import running
from tests.support.orders import order_request


@pytest.fixture
def own_postgres():
    """A PostgreSQL server of the test's own, to stop and start."""
    with running(PostgresCluster) as cluster:
        yield cluster


def test_a_database_restart_gets_503_meanwhile_and_recovers_by_itself(own_postgres, make_app, settings_for):
    app = make_app("order", settings_for("order", database_url=own_postgres.create_database("orders")))
    client = app.test_client()
    assert client.post("/", json=order_request()).status_code == 201

    own_postgres.pause()
    health = client.get("/health")
    listing = client.get("/", headers={"Accept": "application/json"})
    page = client.get("/", headers={"Accept": "text/html"})
    own_postgres.resume()
    after = client.get("/", headers={"Accept": "application/json"})

    assert health.status_code == 503
    assert listing.status_code == 503 and listing.headers["Retry-After"]
    assert "try again" in listing.get_json()["error"]
    assert page.status_code == 503 and "Traceback" not in page.get_data(as_text=True)
    assert after.status_code == 200 and len(after.get_json()) == 1
    assert client.post("/", json=order_request()).status_code == 201


class Restartable:
    """The order app on a fixed loopback port that can be stopped and started."""

    def __init__(self, app):
        self.app, self.server = app, None
        self.port = self.start()

    def start(self, port: int = 0) -> int:
        self.server = make_server("127.0.0.1", port, self.app, threaded=True)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self.server.server_port

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_consumer_backs_off_while_the_order_service_is_down_and_catches_up_after(
        order_app, consumer_app):
    order = Restartable(order_app)
    base = f"http://127.0.0.1:{order.port}"
    try:
        requests.post(f"{base}/", json=order_request(), timeout=5).raise_for_status()
        consumer = parts.consumer(consumer_app("invoicing", f"{base}/feed"))
        order.stop()

        failed = consumer.poll()
        backoff_after_one = consumer.backoff_seconds()
        scheduled = consumer.poll(wait=False)  # what the schedule does meanwhile
        consumer.poll()
        backoff_after_two = consumer.backoff_seconds()

        order.start(order.port)
        caught_up = consumer.poll()  # "Poll now" does not wait for the back-off
    finally:
        order.stop()

    assert failed.status == "error" and "cannot be reached" in failed.message
    assert scheduled is None
    assert 0 < backoff_after_one <= 2 < backoff_after_two <= 4
    assert (caught_up.status, caught_up.imported) == (200, 1)
    assert consumer.backoff_seconds() == 0
