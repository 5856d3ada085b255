"""The landing page of a whole deployment, linking to the three services."""
from __future__ import annotations

from flask import Flask, render_template

from common.web import create_page_app


def create_landing_app() -> Flask:
    app = create_page_app(__name__, "landing", "microservice-atom")
    app.add_url_rule("/", "landing", lambda: render_template("landing.html"))
    return app
