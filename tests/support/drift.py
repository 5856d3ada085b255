"""The operations a document describes and the routes an app has, in the same terms:
a test holds the two side by side, so that neither changes without the other."""
from __future__ import annotations

from flask import Flask

from common.openapi.paths import SKIPPED_METHODS, openapi_path
from common.openapi.serving import description

PLUMBING = {"common.static"}  # the pages' stylesheet and script


def operations(document: dict) -> set[tuple[str, str]]:
    """(METHOD, path) of every operation `document` describes."""
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item}


def routes(app: Flask) -> set[tuple[str, str]]:
    """(METHOD, path) of every route of `app`'s JSON API, the path as OpenAPI writes it:
    `/rejected/<int:entry_position>/retry` becomes `/rejected/{entryPosition}/retry`."""
    left_out = PLUMBING | description(app).pages
    return {(method, openapi_path(rule.rule)) for rule in app.url_map.iter_rules() if rule.endpoint not in left_out
            for method in (rule.methods or set()) - SKIPPED_METHODS}
