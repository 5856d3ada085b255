"""Security of every service: the secret key, CSRF tokens on HTML forms, response headers.

HTML forms carry a token (Flask-WTF) that only a page of this service can know. The
JSON API needs none: a JSON body (`Content-Type: application/json`) cannot be sent
cross-site without a CORS preflight, which no service allows. A request that asks for
JSON (`Accept`) but sends no JSON body is let through only when the browser headers show
it did not come from another site: `Accept` is one of the headers a page of any site may
set on a cross-site `fetch` without a preflight, `Origin` and `Sec-Fetch-Site` are not.
"""
from __future__ import annotations

import logging
import secrets
from urllib.parse import urlsplit

from flask import Flask, jsonify, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import BadRequest

from common.negotiation import wants_html
from common.settings import Settings

log = logging.getLogger(__name__)

REFUSED = "The form has expired or did not come from this site; reload the page and try again."

HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


_ANY_PAGE = "posted_from_any_page"  # the endpoints whose forms may come from any page of the site


def secure(app: Flask, settings: Settings) -> None:
    """The secret key, CSRF protection of form posts and the security headers."""
    app.secret_key = settings.secret_key or secrets.token_hex(32)
    app.config.update(
        # The services share a host behind Apache: each keeps its own session cookie.
        SESSION_COOKIE_NAME=f"{settings.service}_session",
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_CHECK_DEFAULT=False,  # checked below, where the JSON API is told apart
    )
    app.session_interface = SessionCookieOverHttps()
    csrf = CSRFProtect(app)
    app.extensions[_ANY_PAGE] = set()

    @app.before_request
    def check_form_token():
        if request.method not in UNSAFE_METHODS or _json_api_call():
            return
        if request.endpoint in _from_any_page(app):
            if _from_another_site():
                raise CSRFError(REFUSED)
            return
        csrf.protect()

    app.register_error_handler(CSRFError, _refused)
    app.after_request(add_headers)


class SessionCookieOverHttps(SecureCookieSessionInterface):
    """The form's session cookie is `Secure` whenever the request came over https (as
    the trusted proxy says), as the sign-in cookie is."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure


def posted_from_any_page(app: Flask, endpoint: str) -> None:
    """Let the form of `endpoint` come from the pages of every service of the site (the
    header's "Sign out"): the token of one service's form is not another's, so the
    browser's own word that the post came from this site stands in for it."""
    _from_any_page(app).add(endpoint)


def _from_any_page(app: Flask) -> set[str]:
    return app.extensions[_ANY_PAGE]


def add_headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _json_api_call() -> bool:
    if request.is_json:
        return True
    return not wants_html() and not _from_another_site()


def _from_another_site() -> bool:
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return True
    origin = request.headers.get("Origin")
    return origin is not None and urlsplit(origin).netloc != request.host


def _refused(error: CSRFError):
    log.info("form post refused on %s %s: %s", request.method, request.path, error.description)
    if wants_html():
        return render_template("error.html", error=BadRequest(REFUSED)), 400
    return jsonify(error=REFUSED), 400
