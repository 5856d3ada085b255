"""Web plumbing shared by the services: app set-up, layout, errors, health, polling."""
from __future__ import annotations

import logging
import math
from typing import Any, Callable

from flask import Blueprint, Flask, abort, current_app, jsonify, redirect, render_template, request, url_for
from sqlalchemy import Select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from werkzeug.exceptions import BadRequest, HTTPException, NotFound, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from common import caching, metrics, request_id
from common.auth.guard import add_rules, install_guard
from common.auth.revocations import Revocations
from common.auth.rules import PUBLIC, Rule, allow
from common.db import Database
from common.errors import InputError
from common.listing import Columns, Search, listing, search_from
from common.money import money_text
from common.negotiation import asks_for_json, wants_html
from common.numbers import MAX_INT, digits_up_to
from common.paging import fetch_page, page_number
from common.proxies import TrustedProxyFix
from common.feed.running import Consumer
from common.feed.rebuilding import Rebuilder
from common.parts import consumer, database, hold, parts, rebuilder
from common.poll_words import FeedLabels, ago, poll_status, within
from common.security import secure
from common.settings import Settings
from common.status import serve_status
from common.utc import utc_now

log = logging.getLogger(__name__)

# The most a request body may hold; Apache refuses more before a service sees it.
MAX_BODY_BYTES = 1024 * 1024
# werkzeug's own sentence ("The data value transmitted exceeds the capacity limit.") tells
# nobody what to do. Apache's 413 says the same (apache/htdocs/error/413.*).
TOO_LARGE = "The request body is larger than 1 MiB, the most a service accepts."
# How often an open page refreshes its poller state (common/static/app.js).
LIVE_REFRESH_SECONDS = 5
# Common's own routes: no personal data. /metrics is for the internal network only
# (Apache refuses it), where Prometheus scrapes it without a token.
PLUMBING_RULES = {"health": PUBLIC, "common.static": PUBLIC, "metrics": PUBLIC, "status": PUBLIC, "openapi": PUBLIC}

