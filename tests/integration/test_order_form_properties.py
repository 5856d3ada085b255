"""Whatever a person types into the order form, on PostgreSQL as on SQLite: never a
500, an order is stored whole or not at all, and what was typed comes back escaped,
never as markup."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import form_token

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
# What a database or a reader trips over; no halves of UTF-16 pairs: a form carries
# UTF-8, where they cannot be written (werkzeug decodes them to U+FFFD).
ODD = st.sampled_from(["\x00", "\x07", "\x1b", "\n", "\x85", "\u202e", "\u2066", "\u2069", "\u200b", "\u200c",
                       "\u200d", "\ufeff", "\u3164", "\u0663", "\u00b2", "\uff11"])
TYPED = (st.text(st.characters(codec="utf-8"), max_size=40)
         | st.builds("{}{}{}".format, st.text(max_size=6), ODD, st.text(max_size=6))
         | st.lists(ODD, min_size=1, max_size=4).map("".join)
         | st.sampled_from(["<script>alert(1)</script>", "\" onfocus=\"x", "1", "0", "-3", "", "\u0663",
                            "1" * 5000]))
VALID = {"customerId": "1", "shippingAddress.street": "Ohlauer Str. 43", "shippingAddress.zip": "10999",
         "shippingAddress.city": "Berlin", "billingAddress.street": "Krischerstr. 100", "billingAddress.zip": "40789",
         "billingAddress.city": "Monheim am Rhein", "lines-0-itemId": "1", "lines-0-count": "2"}
TEXT_FIELDS = {"shippingAddress.street", "shippingAddress.zip", "shippingAddress.city",
               "billingAddress.street", "billingAddress.zip", "billingAddress.city", "lines-0-count"}
FIELDS = [*VALID, "lines-\u00b2-itemId", "lines-\u0663-count", "lines-100-itemId", "lines-99999999999999999999-count"]
ACTIONS = ["place", "add-line", "remove-line-0", "remove-line-7", "remove-line-\u00b2", "remove-line-\u0663",
           "remove-line-99999999999999999999", "nonsense"]


@st.composite
def typed_forms(draw) -> dict:
    """A valid form with a few fields typed otherwise, left out or added."""
    form = dict(VALID)
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=3, unique=True)):
        value = draw(TYPED | st.none())
        if value is None:
            form.pop(name, None)
        else:
            form[name] = value
    return form


def order_count(client) -> int:
    return len(client.get("/", headers={"Accept": "application/json"}).get_json())


@pytest.fixture
def browser(make_app, settings_for, database_url):
    return make_app("order", settings_for("order", database_url=database_url)).test_client()


@settings(max_examples=100, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(typed=typed_forms(), action=st.just("place") | st.sampled_from(ACTIONS))
def test_any_form_input_is_stored_whole_or_shown_back_escaped(browser, typed, action):
    token = form_token(browser.get("/new", headers=BROWSER).get_data(as_text=True))
    before = order_count(browser)

    response = browser.post("/", data={**typed, "action": action, "csrf_token": token}, headers=BROWSER)

    after = order_count(browser)
    page = response.get_data(as_text=True)
    assert response.status_code in (200, 303, 400), page[:500]
    assert after == before + (1 if response.status_code == 303 else 0)
    assert "<script>alert(1)</script>" not in page
    typed_into_a_text_field = any(value == "<script>alert(1)</script>" for name, value in typed.items()
                                  if name in TEXT_FIELDS)
    if typed_into_a_text_field and response.status_code != 303:
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_body_over_the_size_limit_is_refused_with_413(order_app):
    response = order_app.test_client().post("/", data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
                                            content_type="application/json")

    assert response.status_code == 413
    assert response.get_json()["error"] == "The request body is larger than 1 MiB, the most a service accepts."
