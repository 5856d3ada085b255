"""What a service that follows a feed adds to its app: POST /poll, the retry of a
rejected entry, POST /rebuild, GET /status, and the poll words in every page."""
from __future__ import annotations

import math

from flask import Blueprint, Flask, abort, jsonify, redirect, request

from common import metrics
from common.auth.guard import add_rules
from common.auth.rules import allow
from common.errors import InputError
from common.feed.rebuilding import Rebuilder
from common.feed.running import Consumer
from common.negotiation import asks_for_json
from common.parts import consumer, parts, rebuilder
from common.poll_words import FeedLabels, ago, poll_words, within
from common.status import serve_status
from common.utc import utc_now
from common.web.app import settings_of

# How often an open page refreshes its poll words (common/static/app.js).
LIVE_REFRESH_SECONDS = 5


def install_rebuilder(app: Flask, rebuilder: Rebuilder, operators: tuple[str, ...]) -> None:
    """POST /rebuild, which the roles `operators` may use, and the rebuild's progress in
    every template."""
    parts(app).rebuilder = rebuilder
    add_rules(app, {"rebuilding.rebuild": allow(*operators, doing=f"rebuild {settings_of(app).service}")})
    app.register_blueprint(rebuilding)
    app.jinja_env.globals["rebuild_progress"] = rebuilder.progress
    metrics.live_gauges(app, rebuilder.progress, metrics.REBUILD_GAUGES)


def install_consumer(app: Flask, consumer: Consumer, operators: tuple[str, ...], labels: FeedLabels) -> None:
    """POST /poll and the retry of a rejected entry, which the roles `operators` may use,
    the poll words in every template (naming the feed by `labels`),
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
    metrics.live_gauges(app, consumer.rejected, metrics.REJECTED_GAUGES)
    app.jinja_env.globals["poll_words"] = lambda: poll_words(
        consumer.poll_state(), consumer.polling(), _next_try_seconds(app, consumer) if follows else None,
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
