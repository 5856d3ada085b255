"""What Apache answers itself, on the production stack: a body over the services'
limit gets their 413, not a 502; Apache's own errors say what a service would, as JSON
or HTML by Accept, with the services' security headers; /metrics stays with
Prometheus; /health says up or down and nothing more."""
from __future__ import annotations

import json
import re
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

from common.security import HEADERS as SECURITY_HEADERS
from common.web.errors import NOT_FOUND
from msatom.stack import MissingProgram, answers, free_port, start_apache, wait_until
from tests.conftest import missing
from tests.support.orders import order_request
from tests.e2e.running import BROWSER_ACCEPT, PATIENCE, http, token

pytestmark = pytest.mark.e2e

JSON = "application/json"
SERVICES = ("order", "invoicing", "shipping")


def service_answer_to(base_url: str, head: str) -> tuple[str, dict]:
    """A service's own answer to a request of which only `head` is sent: its status
    line and JSON body. A service refuses an over-long body from its headers alone."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.encode())
        received = b""
        while chunk := sock.recv(65536):  # until it closes: the head says Connection: close
            received += chunk
    status, _, rest = received.partition(b"\r\n")
    return status.decode(), json.loads(rest.partition(b"\r\n\r\n")[2])


@pytest.fixture(scope="module")
def too_large_sentence(stack) -> str:
    """What the order service itself says to a body over its 1 MiB."""
    status, body = service_answer_to(stack.service_url("order"), (
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json\r\n"
        f"Authorization: Bearer {token()}\r\nContent-Length: 2000000\r\nConnection: close\r\n\r\n"))
    assert status.startswith("HTTP/1.1 413"), status
    return body["error"]


@pytest.fixture(scope="module")
def apache_without_services():
    """Apache with apache/httpd.conf whose services do not answer (nothing listens)."""
    folder = Path(tempfile.mkdtemp(prefix="msatom-apache-alone-"))
    folder.chmod(0o755)  # its unprivileged workers read the landing page below it
    nowhere = f"http://127.0.0.1:{free_port()}"
    port = free_port()
    try:
        process = start_apache(port, folder, None, order=nowhere, invoicing=nowhere, shipping=nowhere)
    except MissingProgram as error:
        shutil.rmtree(folder, ignore_errors=True)
        missing(str(error))
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: answers(f"{url}/") or not process.running(), PATIENCE, "Apache answering")
        assert process.running(), process.output()
        yield url
    finally:
        process.stop()
        shutil.rmtree(folder, ignore_errors=True)


def test_a_body_over_the_limit_gets_the_services_413_not_a_502(stack, too_large_sentence):
    session = http()
    body = b"x" * 10_000_000

    as_json = session.post(f"{stack.url}/order/", data=body, timeout=30,
                           headers={"Content-Type": JSON, "Accept": JSON})
    as_html = session.post(f"{stack.url}/order/", data=body, timeout=30,
                           headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": BROWSER_ACCEPT})

    assert (as_json.status_code, as_json.headers["Content-Type"]) == (413, JSON), as_json.text[:300]
    assert as_json.json() == {"error": too_large_sentence}
    assert as_html.status_code == 413
    assert as_html.headers["Content-Type"].startswith("text/html")
    assert too_large_sentence in as_html.text


def test_a_body_within_the_limit_still_reaches_the_service(stack):
    placed = http().post(f"{stack.url}/order/", data=json.dumps(order_request()) + " " * 1_000_000, timeout=30,
                         headers={"Content-Type": JSON, "Accept": JSON})

    assert placed.status_code == 201, placed.text[:300]


def test_a_chunked_body_is_refused_rather_than_stored_without_a_bound(stack):
    refused = http().post(f"{stack.url}/order/", data=iter([json.dumps(order_request()).encode()]), timeout=30,
                          headers={"Content-Type": JSON, "Accept": JSON})

    assert refused.status_code == 411
    assert "Content-Length" in refused.json()["error"]


@pytest.mark.parametrize("path", [f"/{service}/metrics" for service in SERVICES]
                         + ["/order//metrics", "/order/metrics/"])
def test_metrics_are_not_served_through_apache(stack, path):
    response = http().get(f"{stack.url}{path}", headers={"Accept": JSON}, timeout=10)

    assert response.status_code in (403, 404)
    assert "msatom_" not in response.text


@pytest.mark.parametrize("service", SERVICES)
def test_metrics_are_served_on_the_services_own_port(stack, service):
    response = http().get(f"{stack.service_url(service)}/metrics", timeout=10)

    assert response.status_code == 200
    assert "msatom_http_requests_total" in response.text


def test_health_through_apache_says_up_and_nothing_more(stack):
    response = http().get(f"{stack.url}/order/health", timeout=10)

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize(("status", "path"), [(404, "/no-such-page"), (403, "/order/metrics")])
@pytest.mark.parametrize("accept", [JSON, BROWSER_ACCEPT])
def test_apaches_own_errors_carry_the_security_headers_and_a_sentence(stack, status, path, accept):
    response = http().get(f"{stack.url}{path}", headers={"Accept": accept}, timeout=10)

    assert response.status_code == status
    assert_like_a_service(response, accept)


@pytest.mark.parametrize("path", ["/no-such-page", "/order/no-such-page", "/invoicing/9/nope", "/account/nope"])
@pytest.mark.parametrize("accept", [JSON, BROWSER_ACCEPT])
def test_a_path_that_is_nowhere_gets_one_not_found_from_apache_and_from_the_services(stack, path, accept):
    response = http().get(f"{stack.url}{path}", headers={"Accept": accept}, timeout=10)

    assert response.status_code == 404
    assert "Accept" in response.headers.get("Vary", "")
    assert_like_a_service(response, accept)
    assert (response.json()["error"] if accept == JSON else response.text).count(NOT_FOUND) == 1


@pytest.mark.parametrize("accept", [JSON, BROWSER_ACCEPT])
def test_a_service_that_does_not_answer_gets_apaches_503_with_the_security_headers(apache_without_services, accept):
    response = http().get(f"{apache_without_services}/order/", headers={"Accept": accept}, timeout=10)

    assert response.status_code == 503
    assert_like_a_service(response, accept)


def assert_like_a_service(response, accept: str) -> None:
    """Answered as a service answers an error: its security headers, and JSON with an
    "error" sentence for programs, an HTML page for browsers."""
    assert {name: response.headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS
    if accept == JSON:
        assert response.headers["Content-Type"] == JSON
        assert set(response.json()) == {"error"}
    else:
        assert response.headers["Content-Type"].startswith("text/html")
        assert re.search(r'<link rel="stylesheet" href="(/[a-z]+)?/static/style.css">', response.text)
        assert '<header class="site">' in response.text  # the site's look, its header and navigation
