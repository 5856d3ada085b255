"""The landing page of `msatom run`: the one Apache serves in production."""
from __future__ import annotations

from flask import Flask, send_from_directory

from common.security import add_headers
from common.web.app import create_page_app
from msatom.bootstrap import NAVIGATION
from msatom.stack import APACHE_HTDOCS


def create_landing_app() -> Flask:
    app = create_page_app(__name__, "landing", "microservice-atom", NAVIGATION)
    app.after_request(add_headers)
    app.add_url_rule("/", "landing", lambda: send_from_directory(APACHE_HTDOCS, "index.html"))
    return app
