"""Request ids and metrics on the production stack: Apache, gunicorn with two workers."""
from __future__ import annotations

import re

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from msatom.stack import wait_until
from tests.conftest import order_request

pytestmark = pytest.mark.e2e


def health_count(url: str) -> float:
    text = requests.get(f"{url}/metrics", timeout=10).text  # a new connection: any worker may answer
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "msatom_http_requests_total" and sample.labels == {
                    "method": "GET", "route": "/health", "status": "200"}:
                return sample.value
    return 0.0


def test_apache_gives_each_request_an_id_that_the_order_log_shows(stack):
    placed = requests.post(f"{stack.url}/order/", json=order_request(), timeout=10,
                           headers={"X-Request-Id": "forged-by-the-client"})

    assert placed.status_code == 201
    request_id = placed.headers["X-Request-Id"]
    assert request_id and request_id != "forged-by-the-client"
    order_log = stack.processes["order"]
    wait_until(lambda: f"request_id={request_id}" in order_log.output(), 5, "the order log naming the request")
    line = next(line for line in order_log.output().splitlines() if f"request_id={request_id}" in line)
    assert '"POST / HTTP/1.1" 201' in line
    assert "forged-by-the-client" not in order_log.output()


def test_the_poll_that_imported_an_order_can_be_followed_into_the_order_log(stack):
    order = requests.post(f"{stack.url}/order/", json=order_request(), timeout=10).json()
    invoicing_log = stack.processes["invoicing"]
    found = re.compile(r"\[(\w+)\] poll of \S+ imported [1-9]\d* \(200\)")
    wait_until(lambda: found.search(invoicing_log.output()), 10, "a poll of invoicing importing")

    poll_ids = set(found.findall(invoicing_log.output()))
    order_log = stack.processes["order"].output().splitlines()
    asked = [line for line in order_log if f'"GET /{order["id"]} HTTP/1.1" 200' in line]
    assert any(line.rsplit("request_id=", 1)[1] in poll_ids for line in asked), (poll_ids, asked)


def test_metrics_count_the_requests_of_every_worker(stack):
    url = stack.service_url("order")
    before = health_count(url)
    for _ in range(20):
        assert requests.get(f"{url}/health", timeout=10).status_code == 200  # each on a new connection

    assert [health_count(url) for _ in range(6)] == [before + 20] * 6
