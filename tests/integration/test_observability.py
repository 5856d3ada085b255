"""What an operator sees: GET /metrics on every service, and request ids that lead
from a poll in a consumer's log to the order service's requests."""
from __future__ import annotations

import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families
from werkzeug.wrappers import Request

from common.logs import TEXT_FORMAT, IdsFilter
from msatom.stack import free_port
from tests.conftest import live_server
from tests.support.orders import order_request
from tests.integration.support import Origin, place_order

JSON = {"Accept": "application/json"}


def metrics(app) -> dict:
    """{(sample name, sorted labels): value} from the app's /metrics, parsed as Prometheus does."""
    response = app.test_client().get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.get_data(as_text=True))
            for sample in family.samples}


def value(app, name: str, **labels) -> float:
    return metrics(app).get((name, tuple(sorted(labels.items()))), 0.0)


def poll(app, **headers) -> dict:
    response = app.test_client().post("/poll", headers={**JSON, **headers})
    assert response.status_code == 200
    return response.get_json()


class Recorder:
    """In front of an app: notes (path, X-Request-Id) of every request."""

    def __init__(self, inner):
        self.inner, self.seen = inner, []

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.seen.append((request.path, request.headers.get("X-Request-Id")))
        return self.inner(environ, start_response)


@pytest.fixture
def recorded_order(make_app, settings_for):
    """(Recorder, base URL): an order service with pages of 2 entries, noting every request."""
    front = Recorder(make_app("order", settings_for("order", feed_page_size=2)))
    with live_server(front) as url:
        yield front, url


@pytest.mark.parametrize("service", ["order", "invoicing", "shipping"])
def test_every_service_answers_metrics_in_prometheus_text(service, make_app, settings_for):
    app = make_app(service, settings_for(service))
    app.test_client().get("/health")

    assert value(app, "msatom_http_requests_total", method="GET", route="/health", status="200") == 1
    assert value(app, "msatom_http_request_duration_seconds_count", method="GET", route="/health") == 1


def test_an_order_placed_counts_a_201_on_its_route_not_its_path(order_app):
    client = order_app.test_client()
    placed = client.post("/", json=order_request())
    client.get(f"/{placed.get_json()['id']}", headers=JSON)
    client.get("/999", headers=JSON)

    assert value(order_app, "msatom_http_requests_total", method="POST", route="/", status="201") == 1
    assert value(order_app, "msatom_http_requests_total", method="GET", route="/<id:order_id>", status="200") == 1
    assert value(order_app, "msatom_http_requests_total", method="GET", route="/<id:order_id>", status="404") == 1
    assert not [key for key in metrics(order_app) if ("route", "/999") in key[1]]


def test_a_thousand_made_up_methods_add_one_series_not_a_thousand(order_app):
    client = order_app.test_client()
    metrics(order_app)  # a scrape counts itself
    before = metrics(order_app)
    for number in range(1000):
        assert client.open("/", method=f"FORGED{number}").status_code == 405

    added = {(name, labels) for name, labels in metrics(order_app) if (name, labels) not in before}
    requests = {labels for name, labels in added if name == "msatom_http_requests_total"}
    assert requests == {(("method", "other"), ("route", "(unmatched)"), ("status", "405"))}
    assert value(order_app, "msatom_http_requests_total", method="other", route="(unmatched)", status="405") == 1000
    assert {dict(labels)["method"] for _, labels in added} == {"other"}