plumbing = Blueprint("common", __name__, template_folder="templates",
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
    app.wsgi_app = TrustedProxyFix(app.wsgi_app, settings.trusted_proxies)  # type: ignore[method-assign]  # Flask's way
    hold(app, db)
    install_guard(app, {**PLUMBING_RULES, **access}, settings, revocations)  # before the form check: 401 first
    secure(app, settings)
    app.add_url_rule("/health", "health", health)
    request_id.install(app)
    metrics.install(app)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(InputError, _input_error)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(Exception, _unexpected_error)
    return app


def settings() -> Settings:
    return settings_of(current_app)


def settings_of(app: Flask) -> Settings:
    return app.config["SETTINGS"]


def respond(data: Callable[[], Any], template: str, status: int = 200, **context):
    """The same resource as an HTML page or as JSON, as the client prefers."""
    if wants_html():
        return render_template(template, **context), status
    return jsonify(data()), status


def respond_page(session: Session, query: Select, item_json: Callable[[Any], Any], template: str,
                 search: Search = Search(), **context):
    """The page of what `query` selects that the request asks for (`?page=`, from 1), as
    HTML or as a JSON array, with `Link` headers (RFC 8288) to the newer (`prev`) and
    older (`next`) pages, which ask for the same `search`."""
    page = fetch_page(session, query, page_number(request.args.get("page")))
    if page.number > page.count:
        abort(404, f"There is no page {page.number}; the list has {page.count}.")
    body, status = respond(lambda: [item_json(item) for item in page.items], template, page=page, search=search,
                           **context)
    endpoint, arguments = request.endpoint or "", request.view_args or {}  # a routed request has both
    links = [f'<{url_for(endpoint, **arguments, **search.args(page=number), _external=True)}>; '
             f'rel="{rel}"' for rel, number in (("prev", page.newer), ("next", page.older)) if number]
    return body, status, {"Link": ", ".join(links)} if links else {}


def respond_list(session: Session, query: Select, columns: Columns, item_json: Callable[[Any], Any], template: str,
                 **context):
    """`respond_page` of a list that finds things: the rows of a status (`?status=`) that
    hold the words searched for (`?q=`) in `columns`; the template also gets `listing`,
    the count of each status."""
    search = search_from(request.args, columns.statuses, columns.hint)
    found, shown = listing(session, query, columns, search)
    return respond_page(session, shown, item_json, template, search=search, listing=found, **context)


class NotCopiedYet(NotFound):
    """404 for what this service has not read from the feed yet: its page links to
    the original, in the service the feed comes from."""

    def __init__(self, description: str, original_href: str, original_label: str):
        super().__init__(description)
        self.original = (original_href, original_label)


def health():
    headers = {"Cache-Control": caching.NOT_STORED}
    if database().ping():
        return jsonify(status="ok"), 200, headers
    # Up or down, and no more: /health is public through Apache.
    return jsonify(status="unavailable"), 503, headers


def _http_error(error: HTTPException):
    # The error's own headers, such as the Allow of a 405, with a body of ours.
    headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
    if wants_html():
        return render_template("error.html", error=error), error.code, headers
    return jsonify(error=error.description), error.code, headers


def _too_large(_error: RequestEntityTooLarge):
    return _http_error(RequestEntityTooLarge(TOO_LARGE))


def _input_error(error: InputError):
    if wants_html():
        return render_template("error.html", error=BadRequest(error.message)), 400
    return jsonify(error=error.message, details=error.details), 400


def _database_unavailable(error: OperationalError):
    log.warning("database unavailable on %s %s: %s", request.method, request.path, error.orig)
    message = "The service's database does not answer; please try again in a moment."
    body = render_template("error.html", error=None, message=message) if wants_html() else jsonify(error=message)
    return body, 503, {"Retry-After": "5"}


def _unexpected_error(error: Exception):
    log.exception("unhandled error on %s %s", request.method, request.path)
    if wants_html():
        return render_template("error.html", error=None), 500
    return jsonify(error="Something went wrong on our side; please try again."), 500


def install_rebuilder(app: Flask, rebuilder: Rebuilder, operators: tuple[str, ...]) -> None:
    """POST /rebuild, which the roles `operators` may use, and the rebuild's progress in
    every template."""
    parts(app).rebuilder = rebuilder
    add_rules(app, {"rebuilding.rebuild": allow(*operators, doing=f"rebuild {settings_of(app).service}")})
    app.register_blueprint(rebuilding)
    app.jinja_env.globals["rebuild_progress"] = rebuilder.progress


def install_consumer(app: Flask, consumer: Consumer, operators: tuple[str, ...], labels: FeedLabels) -> None:
    """POST /poll and the retry of a rejected entry, which the roles `operators` may use,
    the poller's state in every template (in words that name the feed by `labels`),
    GET /status and its gauges. What runs the polls by itself is the caller's to start
    (with settings.poll_interval_seconds > 0)."""
    parts(app).consumer = consumer
    add_rules(app, {"polling.poll_now": allow(*operators, doing="make this service poll the feed it follows"),
                    "polling.retry_rejected": allow(*operators, doing="retry rejected entries")})
    app.register_blueprint(polling)
    config = settings_of(app)
    interval_seconds, wait_seconds = config.poll_interval_seconds, config.poll_wait_seconds
    follows = interval_seconds > 0
    serve_status(app, lambda: consumer.standing(follows).as_json())
    metrics.live_gauges(app, lambda: consumer.standing(follows), metrics.CONSUMER_GAUGES)
    app.jinja_env.globals["poll_status"] = lambda: poll_status(
        consumer.state(), consumer.polling(), _next_try_seconds(app, consumer) if follows else None,
        consumer.clock(), labels)
    app.jinja_env.filters.update(ago=ago, within=within)
    app.jinja_env.globals["rejected_entries"] = consumer.rejected
    app.jinja_env.globals["feed_labels"] = labels
    app.jinja_env.globals["refresh_seconds"] = LIVE_REFRESH_SECONDS
    app.jinja_env.globals["poll_waits"] = interval_seconds > 0 and wait_seconds > 0


def _next_try_seconds(app: Flask, consumer: Consumer) -> float | None:
    """When this process tries the feed again by itself after a failure: on a
    schedule, at its first run after the back-off; following the feed, when the
    back-off ends (None without one: the failure was another process's)."""
    backoff = consumer.backoff_seconds()
    scheduler = parts(app).schedule
    if scheduler is None:
        return backoff or None
    job = scheduler.get_job("poll")
    interval = job.trigger.interval.total_seconds()
    due = max(0.0, (job.next_run_time - utc_now()).total_seconds())
    # A run still within the back-off does nothing; the one after it tries.
    return due + max(0, math.ceil((backoff - due) / interval)) * interval


def close_app(app: Flask) -> None:
    """Stop what the app started: its following of the feed, a rebuild, its database connections."""
    held = parts(app)
    if held.rebuilder is not None:
        held.rebuilder.close()
        held.rebuilder.copy.dispose()
    if held.following is not None:
        held.following.stop()
    if held.schedule is not None:
        held.schedule.shutdown(wait=True)
    if held.long_poll is not None:
        held.long_poll.close()  # answers the requests it holds, stops listening
    held.rebuilder = held.following = held.schedule = None
    held.db.dispose()


polling = Blueprint("polling", __name__)


@polling.post("/rejected/<id:position>/retry")
def retry_rejected(position: int):
    retried = consumer().retry(position)
    if asks_for_json():
        return jsonify(imported=retried.imported, message=retried.message)
    return redirect(request.script_root + "/", code=303)


@polling.post("/poll")
def poll_now():
    result = consumer().poll()
    if result is None:  # it waits for another process's poll: none only once the app closes
        abort(503, STOPPING)
    if asks_for_json():
        return jsonify(result.as_json())
    return redirect(request.script_root + "/", code=303)


STOPPING = "The service is stopping; poll again once it is back."
rebuilding = Blueprint("rebuilding", __name__)
REBUILD_RUNNING = "A rebuild is running already; its progress is on the service's start page."
CONFIRM_REBUILD = "Tick the box to confirm the rebuild, then press the button again."


@rebuilding.post("/rebuild")
def rebuild():
    """Start a rebuild: JSON 202 and its progress (409 while one runs); a form post
    from the start page, whose box confirms it, redirects back to that page."""
    json_call = asks_for_json()
    if not json_call and request.form.get("confirm") != "yes":
        raise InputError(CONFIRM_REBUILD, {"confirm": "Tick the box to confirm."})
    progress = rebuilder().start()
    if json_call:
        if progress is None:
            return jsonify(error=REBUILD_RUNNING), 409
        return jsonify(progress.as_json()), 202
    return redirect(request.script_root + "/", code=303)
