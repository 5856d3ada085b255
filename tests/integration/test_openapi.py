"""Each service's OpenAPI document: valid OpenAPI 3.1, served at /openapi.json, and
naming exactly the routes of the app's JSON API, so that a route added, removed or
renamed without the document (or the other way round) fails here."""
from __future__ import annotations

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

from common.openapi.security import with_security
from common.openapi.serving import description
from common.web.app import close_app
from msatom.bootstrap import FACTORIES, create_app, settings_from_env
from tests.support.drift import operations, routes


@pytest.fixture(scope="module", params=sorted(FACTORIES))
def app(request):
    settings = settings_from_env(request.param, {}).but(database_url="sqlite://", poll_interval_seconds=0)
    app = create_app(request.param, settings)
    yield app
    close_app(app)


def test_the_document_is_valid_openapi_3_1(app):
    document = app.test_client().get("/openapi.json").get_json()  # as served: with what signing in takes

    assert document["openapi"].startswith("3.1.")
    OpenAPIV31SpecValidator(document).validate()


def test_the_document_describes_every_route_of_the_json_api_and_nothing_else(app):
    assert routes(app) == operations(description(app).document)
    assert description(app).pages <= {rule.endpoint for rule in app.url_map.iter_rules()}


def test_a_route_missing_from_the_document_is_found(app):
    document = description(app).document
    path, item = next(iter(document["paths"].items()))
    shortened = {**document, "paths": {other: entry for other, entry in document["paths"].items() if other != path}}

    assert routes(app) - operations(shortened) == {(method.upper(), path) for method in item}


def test_the_document_is_served_at_openapi_json_for_any_cache_to_revalidate(app):
    client = app.test_client()

    response = client.get("/openapi.json", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == with_security(description(app).document, app)
    assert response.headers["Cache-Control"] == "no-cache"
    assert client.get("/openapi.json", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


def test_the_document_says_which_operations_need_a_token_as_the_access_table_does():
    app = create_app("order", settings_from_env("order", {}).but(database_url="sqlite://"))
    try:
        paths = app.test_client().get("/openapi.json").get_json()["paths"]
    finally:
        close_app(app)

    assert paths["/"]["post"]["security"] == [{"bearer": []}]
    assert {"401", "403"} <= paths["/{orderId}/cancel"]["post"]["responses"].keys()
    assert paths["/feed"]["get"]["security"] == [{"bearer": []}, {}]  # the thin pages need none
    assert "security" not in paths["/items"]["get"] and "401" not in paths["/items"]["get"]["responses"]
