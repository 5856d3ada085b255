"""What caches may keep of each answer, said explicitly on every one.

The default is `private, no-cache`: a browser may keep a page but must ask before
using it, and no shared cache stores it, so personal data never lands where it could
not be taken back. What a shared cache may keep says so where it is answered (the
feed: `no-cache`; a full archive page: `public, immutable`). An answer that depends
on `Accept` (HTML for browsers, JSON for programs) says `Vary: Accept`, so that no
cache hands one client's representation to another.
"""
from __future__ import annotations

from flask import Flask, g, make_response, request

YEAR = 365 * 24 * 3600
PUBLIC_IMMUTABLE = f"public, max-age={YEAR}, immutable"
PRIVATE_IMMUTABLE = f"private, max-age={YEAR}, immutable"
SHARED_REVALIDATE = "no-cache"  # any cache may keep it, and asks the service before each use
PRIVATE_REVALIDATE = "private, no-cache"
NOT_STORED = "no-store"  # health, metrics, status: a copy would only mislead


def install(app: Flask) -> None:
    app.after_request(_declare)


def negotiated() -> None:
    """Note that the answer to this request depends on its Accept header."""
    g.negotiated = True


def conditional(rv):
    """A view's answer with a strong ETag of its body, or 304 when the client's copy
    matches it: for documents that change (no-cache), so that asking is cheap."""
    response = make_response(rv)
    response.add_etag()
    return response.make_conditional(request)


def _declare(response):
    if g.get("negotiated"):
        response.vary.add("Accept")
    response.headers.setdefault("Cache-Control", PRIVATE_REVALIDATE)
    return response
