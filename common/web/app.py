"""An app with the shared layout and its plumbing: security, health, metrics, limits."""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, jsonify
from werkzeug.routing import IntegerConverter

from common import caching, metrics, request_id
from common.auth.guard import install_guard
from common.auth.revocations import Revocations
from common.auth.rules import PUBLIC, Rule
from common.db import Database
from common.money import money_text
from common.numbers import MAX_INT, digits_up_to
from common.parts import database, hold, parts
from common.origins import PublicOrigins
from common.proxies import TrustedProxyFix
from common.security import secure
from common.settings import Settings
from common.web import errors

# The most a request body may hold; Apache refuses more before a service sees it.
MAX_BODY_BYTES = 1024 * 1024
# Common's own routes: no personal data. /metrics is for the internal network only
# (Apache refuses it), where Prometheus scrapes it without a token.
PLUMBING_RULES = {"health": PUBLIC, "common.static": PUBLIC, "metrics": PUBLIC, "status": PUBLIC, "openapi": PUBLIC}

# Named for the package whose templates and static files it serves, not for this module.
plumbing = Blueprint("common", "common", template_folder="templates",
                     static_folder="static", static_url_path="/static")


class IdConverter(IntegerConverter):
    """`<id:name>` in a route: ASCII digits (werkzeug's `int` matches any script's) up to
    the database's integer. A larger number names nothing, so no route matches it (404);
    in the regex, not only in the conversion: werkzeug answers 405 when another method's
    route on the same path matched the path before its conversion failed."""

    regex = digits_up_to(MAX_INT)

    def __init__(self, map):
        super().__init__(map, max=MAX_INT)


Navigation = tuple[tuple[str, str], ...]  # (the path of a service's pages under /, its title)


def create_page_app(import_name: str, service: str, title: str, navigation: Navigation = ()) -> Flask:
    """An app with the shared layout and stylesheet, whose header links to `navigation`,
    and nothing else yet."""
    app = Flask(import_name, static_folder=None)
    app.url_map.converters["id"] = IdConverter
    app.json.sort_keys = False  # type: ignore[attr-defined]  # Flask's documented switch; typed as the base provider
    app.register_blueprint(plumbing)
    caching.install(app)
    app.jinja_env.globals.update(service=service, service_title=title, navigation=navigation)
    app.jinja_env.filters["money"] = money_text
    return app


def create_service_app(import_name: str, settings: Settings, db: Database, title: str, access: dict[str, Rule],
                       revocations: Revocations | None = None, navigation: Navigation = ()) -> Flask:
    """A service's app on `db` that lets each request through only as `access` (the
    service's table, endpoint -> Rule) and common's own rules allow; once its routes are
    all there, `check_rules(app)` refuses it if one has no rule."""
    app = create_page_app(import_name, settings.service, title, navigation)
    app.config["SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    # Behind Apache the host, scheme and mount prefix arrive as X-Forwarded-*, believed
    # only from TRUSTED_PROXIES: they shape links that caches keep for a year.
    # The origin they name must be one the service answers for (PUBLIC_URL).
    app.wsgi_app = TrustedProxyFix(PublicOrigins(app.wsgi_app, settings.public_url),  # type: ignore[method-assign]
                                   settings.trusted_proxies)  # Flask's way
    hold(app, db)
    install_guard(app, {**PLUMBING_RULES, **access}, settings, revocations)  # before the form check: 401 first
    secure(app, settings)
    app.add_url_rule("/health", "health", health)
    request_id.install(app)
    metrics.install(app)
    errors.install(app)
    return app


def settings() -> Settings:
    return settings_of(current_app)


def settings_of(app: Flask) -> Settings:
    return app.config["SETTINGS"]


def health():
    headers = {"Cache-Control": caching.NOT_STORED}
    if database().ping():
        return jsonify(status="ok"), 200, headers
    # Up or down, and no more: /health is public through Apache.
    return jsonify(status="unavailable"), 503, headers


def close_app(app: Flask) -> None:
    """Stop what the app started: its following of the feed, a rebuild, its connections
    to the feed's server and to its database."""
    held = parts(app)
    if held.rebuilder is not None:
        held.rebuilder.close()
        held.rebuilder.copy.dispose()
        held.rebuilder.client.close()
    if held.following is not None:
        held.following.stop()
    if held.schedule is not None:
        held.schedule.shutdown(wait=True)
    if held.consumer is not None:
        held.consumer.client.close()
    if held.long_poll is not None:
        held.long_poll.close()  # answers the requests it holds, stops listening
    held.rebuilder = held.following = held.schedule = None
    held.db.dispose()
