"""Orders as the tests send them: a valid JSON order request, and the fields a browser
posts for a valid order from the new-order form."""
from __future__ import annotations

SHIPPING = {"street": "Ohlauer Str. 43", "zip": "10999", "city": "Berlin"}
BILLING = {"street": "Krischerstr. 100", "zip": "40789", "city": "Monheim am Rhein"}


def order_request(customer_id=1, lines=((1, 2),)) -> dict:
    """A valid JSON order request."""
    return {
        "customerId": customer_id,
        "shippingAddress": dict(SHIPPING),
        "billingAddress": dict(BILLING),
        "lines": [{"itemId": item, "count": count} for item, count in lines],
    }


def order_form(customer_id="1", lines=(("2", "3"),), **changes) -> dict:
    """The form's fields for an order of `lines` ((item id, count) as typed), then
    `changes` (keyed by the field's name; None leaves the field out)."""
    data = {"customerId": customer_id,
            **{f"shippingAddress.{name}": value for name, value in SHIPPING.items()},
            **{f"billingAddress.{name}": value for name, value in BILLING.items()}}
    for index, (item, count) in enumerate(lines):
        data.update({f"lines-{index}-itemId": item, f"lines-{index}-count": count})
    data["action"] = "place"
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}
