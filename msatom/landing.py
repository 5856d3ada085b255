"""The landing page of `msatom run`: the one Apache serves in production."""
from __future__ import annotations

from flask import Flask, send_from_directory

from common.web import create_page_app
from msatom.stack import APACHE_HTDOCS


def create_landing_app() -> Flask:
    app = create_page_app(__name__, "landing", "microservice-atom")
    app.add_url_rule("/", "landing", lambda: send_from_directory(APACHE_HTDOCS, "index.html"))
    return app
