"""The landing page of `msatom run`: the one Apache serves in production, with
Apache's not-found answer for any other path outside the services."""
from __future__ import annotations

from flask import Flask, Response, send_from_directory

from common.negotiation import wants_html
from common.security import add_headers
from common.web.app import create_page_app
from msatom.apache_errors import FOLDER as ERROR_DOCUMENTS
from msatom.bootstrap import NAVIGATION
from msatom.stack import APACHE_HTDOCS


def create_landing_app() -> Flask:
    app = create_page_app(__name__, "landing", "microservice-atom", NAVIGATION)
    app.after_request(add_headers)
    app.add_url_rule("/", "landing", lambda: send_from_directory(APACHE_HTDOCS, "index.html"))
    app.register_error_handler(404, _not_found)
    return app


def _not_found(_error) -> Response:
    # As Apache chooses (apache/httpd.conf): a page for a browser, JSON for the rest.
    name, media_type = ("404.html", "text/html") if wants_html() else ("404.json", "application/json")
    return Response((ERROR_DOCUMENTS / name).read_text(), 404, mimetype=media_type)
