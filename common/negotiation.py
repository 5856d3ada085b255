"""Which representation the client of the current request prefers."""
from __future__ import annotations

from flask import request

from common.caching import negotiated


def wants_html() -> bool:
    """Browsers prefer HTML; `curl URL` (Accept: */*) and programs get JSON."""
    negotiated()
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def asks_for_json() -> bool:
    """The client named JSON above HTML: the JSON answer of an action that
    otherwise redirects a browser (a plain `curl -X POST` is redirected too)."""
    negotiated()
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"