def test_conditional_gets_of_the_feed_and_its_archive_count_as_304(make_app, settings_for):
    app = make_app("order", settings_for("order", feed_page_size=1))
    client = app.test_client()
    client.post("/", json=order_request())
    client.post("/", json=order_request())
    for path in ("/feed", "/feed/archive/1"):
        first = client.get(path)
        assert client.get(path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304

    for page in ("subscription", "archive"):
        assert value(app, "msatom_feed_responses_total", page=page, status="200") == 1
        assert value(app, "msatom_feed_responses_total", page=page, status="304") == 1


def test_a_poll_that_imports_three_orders_counts_them(order_url, consumer_app):
    app = consumer_app("invoicing", order_url + "/feed")
    for _ in range(3):
        place_order(order_url)

    assert poll(app)["imported"] == 3
    assert poll(app)["status"] == 304

    assert value(app, "msatom_feed_entries_imported_total") == 3
    assert value(app, "msatom_feed_polls_total", outcome="200") == 1
    assert value(app, "msatom_feed_polls_total", outcome="304") == 1
    assert value(app, "msatom_feed_polls_total", outcome="error") == 0
    assert value(app, "msatom_feed_poll_duration_seconds_count") == 2
    assert value(app, "msatom_feed_consumer_lag_entries") == 0


def test_a_poll_against_a_stopped_feed_counts_an_error(consumer_app):
    app = consumer_app("shipping", f"http://127.0.0.1:{free_port()}/feed")

    assert poll(app)["status"] == "error"

    assert value(app, "msatom_feed_polls_total", outcome="error") == 1
    assert value(app, "msatom_feed_entries_imported_total") == 0


def test_the_lag_is_the_entries_a_poll_left_behind(origin, consumer_app):
    front, base = origin
    app = consumer_app("invoicing", base + "/feed", embedded_documents=False)
    for _ in range(3):
        place_order(base)
    front.detail_failure = "500"

    assert poll(app)["pending"] == 3
    assert value(app, "msatom_feed_consumer_lag_entries") == 3

    front.detail_failure = None
    assert poll(app)["imported"] == 3
    assert value(app, "msatom_feed_consumer_lag_entries") == 0


def test_gauges_tell_the_positions_and_the_age_of_the_oldest_entry_not_applied(make_app, settings_for, clock):
    order = make_app("order", settings_for("order", clock=clock))
    front = Origin(order)
    with live_server(front) as base:
        app = make_app("shipping", settings_for("shipping", feed_url=base + "/feed", clock=clock,
                                                embedded_documents=False))
        place_order(base)
        place_order(base)
        clock.advance(seconds=7)
        front.detail_failure = "500"
        poll(app)

        assert value(order, "msatom_feed_published_position") == 2
        assert value(app, "msatom_feed_consumer_position") == 0
        assert value(app, "msatom_feed_consumer_lag_entries") == 2
        assert value(app, "msatom_feed_consumer_lag_seconds") == 7
        clock.advance(seconds=5)  # read at the scrape, not at the poll
        assert value(app, "msatom_feed_consumer_lag_seconds") == 12

        front.detail_failure = None
        poll(app)
    assert [value(app, f"msatom_feed_consumer_{name}") for name in ("position", "lag_entries", "lag_seconds")] == [
        2, 0, 0]


def test_a_poll_sends_one_request_id_on_all_its_requests_and_logs_it(recorded_order, consumer_app, caplog):
    front, base = recorded_order
    app = consumer_app("invoicing", base + "/feed", embedded_documents=False)
    for _ in range(3):
        place_order(base)  # two pages: the subscription document links to a full archive page
    caplog.handler.addFilter(IdsFilter())
    caplog.handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    front.seen.clear()

    with caplog.at_level(logging.INFO, logger="common.feed.running"):
        assert poll(app)["imported"] == 3
        assert poll(app)["status"] == 304

    first = [(path, rid) for path, rid in front.seen[:-1]]
    ids = {rid for _, rid in first}
    assert {path for path, _ in first} == {"/feed", "/feed/after/0", "/feed/archive/1", "/feed/archive/2",
                                            "/1/versions/1", "/2/versions/1", "/3/versions/1"}
    assert len(ids) == 1 and None not in ids
    (poll_id,) = ids
    assert front.seen[-1][0] == "/feed" and front.seen[-1][1] not in (None, poll_id)
    assert any(f"[{poll_id}]" in line and "imported 3" in line for line in caplog.text.splitlines())


def test_poll_now_carries_the_request_id_it_came_with_and_refuses_a_malformed_one(recorded_order, consumer_app):
    front, base = recorded_order
    app = consumer_app("shipping", base + "/feed")

    poll(app, **{"X-Request-Id": "YWJjZGVm-from-apache"})
    poll(app, **{"X-Request-Id": "forged\tid"})

    assert front.seen[0] == ("/feed", "YWJjZGVm-from-apache")
    assert front.seen[1][1] not in (None, "forged\tid")
