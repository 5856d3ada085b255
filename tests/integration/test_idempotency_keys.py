"""Placing an order exactly once: a request with an Idempotency-Key and its retries get
one answer and make one order, one feed entry. On SQLite and PostgreSQL."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from common.idempotency import store
from order.models import FeedEntry, IdempotencyKey, Order
from order.openapi import document
from tests.conftest import order_request
from tests.integration.support import assert_refused

KEY = "8e03978e-40d5-43e8-bc93-6894a57f9324"


def keyed(key: str = KEY) -> dict:
    return {"Idempotency-Key": f'"{key}"'}


@pytest.fixture
def app(make_app, settings_for, database_url, clock):
    return make_app("order", settings_for("order", database_url=database_url, clock=clock))


@pytest.fixture
def api(app):
    return app.test_client()


def stored(app) -> dict[str, int]:
    """How many orders, feed entries and kept keys the database holds."""
    with app.extensions["db"].session() as session:
        return {table.__tablename__: session.scalar(select(func.count()).select_from(table))
                for table in (Order, FeedEntry, IdempotencyKey)}


def answer(response) -> tuple:
    return response.status_code, response.get_data(), response.headers.get("Location")


# --- the JSON API -----------------------------------------------------------------------

def test_a_retry_with_the_same_key_gets_the_first_answer_and_places_nothing(app, api):
    first = api.post("/", json=order_request(), headers=keyed())

    again = [api.post("/", json=order_request(), headers=keyed()) for _ in range(2)]

    assert first.status_code == 201 and first.headers["Location"].endswith(f"/{first.get_json()['id']}")
    assert [answer(retry) for retry in again] == [answer(first)] * 2
    assert again[0].mimetype == "application/json"
    assert stored(app) == {"purchase_order": 1, "feed_entry": 1, "idempotency_key": 1}


def test_a_retry_written_differently_is_the_same_request(app, api):
    first = api.post("/", json=order_request(), headers=keyed())
    rewritten = json.dumps(dict(reversed(order_request().items())), indent=4)

    again = api.post("/", data=rewritten, headers={**keyed(), "Content-Type": "application/json; charset=utf-8"})

    assert answer(again) == answer(first)
    assert stored(app)["purchase_order"] == 1


def test_the_same_key_with_another_body_is_422_and_stores_nothing(app, api):
    first = api.post("/", json=order_request(), headers=keyed())

    other = api.post("/", json=order_request(customer_id=2), headers=keyed())

    assert other.status_code == 422
    assert set(other.get_json()) == {"error"} and "Idempotency-Key" in other.get_json()["error"]
    assert stored(app) == {"purchase_order": 1, "feed_entry": 1, "idempotency_key": 1}
    assert answer(api.post("/", json=order_request(), headers=keyed())) == answer(first)


def test_each_key_places_its_own_order(app, api):
    first = api.post("/", json=order_request(), headers=keyed("one"))
    second = api.post("/", json=order_request(), headers=keyed("two"))

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.get_json()["id"] != second.get_json()["id"]
    assert stored(app) == {"purchase_order": 2, "feed_entry": 2, "idempotency_key": 2}


def test_without_a_key_every_request_places_an_order_as_before(app, api):
    answers = [api.post("/", json=order_request()) for _ in range(2)]

    assert [response.status_code for response in answers] == [201, 201]
    assert answers[0].get_json()["id"] != answers[1].get_json()["id"]
    assert stored(app) == {"purchase_order": 2, "feed_entry": 2, "idempotency_key": 0}


def test_a_refused_order_leaves_its_key_for_the_corrected_one(app, api):
    refused = api.post("/", json={**order_request(), "lines": []}, headers=keyed())

    corrected = api.post("/", json=order_request(), headers=keyed())

    assert_refused(refused, {"lines"})
    assert corrected.status_code == 201
    assert stored(app) == {"purchase_order": 1, "feed_entry": 1, "idempotency_key": 1}


@pytest.mark.parametrize("headers", [
    [("Idempotency-Key", KEY)],
    [("Idempotency-Key", '""')],
    [("Idempotency-Key", '"' + "k" * 256 + '"')],
    [("Idempotency-Key", '"a";p=1')],
    [("Idempotency-Key", '"a"'), ("Idempotency-Key", '"b"')],
], ids=["not quoted", "empty", "too long", "parameters", "twice"])
def test_a_malformed_key_is_400_with_a_sentence_and_places_nothing(app, api, headers):
    response = api.post("/", json=order_request(), headers=headers)

    assert_refused(response, {"Idempotency-Key"})
    assert "Idempotency-Key" in response.get_json()["error"]
    assert stored(app) == {"purchase_order": 0, "feed_entry": 0, "idempotency_key": 0}


def test_a_key_is_kept_24_hours_and_then_forgotten(app, api, clock):
    first = api.post("/", json=order_request(), headers=keyed())
    clock.advance(hours=23, minutes=59)
    assert answer(api.post("/", json=order_request(), headers=keyed())) == answer(first)

    clock.advance(minutes=1)
    again = api.post("/", json=order_request(customer_id=2), headers=keyed())

    assert again.status_code == 201 and again.get_json()["id"] != first.get_json()["id"]
    assert stored(app) == {"purchase_order": 2, "feed_entry": 2, "idempotency_key": 1}


def test_keys_older_than_a_day_are_deleted_when_new_ones_are_stored(app, api, clock):
    for key in ("old-1", "old-2"):
        api.post("/", json=order_request(), headers=keyed(key))
    clock.advance(hours=24)

    api.post("/", json=order_request(), headers=keyed("new"))

    with app.extensions["db"].session() as session:
        assert session.scalars(select(IdempotencyKey.key)).all() == ["new"]


def test_an_expired_key_beyond_the_clean_ups_batch_is_forgotten_too(app, api, clock, monkeypatch):
    first = api.post("/", json=order_request(), headers=keyed())
    clock.advance(hours=24)
    monkeypatch.setattr(store, "CLEANUP_BATCH", 0)

    again = api.post("/", json=order_request(), headers=keyed())

    assert again.status_code == 201 and again.get_json()["id"] != first.get_json()["id"]
    assert stored(app) == {"purchase_order": 2, "feed_entry": 2, "idempotency_key": 1}


def test_the_api_document_names_the_header_and_its_answers():
    post = document()["paths"]["/"]["post"]

    assert "Idempotency-Key" in [parameter["name"] for parameter in post["parameters"]]
    assert {"201", "400", "409", "422"} <= set(post["responses"])

