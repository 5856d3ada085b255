"""Every route of every app, and what its service's access table says of it: the
requests to send (each route with sample values, and its `?embed` variants), who is
let through, and what a refusal looks like. Used by the access tests on Flask test
clients (integration) and through Apache on the stack (e2e)."""
from __future__ import annotations

import itertools
from datetime import timedelta

from flask import request

from common.auth import tokens
from common.auth.keys import SigningKey
from common.auth.rules import ADMIN
from common.utc import utc_now
from tests.integration.support import BROWSER_ACCEPT

ROLES = (None, "sales", "accounting", "logistics", "feed-reader", ADMIN)
_ACCOUNTS = itertools.count(1)
SAMPLE = {"IdConverter": 1, "IntegerConverter": 1, "PathConverter": "style.css", "UnicodeConverter": "x"}


def sample_path(app, rule, method: str) -> str:
    """A path of the route, with a sample value for each of its variables."""
    values = {name: SAMPLE[type(converter).__name__] for name, converter in rule._converters.items()}
    return app.url_map.bind("localhost").build(rule.endpoint, values, method=method)


def requests_of(app):
    """(endpoint, method, path) of every route, for each way its rule may open it."""
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            path = sample_path(app, rule, method)
            yield rule.endpoint, method, path
            if rule.endpoint.endswith(("feed", "feed_archive", "feed_after")):
                yield rule.endpoint, method, path + "?embed=documents"


def headers_for(key: SigningKey, role: str | None, html: bool) -> dict:
    """What a browser (`html`) or a program signed in with `role` (None: not signed in)
    sends; each for an account of its own, so that one request signing out everywhere
    refuses no other's token."""
    headers = {"Accept": BROWSER_ACCEPT if html else "application/json"}
    if role is not None:
        signed = tokens.issue(key, f"someone-{role}-{next(_ACCOUNTS)}", [role], timedelta(hours=1), utc_now())
        headers["Authorization"] = f"Bearer {signed}"
    return headers


def opens(app, rule, method: str, path: str) -> bool:
    """Whether `rule` lets anyone make this request."""
    with app.test_request_context(path, method=method):
        return rule.opens(request)


def refused(response) -> bool:
    """Whether the answer refuses the caller: 401, 403, or a browser sent to sign in."""
    return response.status_code in (401, 403) or (
        response.status_code == 303 and "/account/sign-in?next=" in response.headers["Location"])
