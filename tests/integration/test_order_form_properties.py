"""Whatever a person types into the order form: never a 500, an order is stored
whole or not at all, and what was typed comes back escaped, never as markup."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import form_token

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
TYPED = st.text(max_size=40) | st.sampled_from(["<script>alert(1)</script>", "\" onfocus=\"x", "1", "0", "-3", ""])
TEXT_FIELDS = {"shippingAddress.street", "shippingAddress.zip", "shippingAddress.city",
               "billingAddress.street", "billingAddress.zip", "billingAddress.city", "lines-0-count"}
FIELDS = ["customerId", "shippingAddress.street", "shippingAddress.zip", "shippingAddress.city",
          "billingAddress.street", "billingAddress.zip", "billingAddress.city", "lines-0-itemId", "lines-0-count"]


def order_count(client) -> int:
    return len(client.get("/", headers={"Accept": "application/json"}).get_json())


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(typed=st.fixed_dictionaries({}, optional={name: TYPED for name in FIELDS}),
       action=st.sampled_from(["place", "add-line", "remove-line-0", "remove-line-7", "nonsense"]))
def test_any_form_input_is_stored_whole_or_shown_back_escaped(order_app, typed, action):
    client = order_app.test_client()
    token = form_token(client.get("/new", headers=BROWSER).get_data(as_text=True))
    before = order_count(client)

    response = client.post("/", data={**typed, "action": action, "csrf_token": token}, headers=BROWSER)

    after = order_count(client)
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
    assert response.get_json()["error"]
