"""GET /status: a service's own state now, as JSON, for whoever watches the flow
across the services (the landing page); no service reads another's database, so
each tells its own."""
from __future__ import annotations

from typing import Callable

from flask import Flask, jsonify

from common.caching import NOT_STORED


def serve_status(app: Flask, figures: Callable[[], dict]) -> None:
    """GET /status: the service's name and `figures()`, read anew for each request,
    as JSON whatever the client prefers (it is data, not a page)."""
    service = app.config["SETTINGS"].service

    def status():
        # Out of date as soon as it is sent: no cache may keep it.
        return jsonify(service=service, **figures()), 200, {"Cache-Control": NOT_STORED}

    app.add_url_rule("/status", "status", status)
