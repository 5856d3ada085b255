"""GET /metrics in Prometheus text format: requests, the feed's answers, the poller,
and the figures of GET /status.

Every app has its own CollectorRegistry, so one process can build many apps. Under
gunicorn with several workers, set PROMETHEUS_MULTIPROC_DIR (an empty folder per
service; msatom/gunicorn_conf.py empties it at start): every worker then writes its
numbers there and /metrics, whichever worker answers, reports the sum of all.
"""
from __future__ import annotations

import os
import time
from typing import Any, Callable

from flask import Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from common.caching import NOT_STORED
from common.feed.progress import Progress
from common.feed.running import PollResult

MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR"
OUTCOMES = ("200", "304", "error")
# Labels take a bounded set of values, or every made-up method a client sends would
# add series until a scrape takes seconds: methods outside this set count as "other".
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Metrics:
    feed_answers: Counter  # the feed's service's alone (count_feed_answers)

    def __init__(self):
        self.folder = os.environ.get(MULTIPROCESS)
        if self.folder:
            os.makedirs(self.folder, exist_ok=True)
        # In multiprocess mode the numbers live in the folder, not in a registry.
        self.registry = None if self.folder else CollectorRegistry()
        self.requests = self._make(Counter, "msatom_http_requests", "HTTP requests answered, by route and status",
                                   ["method", "route", "status"])
        self.durations = self._make(Histogram, "msatom_http_request_duration_seconds",
                                    "Time to answer an HTTP request, by route", ["method", "route"])
        self.feed_pages: dict[str, str] = {}  # endpoint -> page label
        self.live: list[Collector] = []  # read at each scrape (live_gauges)

    def _make(self, kind, name: str, documentation: str, labels=(), **options):
        return kind(name, documentation, labels, registry=self.registry, **options)

    def exposition(self) -> bytes:
        if self.registry is not None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, self.folder)
        for collector in self.live:
            registry.register(collector)
        return generate_latest(registry)

    def add_live(self, collector: Collector) -> None:
        self.live.append(collector)
        if self.registry is not None:
            self.registry.register(collector)


_KEY = "metrics"


def install(app: Flask) -> Metrics:
    """Count every request of `app` and serve GET /metrics."""
    metrics = app.extensions[_KEY] = Metrics()

    def started():
        g.msatom_started = time.perf_counter()

    app.before_request_funcs.setdefault(None, []).insert(0, started)  # before any hook that may answer
    app.after_request(_count)
    app.add_url_rule("/metrics", "metrics", _metrics_page)
    return metrics


def of(app: Flask) -> Metrics:
    """The metrics `install` gave `app`."""
    return app.extensions[_KEY]


def _count(response: Response) -> Response:
    metrics = of(current_app)
    route = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
    method = request.method if request.method in METHODS else "other"
    metrics.requests.labels(method, route, str(response.status_code)).inc()
    if "msatom_started" in g:
        metrics.durations.labels(method, route).observe(time.perf_counter() - g.msatom_started)
    page = metrics.feed_pages.get(request.endpoint or "")
    if page is not None:
        metrics.feed_answers.labels(page, str(response.status_code)).inc()
    return response


def _metrics_page():
    return Response(of(current_app).exposition(), content_type=CONTENT_TYPE_LATEST,
                    headers={"Cache-Control": NOT_STORED})


def count_feed_answers(app: Flask, pages: dict[str, str]) -> None:
    """Count the answers (200, 304, ...) of the feed's endpoints: {endpoint: page}."""
    metrics = of(app)
    metrics.feed_answers = metrics._make(Counter, "msatom_feed_responses",
                                         "Answers of the published feed, by page and status (304: nothing new)",
                                         ["page", "status"])
    for endpoint, page in pages.items():
        metrics.feed_pages[endpoint] = page
        for status in ("200", "304"):
            metrics.feed_answers.labels(page, status)


