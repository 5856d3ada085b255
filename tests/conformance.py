"""schemathesis against the services' OpenAPI documents: the checks, the examples, and
the one call every conformance test makes (tests/integration, tests/e2e)."""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_headers_conformance,
                                               response_schema_conformance, status_code_conformance)

from common.web.app import close_app
from msatom.bootstrap import create_app, settings_from_env


def served_document(service: str) -> dict:
    """The service's document as it serves it, with what signing in takes (read from its
    access table), from an app on an in-memory database."""
    app = create_app(service, settings_from_env(service, {}).but(database_url="sqlite://", poll_interval_seconds=0))
    try:
        return app.test_client().get("/openapi.json").get_json()
    finally:
        close_app(app)


DOCUMENTS = {service: served_document(service) for service in ("order", "invoicing", "shipping")}
_SERVICES = {document["info"]["title"]: service for service, document in DOCUMENTS.items()}

# No server error, and every answer as its document says: status, media type, headers, body.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
# The same requests on every run (derandomized, no example database): a failure is never luck.
SETTINGS = settings(max_examples=25, derandomize=True, database=None, deadline=None,
                    suppress_health_check=list(HealthCheck))
# A client of the JSON API; browsers, which prefer HTML, get pages at the same URLs.
ASK_FOR_JSON = {"Accept": "application/json"}

# A test decorated with this runs once per operation of every service's document.
every_operation = schemathesis.pytest.parametrize(
    **{service: schemathesis.openapi.from_dict(document) for service, document in DOCUMENTS.items()})


def conforms(case, targets: dict[str, dict]) -> None:
    """Send `case` to its service and check the answer; `targets` holds the call's
    arguments per service: its `base_url`, and an in-process `app` or a `session`."""
    service = _SERVICES[case.operation.schema.raw_schema["info"]["title"]]
    case.call_and_validate(headers=ASK_FOR_JSON, checks=CHECKS, **targets[service])
