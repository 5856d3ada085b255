"""Whatever a client sends to the order API, on PostgreSQL as on SQLite: never a 500,
and an order is either stored whole (201) or not at all (400)."""
from __future__ import annotations

import json
from functools import reduce

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.orders import order_request

# Characters a database or a reader trips over: NUL, halves of UTF-16 pairs, controls,
# direction overrides and isolates, invisible ones, digits that are not ASCII.
ODD_CHARACTERS = ["\x00", "\ud800", "\udfff", "\x07", "\x1b", "\n", "\x85", "\u202e", "\u2066", "\u2069",
                  "\u200b", "\u200c", "\u200d", "\ufeff", "\u3164", "\u0663", "\u00b2", "\uff11"]
ODD = st.sampled_from(ODD_CHARACTERS)
# Short enough for a ZIP code, so that the length is not what gets it refused.
TEXT = (st.text(st.characters(exclude_categories=()), max_size=15)  # any code point, surrogates too
        | st.builds("{}{}{}".format, st.text(max_size=6), ODD, st.text(max_size=6))
        | st.lists(ODD, min_size=1, max_size=4).map("".join))
NUMBERS = st.integers() | st.sampled_from(["1", " 2 ", "\u0663", "\u00b2", str(2**31), "1" * 5000])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | NUMBERS | st.floats(allow_nan=False) | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=20,
)
# A place in a valid request and what may replace what is there.
PLACES = {"customerId": NUMBERS, "shippingAddress": JSON_VALUES, "billingAddress": JSON_VALUES,
          "lines": JSON_VALUES, "lines.0.itemId": NUMBERS, "lines.0.count": NUMBERS,
          **{f"{address}.{part}": TEXT for address in ("shippingAddress", "billingAddress")
             for part in ("street", "zip", "city")}}
# Nested arrays as JSON text: json.dumps itself would give up at about 1000 levels.
DEEP = (st.sampled_from([32, 33, 100_000]) | st.integers(1, 100_000)).map(lambda levels: "[" * levels + "]" * levels)
# Deterministic and quick: the same examples every run.
EXAMPLES = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def almost_valid_orders(draw):
    """A valid request with one part replaced by anything at all."""
    request = order_request(lines=draw(st.lists(st.tuples(st.integers(1, 6), st.integers(-2, 1002)),
                                                  min_size=1, max_size=3)))
    place = draw(st.sampled_from([*PLACES, None]))
    if place is not None:
        *outer, last = place.split(".")
        target = reduce(lambda value, key: value[int(key) if key.isdigit() else key], outer, request)
        target[last] = draw(PLACES[place])
    return request


def counts(client) -> tuple[int, str]:
    orders = client.get("/", headers={"Accept": "application/json"}).get_json()
    return len(orders), client.get("/feed").headers["ETag"]


@pytest.fixture
def api(make_app, settings_for, database_url):
    return make_app("order", settings_for("order", database_url=database_url)).test_client()


@EXAMPLES
@given(body=(almost_valid_orders() | JSON_VALUES).map(json.dumps) | DEEP)
def test_any_json_body_gets_201_or_a_clear_400_and_nothing_half_stored(api, body):
    before = counts(api)

    response = api.post("/", data=body, content_type="application/json")

    after = counts(api)
    assert response.status_code in (201, 400), response.get_data(as_text=True)
    if response.status_code == 201:
        assert after[0] == before[0] + 1 and after[1] != before[1]
    else:
        error = response.get_json()
        assert error["error"].endswith(".") and isinstance(error.get("details"), dict)
        assert after == before


@EXAMPLES
@given(raw=st.binary(max_size=200))
def test_any_bytes_get_a_clear_400(api, raw):
    before = counts(api)

    response = api.post("/", data=raw, content_type="application/json")

    assert response.status_code in (201, 400)
    if response.status_code == 400:
        assert counts(api) == before