def waiting_gauge(app: Flask, places: int) -> Gauge:
    """The gauge of the requests a feed holds waiting for its next entry (long-poll);
    beside it, the `places` this process has for them."""
    metrics = of(app)
    metrics._make(Gauge, "msatom_feed_waiting_places", "Requests the feed's processes may hold waiting at once",
                  multiprocess_mode="livesum").set(places)
    return metrics._make(Gauge, "msatom_feed_waiting_requests",
                         "Requests to the feed held now until it grows or their wait is over (long-poll)",
                         multiprocess_mode="livesum")


def poll_observer(app: Flask) -> Callable[[PollResult, float], None]:
    """The poller's numbers; the function to hand each poll's result and duration."""
    metrics = of(app)
    polls = metrics._make(Counter, "msatom_feed_polls", "Polls of the feed followed, by outcome (200, 304, error)",
                          ["outcome"])
    imported = metrics._make(Counter, "msatom_feed_entries_imported", "Feed entries imported")
    rejected = metrics._make(Counter, "msatom_feed_entries_rejected",
                             "Feed entries whose documents could not be used (kept to retry)")
    duration = metrics._make(Histogram, "msatom_feed_poll_duration_seconds", "Time a poll took",
                             buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300))
    for outcome in OUTCOMES:
        polls.labels(outcome)

    def observe(result: PollResult, seconds: float) -> None:
        polls.labels(str(result.status)).inc()
        imported.inc(result.imported)
        rejected.inc(result.rejected)
        duration.observe(seconds)

    return observe


# A figure of GET /status as a gauge: (its documentation, the figure from what is read).
Figure = tuple[str, Callable[[Any], float]]
CONSUMER_GAUGES: dict[str, Figure] = {
    "msatom_feed_consumer_position": ("The last feed position that took effect", lambda p: p.position),
    "msatom_feed_consumer_lag_entries": ("Entries of the feed not yet applied, as the last poll that could tell "
                                         "found them", lambda p: p.entries_behind),
    "msatom_feed_consumer_lag_seconds": ("Age of the oldest entry of the feed not yet applied; 0 when none is",
                                         lambda p: p.seconds_behind),
    "msatom_feed_consumer_last_poll_timestamp_seconds": (
        "When the last poll of the feed ended, whatever its outcome, in seconds since 1970; 0 before the first",
        lambda p: p.polled_at.timestamp() if p.polled_at else 0.0),
}
REJECTED_GAUGES: dict[str, Figure] = {
    "msatom_feed_rejected_entries": ("Feed entries whose documents could not be used, kept to retry", len),
}
REBUILD_GAUGES: dict[str, Figure] = {
    "msatom_rebuild_failed": ("1 when the last rebuild from the feed failed (the copy in use is the one before it)",
                              lambda progress: 1.0 if progress.status == "failed" else 0.0),
}


def live_gauges(app: Flask, read: Callable[[], object], gauges: dict[str, Figure]) -> None:
    """Gauges whose values are read at each scrape, as GET /status reads them (from the
    service's database): the same whichever process answers, and as old as the scrape."""
    of(app).add_live(_LiveGauges(read, gauges))


class _LiveGauges(Collector):
    def __init__(self, read: Callable[[], object], gauges: dict[str, Figure]):
        self.read, self.gauges = read, gauges

    def collect(self):
        try:
            figures = self.read()
        except SQLAlchemyError:  # the database is away: no figure rather than a wrong one
            return
        for name, (documentation, figure) in self.gauges.items():
            yield GaugeMetricFamily(name, documentation, value=figure(figures))


def rebuild_observer(app: Flask) -> Callable[[Progress], None]:
    """The rebuild's gauges; the function to hand its progress after every batch."""
    metrics = of(app)
    running = metrics._make(Gauge, "msatom_rebuild_running", "1 while a rebuild from the feed runs, else 0",
                            multiprocess_mode="mostrecent")
    position = metrics._make(Gauge, "msatom_rebuild_position",
                             "The last feed entry the running (or last) rebuild took",
                             multiprocess_mode="mostrecent")
    left = metrics._make(Gauge, "msatom_rebuild_entries_left",
                         "Feed entries the running rebuild has still to take, as it last read the feed",
                         multiprocess_mode="mostrecent")

    def observe(progress: Progress) -> None:
        running.set(1 if progress.running else 0)
        position.set(progress.position)
        left.set(progress.left)

    return observe
