"""Request ids and metrics on the production stack: Apache, gunicorn with two workers."""
from __future__ import annotations

import re

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from msatom.stack import wait_until
from tests.support.orders import order_request
from tests.e2e.running import PATIENCE, anonymous, http

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
    placed = http().post(f"{stack.url}/order/", json=order_request(), timeout=10,
                           headers={"X-Request-Id": "forged-by-the-client"})

    assert placed.status_code == 201
    request_id = placed.headers["X-Request-Id"]
    assert request_id and request_id != "forged-by-the-client"
    order_log = stack.processes["order"]
    wait_until(lambda: f"request_id={request_id}" in order_log.output(), PATIENCE, "the order log naming the request")
    line = next(line for line in order_log.output().splitlines() if f"request_id={request_id}" in line)
    assert '"POST / HTTP/1.1" 201' in line
    assert "forged-by-the-client" not in order_log.output()


def test_the_poll_that_imported_an_order_can_be_followed_into_the_order_log(stack):
    order = http().post(f"{stack.url}/order/", json=order_request(), timeout=10).json()
    invoicing_log, order_log = stack.processes["invoicing"], stack.processes["order"]
    found = re.compile(r"\[(\w+)\] poll of \S+ imported [1-9]\d* \(200\)")
    # Where the poll read the order: its document (/<id>/versions/<v>), or the feed's
    # page that carried it inline (/feed?embed=documents), whole (200) or the entries
    # added since the poll's copy alone (226, RFC 3229).
    document = re.compile(rf'"GET (?:/{order["id"]}/\S*|/feed\?embed=documents) HTTP/1\.1" (?:200|226) ')

    def poll_ids() -> set[str]:
        return set(found.findall(invoicing_log.output()))

    def asked() -> list[str]:
        return [line for line in order_log.output().splitlines() if document.search(line)]

    def followed() -> bool:
        # Each log is written when its side is done: invoicing's line when the poll
        # ends, the order service's access log line when gunicorn has answered, in
        # either order, and neither at once. A poll that imported an earlier order
        # may be logged already, so wait for this order's line with a poll's id.
        ids = poll_ids()
        return any(re.search(r"request_id=(\S+)", line).group(1) in ids for line in asked())

    try:
        wait_until(followed, PATIENCE, f"a poll of invoicing that imported order {order['id']} in the order log")
    except TimeoutError as error:
        pytest.fail(f"{error}: importing polls {poll_ids()}, requests for the order {asked()}", pytrace=False)


def test_metrics_count_the_requests_of_every_worker(stack):
    url = stack.service_url("order")
    before = health_count(url)
    for _ in range(20):
        assert requests.get(f"{url}/health", timeout=10).status_code == 200  # each on a new connection

    assert [health_count(url) for _ in range(6)] == [before + 20] * 6


FORGED = "2026-01-01 00:00:00,000 ERROR common.web [admin] FORGED"


@pytest.mark.parametrize("where", ["through Apache", "at gunicorn"])
@pytest.mark.parametrize("newline, raw, name", [("%0a", "\n", "LF"), ("%0d", "\r", "CR"), ("%0d%0a", "\r\n", "CRLF")],
                         ids=["LF", "CR", "CRLF"])
def test_a_newline_in_a_path_header_or_form_value_starts_no_line_in_the_log(stack, where, newline, raw, name):
    base = f"{stack.url}/order" if where == "through Apache" else stack.service_url("order")
    order_log = stack.processes["order"]
    marker = f"{FORGED} {where} {name}"
    sent = marker.replace(" ", "%20")
    decoded = raw.replace("\r", "\\r").replace("\n", "\\n")  # as the log shows it

    # A form post without its token is refused and logged with its path.
    refused = requests.post(f"{base}/x{newline}{sent}", data={"street": f"a{raw}{marker}"}, timeout=10,
                            headers={"Accept": "text/html", "User-Agent": f"x{newline}{sent}",
                                     "X-Request-Id": f"x{newline}{sent}", "Referer": f"x{newline}{sent}"})
    assert refused.status_code == 400

    wait_until(lambda: f"POST /x{decoded}{marker}" in order_log.output(), PATIENCE,
               "the refusal in the order log, escaped")
    lines = order_log.output().splitlines()
    assert not [line for line in lines if line.startswith(FORGED)]
    assert not [line for line in lines if marker in line and f"{decoded}{marker}" not in line
                and f"{newline}{sent}" not in line]


def test_a_search_for_a_customer_leaves_no_trace_in_apaches_log_or_the_services(stack):
    search = {"q": "rod.johnson@example.com", "page": "1"}
    searched = {service: http().get(f"{stack.url}/{service}/", params=search, timeout=10)
                for service in ("order", "invoicing", "shipping")}
    # A browser not signed in is sent to sign in, and back to its search afterwards.
    sent_to_sign_in = anonymous().get(f"{stack.url}/order/", params=search, headers={"Accept": "text/html"},
                                      timeout=10)

    assert all(answer.status_code == 200 for answer in searched.values())
    assert sent_to_sign_in.url.startswith(f"{stack.url}/account/sign-in?next=/order/%3Fq%3Drod.johnson")
    logs = {name: stack.processes[name] for name in ("apache", "order", "invoicing", "shipping", "account")}
    for name, process in logs.items():
        # Each line is written once its answer has gone: the line of this request's id is there, or will be.
        answered = {"apache": [answer.headers["X-Request-Id"] for answer in [*searched.values(), sent_to_sign_in]],
                    "account": [sent_to_sign_in.headers["X-Request-Id"]]}.get(name) or [
            searched[name].headers["X-Request-Id"]]
        wait_until(lambda: all(f"request_id={request_id}" in process.output() for request_id in answered),
                   PATIENCE, f"{name}'s lines for the searches")
        lines = [line for line in process.output().splitlines() if any(f"request_id={request_id}" in line
                                                                       for request_id in answered)]
        assert all("?q=redacted&page=1 " in line or "?next=redacted " in line for line in lines), lines
        assert "rod.johnson" not in process.output()
