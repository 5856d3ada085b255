"""One trace from an order to its invoice and shipment: `msatom run` with an OTLP
endpoint sends its spans to a receiver of the test's (tests/e2e/otlp.py), and each
consumer's import of an entry links to the span of the request that changed the order,
from what the order service stored, after a restart and in a rebuild alike. Its log,
as JSON lines, names the trace of each line."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.e2e.conftest import msatom_running
from tests.e2e.otlp import Receiver
from msatom.stack import free_port
from tests.e2e.running import gunicorn, http, msatom_env, wait_for_health
from tests.support.orders import order_request
from tests.support.waiting import until

pytestmark = pytest.mark.e2e

JSON = {"Accept": "application/json"}
SERVER, CONSUMER = 2, 5  # OTLP's SpanKind
CONSUMERS = ("invoicing", "shipping")


def traced(folder, receiver: Receiver):
    """`msatom run` in `folder` sending its spans to `receiver` within 0.1 s; it follows
    the feed only when asked (POST /poll), so the test says when each import happens."""
    return msatom_running(folder, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url, OTEL_BSP_SCHEDULE_DELAY="100",
                          POLL_INTERVAL_SECONDS="0", LOG_FORMAT="json")


def imports(receiver: Receiver, service: str, position: int, linked_to) -> list:
    """`service`'s spans of importing the entry at `position`, linked to `linked_to`."""
    return [span for span in receiver.spans(service=service, name="process feed entry", kind=CONSUMER)
            if span.attributes.get("msatom.feed.position") == position
            and (linked_to.trace_id, linked_to.span_id) in span.links]


def test_each_import_links_to_the_request_that_changed_the_order_after_a_restart_and_in_a_rebuild(tmp_path):
    client = http()
    with Receiver() as receiver:
        running = traced(tmp_path, receiver)
        system = next(running)
        placed = client.post(f"{system.url}/order/", json=order_request(), headers=JSON, timeout=30)
        assert placed.status_code == 201, placed.text
        order_id = placed.json()["id"]
        assert client.post(f"{system.url}/order/{order_id}/cancel", headers=JSON, timeout=30).status_code == 200
        until(lambda: receiver.spans(service="order", name="cancel order"), "the order service's spans")
        next(running, None)  # stops it: what the consumers link to comes from the stored documents

        [placing] = receiver.spans(service="order", name="place order")
        [cancelling] = receiver.spans(service="order", name="cancel order")
        [request] = receiver.spans(service="order", kind=SERVER, trace_id=placing.trace_id)
        assert (request.name, request.attributes["http.response.status_code"]) == ("POST /", 201)
        assert placing.parent_id == request.span_id and cancelling.trace_id != placing.trace_id

        running = traced(tmp_path, receiver)
        system = next(running)
        try:
            for service in CONSUMERS:
                assert client.post(f"{system.url}/{service}/poll", headers=JSON, timeout=30).json()["imported"] == 2
            for service in CONSUMERS:
                for position, change in ((1, placing), (2, cancelling)):
                    until(lambda: imports(receiver, service, position, change),
                          f"{service}'s import of entry {position}, linked to the order service's span")
                    [imported] = imports(receiver, service, position, change)
                    assert imported.attributes["msatom.feed.document.id"] == order_id
                    assert imported.trace_id != change.trace_id, "a trace of its own, linked"

            # Its log lines are JSON, each with the ids of the request and the trace it belongs to.
            [polled] = receiver.spans(service="invoicing", name="POST /poll", kind=SERVER)
            logged = [json.loads(line) for line in system.output().splitlines() if line.startswith("{")]
            [line] = [line for line in logged if line["service"] == "invoicing" and "imported 2" in line["message"]]
            assert (line["trace_id"], line["span_id"]) == (polled.trace_id, polled.span_id)
            assert line["request_id"] and line["level"] == "INFO" and line["logger"] == "common.feed.running"

            assert client.post(f"{system.url}/invoicing/rebuild", headers=JSON, timeout=30).status_code == 202
            until(lambda: len(imports(receiver, "invoicing", 1, placing)) == 2
                  and len(imports(receiver, "invoicing", 2, cancelling)) == 2, "the rebuild's imports, linked")
        finally:
            next(running, None)


def test_a_text_log_line_in_a_trace_names_it_beside_the_request_id(tmp_path):
    with Receiver() as receiver:
        running = msatom_running(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url, OTEL_BSP_SCHEDULE_DELAY="100",
                                 POLL_INTERVAL_SECONDS="0")
        system = next(running)
        try:
            http().post(f"{system.url}/invoicing/poll", headers={"X-Request-Id": "a-traced-poll", **JSON}, timeout=30)
            until(lambda: receiver.spans(service="invoicing", name="POST /poll"), "the poll's span")
        finally:
            next(running, None)
    [span] = receiver.spans(service="invoicing", name="POST /poll")
    lines = [line for line in system.output().splitlines() if "poll of" in line]
    assert f"[a-traced-poll trace={span.trace_id}]" in lines[-1], lines


def test_gunicorns_access_line_names_the_trace_beside_the_request_id(tmp_path):
    with Receiver() as receiver:
        port = free_port()
        order = gunicorn("order", port, tmp_path, workers=1, DATABASE_URL=f"sqlite:///{tmp_path}/order.db",
                         OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url, OTEL_BSP_SCHEDULE_DELAY="100")
        try:
            wait_for_health(order, f"http://127.0.0.1:{port}", "order")
            http().get(f"http://127.0.0.1:{port}/status", headers={"X-Request-Id": "a-traced-look", **JSON},
                       timeout=30)
            until(lambda: receiver.spans(service="order", name="GET /status"), "the request's span")
            until(lambda: "request_id=a-traced-look" in order.output(), "its access line", process=order)
        finally:
            order.stop()
    [span] = receiver.spans(service="order", name="GET /status")
    assert f"request_id=a-traced-look trace_id={span.trace_id}" in order.output()


def test_without_an_endpoint_nothing_of_opentelemetry_is_loaded_and_no_exporter_runs(tmp_path):
    program = ("import sys, threading\n"
               "from msatom.bootstrap import create_app, settings_from_env\n"
               f"settings = settings_from_env('order', {{}}).but(database_url='sqlite:///{tmp_path}/order.db')\n"
               "app = create_app('order', settings)\n"
               "assert app.test_client().get('/health').status_code == 200\n"
               "print(sorted(name for name in sys.modules if name.startswith('opentelemetry')))\n"
               "print(sorted(thread.name for thread in threading.enumerate()))\n")
    ran = subprocess.run([sys.executable, "-c", program], env=msatom_env(), capture_output=True, text=True,
                         timeout=60)

    assert ran.returncode == 0, ran.stderr
    loaded, threads = ran.stdout.splitlines()
    assert loaded == "[]"
    assert "Otel" not in threads, threads
