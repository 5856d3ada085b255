"""schemathesis against the running systems, real processes: `msatom run` (the three
services on waitress, SQLite) and the production stack (gunicorn, PostgreSQL, Apache in
front). No server error, and every answer as the service's OpenAPI document says."""
from __future__ import annotations

import pytest

from tests.conformance import ASK_FOR_JSON, DOCUMENTS, SETTINGS, conforms, every_operation
from tests.support.orders import order_request
from tests.e2e.running import http, wait_for_json

pytestmark = pytest.mark.e2e


def seeded(base_url: str) -> dict[str, dict]:
    """Two orders, one cancelled, imported by both consumers; then the call's arguments
    per service for schemathesis."""
    session = http()
    placed = [session.post(f"{base_url}/order/", json=order_request(), timeout=10).json() for _ in range(2)]
    session.post(f"{base_url}/order/{placed[0]['id']}/cancel", headers=ASK_FOR_JSON, timeout=10).raise_for_status()
    for consumer in ("invoicing", "shipping"):
        wait_for_json(session, f"{base_url}/{consumer}/{placed[-1]['id']}")
    return {service: {"base_url": f"{base_url}/{service}", "session": session} for service in DOCUMENTS}


@pytest.fixture(scope="module")
def under_msatom_run(msatom_system):
    return seeded(msatom_system.url)


@pytest.fixture(scope="module")
def behind_apache(stack):
    return seeded(stack.url)


@pytest.mark.parametrize("service", DOCUMENTS)
@pytest.mark.parametrize("system", ["under_msatom_run", "behind_apache"])
def test_each_service_serves_its_document_under_its_prefix(request, system, service):
    targets = request.getfixturevalue(system)

    response = targets[service]["session"].get(f"{targets[service]['base_url']}/openapi.json", timeout=10)

    assert response.status_code == 200
    assert response.json() == DOCUMENTS[service]


@every_operation
@SETTINGS
def test_msatom_run_answers_as_documented(case, under_msatom_run):
    conforms(case, under_msatom_run)


@every_operation
@SETTINGS
def test_the_stack_behind_apache_answers_as_documented(case, behind_apache, stack):
    targets = behind_apache
    if case.operation.path == "/metrics":  # refused by Apache: Prometheus asks each service on its own port
        targets = {service: {**call, "base_url": stack.service_url(service)} for service, call in targets.items()}
    conforms(case, targets)
