"""GET /openapi.json: the service's OpenAPI document, kept with the app."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, jsonify

from common.caching import SHARED_REVALIDATE, conditional
from common.openapi.security import with_security


@dataclass(frozen=True)
class Description:
    document: dict
    pages: frozenset[str]  # endpoints of HTML pages only, which the document leaves out


_KEY = "openapi"


def serve_document(app: Flask, document: dict, pages: tuple[str, ...] = ()) -> None:
    """Serve `document` at GET /openapi.json; `pages` are the endpoints it leaves out."""
    app.extensions[_KEY] = Description(document, frozenset(pages))
    app.add_url_rule("/openapi.json", "openapi", _serve)


def description(app: Flask) -> Description:
    return app.extensions[_KEY]


def _serve():
    # The same for every client and free of personal data: any cache may keep it, and
    # asks again before each use, since a new release changes it.
    response = conditional(jsonify(with_security(description(current_app).document, current_app)))
    response.headers["Cache-Control"] = SHARED_REVALIDATE
    return response
