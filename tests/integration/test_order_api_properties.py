"""Whatever a client sends to the order API: never a 500, and an order is either
stored whole (201) or not at all (400)."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import order_request

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
FIELDS = ["customerId", "shippingAddress", "billingAddress", "lines"]


@st.composite
def almost_valid_orders(draw):
    """A valid request with one part replaced by anything at all."""
    request = order_request(lines=draw(st.lists(st.tuples(st.integers(1, 6), st.integers(-2, 1002)),
                                                  min_size=0, max_size=3)))
    field = draw(st.sampled_from(FIELDS + [None]))
    if field is not None:
        request[field] = draw(JSON_VALUES)
    return request


def counts(client) -> tuple[int, str]:
    orders = client.get("/", headers={"Accept": "application/json"}).get_json()
    return len(orders), client.get("/feed").headers["ETag"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=almost_valid_orders() | JSON_VALUES)
def test_any_json_body_gets_201_or_a_clear_400_and_nothing_half_stored(order_app, body):
    client = order_app.test_client()
    before = counts(client)

    response = client.post("/", data=json.dumps(body), content_type="application/json")

    after = counts(client)
    assert response.status_code in (201, 400), response.get_data(as_text=True)
    if response.status_code == 201:
        assert after[0] == before[0] + 1 and after[1] != before[1]
    else:
        error = response.get_json()
        assert error["error"].endswith(".") and isinstance(error.get("details"), dict)
        assert after == before


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200))
def test_any_bytes_get_a_clear_400(order_app, raw):
    client = order_app.test_client()
    before = counts(client)

    response = client.post("/", data=raw, content_type="application/json")

    assert response.status_code in (201, 400)
    if response.status_code == 400:
        assert counts(client) == before
