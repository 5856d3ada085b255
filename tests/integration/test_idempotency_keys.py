"""Placing an order exactly once: a request with an Idempotency-Key and its retries get
one answer and make one order, one feed entry; the order form carries a key of its own.
On SQLite and PostgreSQL (concurrent requests: tests/e2e/test_idempotent_orders.py)."""
from __future__ import annotations

import json
import re

import lxml.html
import pytest
from sqlalchemy import func, select

from common.idempotency import store
from common.idempotency.keys import FORM_FIELD
from common import parts
from order.models import FeedEntry, IdempotencyKey, Order
from order.openapi import document
from tests.conftest import form_token
from tests.support.orders import order_form, order_request
from tests.integration.support import assert_refused, browser_of

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
    with parts.database(app).session() as session:
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

    with parts.database(app).session() as session:
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


# --- the order form ----------------------------------------------------------------------

FORM = order_form()


@pytest.fixture
def browser(app):
    return browser_of(app)


def shown_form(html: str) -> dict:
    """The hidden fields of a page's order form, as a browser posts them back."""
    key = lxml.html.fromstring(html).xpath(f"//form//input[@name='{FORM_FIELD}']/@value")
    assert len(key) == 1, "the form carries no key"
    return {"csrf_token": form_token(html), FORM_FIELD: key[0]}


def test_every_form_shown_carries_a_new_key(browser):
    keys = {shown_form(browser.get("/new").get_data(as_text=True))[FORM_FIELD] for _ in range(3)}

    assert len(keys) == 3 and all(re.fullmatch(r"[0-9a-f-]{36}", key) for key in keys)


def test_a_form_posted_twice_places_one_order_and_both_show_it(app, browser):
    hidden = shown_form(browser.get("/new").get_data(as_text=True))

    posts = [browser.post("/", data={**FORM, **hidden}) for _ in range(2)]

    assert [post.status_code for post in posts] == [303, 303]
    assert posts[0].headers["Location"] == posts[1].headers["Location"]
    assert re.search(r"/\d+$", posts[0].headers["Location"])  # the order's page
    assert stored(app) == {"purchase_order": 1, "feed_entry": 1, "idempotency_key": 1}


def test_a_refused_form_keeps_its_key_and_the_corrected_one_places_the_order_once(app, browser):
    hidden = shown_form(browser.get("/new").get_data(as_text=True))

    refused = browser.post("/", data={**FORM, **hidden, "lines-0-count": "0"})
    again = shown_form(refused.get_data(as_text=True))
    corrected = [browser.post("/", data={**FORM, **again}) for _ in range(2)]

    assert refused.status_code == 400
    assert again[FORM_FIELD] == hidden[FORM_FIELD]
    assert [post.status_code for post in corrected] == [303, 303]
    assert corrected[0].headers["Location"] == corrected[1].headers["Location"]
    assert stored(app) == {"purchase_order": 1, "feed_entry": 1, "idempotency_key": 1}


def test_adding_a_line_keeps_the_forms_key(browser):
    hidden = shown_form(browser.get("/new").get_data(as_text=True))

    page = browser.post("/", data={**FORM, **hidden, "action": "add-line"})

    assert shown_form(page.get_data(as_text=True))[FORM_FIELD] == hidden[FORM_FIELD]


def test_a_used_form_sent_again_with_other_details_asks_before_a_second_order(app, browser):
    hidden = shown_form(browser.get("/new").get_data(as_text=True))
    browser.post("/", data={**FORM, **hidden})

    changed = browser.post("/", data={**FORM, **hidden, "lines-0-count": "4"})
    fresh = shown_form(changed.get_data(as_text=True))
    confirmed = browser.post("/", data={**FORM, **fresh, "lines-0-count": "4"})

    assert changed.status_code == 422
    assert "already placed an order" in lxml.html.fromstring(changed.get_data()).xpath(
        "string(//*[@role='alert'])")
    assert fresh[FORM_FIELD] != hidden[FORM_FIELD]
    assert confirmed.status_code == 303
    assert stored(app) == {"purchase_order": 2, "feed_entry": 2, "idempotency_key": 2}


def test_a_form_without_a_key_places_an_order_as_before(app, browser):
    token = form_token(browser.get("/new").get_data(as_text=True))

    posts = [browser.post("/", data={**FORM, "csrf_token": token}) for _ in range(2)]

    assert [post.status_code for post in posts] == [303, 303]
    assert stored(app) == {"purchase_order": 2, "feed_entry": 2, "idempotency_key": 0}


def test_a_damaged_form_key_is_refused_with_a_sentence(app, browser):
    hidden = shown_form(browser.get("/new").get_data(as_text=True))

    refused = browser.post("/", data={**FORM, **hidden, FORM_FIELD: "k" * 256})

    assert refused.status_code == 400
    assert "This form is damaged" in refused.get_data(as_text=True)
    assert stored(app)["purchase_order"] == 0
