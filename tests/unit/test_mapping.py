"""An order document as the feed links it, turned into an invoice and a shipment."""
from __future__ import annotations

import copy
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import inspect

from common.feed.documents import DocumentError
from invoicing.importer import invoice_from_order
from shipping.importer import shipment_from_order

NOW = datetime(2026, 11, 22, 10, 20, 0, tzinfo=timezone.utc)
ORDER = {
    "id": 42, "placedAt": "2026-11-22T10:15:30.123456Z", "updated": "2026-11-22T10:15:30.123456Z", "status": "accepted", "version": 1,
    "customer": {"id": 1, "firstname": "Eberhard", "name": "Wolff", "email": "eberhard.wolff@example.com"},
    "shippingAddress": {"street": "Ohlauer Str. 43", "zip": "10999", "city": "Berlin"},
    "billingAddress": {"street": "Krischerstr. 100", "zip": "40789", "city": "Monheim am Rhein"},
    "lines": [{"count": 3, "item": {"id": 1, "name": "iPod", "price": "42.00"}},
              {"count": 3, "item": {"id": 5, "name": "Sticker", "price": "0.10"}}],
    "totalPrice": "126.30",
}


def order(**changes) -> dict:
    """The example order with `changes` at dotted paths ("customer.name"); None removes."""
    document = copy.deepcopy(ORDER)
    for path, value in changes.items():
        *parents, key = path.split(".")
        target: Any = document
        for parent in parents:
            target = target[int(parent)] if isinstance(target, list) else target[parent]
        if value is None:
            del target[key]
        else:
            target[key] = value
    return document


def test_the_invoice_total_is_the_exact_decimal_sum():
    invoice = invoice_from_order(order(), NOW)

    assert isinstance(invoice.total_amount, Decimal)
    assert invoice.total_amount == Decimal("126.30")
    assert str(invoice.total_amount) == "126.30"


def test_the_invoice_copies_customer_billing_address_and_priced_lines():
    invoice = invoice_from_order(order(), NOW)

    assert invoice.id == 42
    assert (invoice.customer_firstname, invoice.customer_name, invoice.customer_email) == (
        "Eberhard", "Wolff", "eberhard.wolff@example.com")
    assert (invoice.billing_address.street, invoice.billing_address.zip, invoice.billing_address.city) == (
        "Krischerstr. 100", "40789", "Monheim am Rhein")
    assert [(line.count, line.item_name, line.price) for line in invoice.lines] == [
        (3, "iPod", Decimal("42.00")), (3, "Sticker", Decimal("0.10"))]
    assert all(isinstance(line.price, Decimal) for line in invoice.lines)


def test_the_invoice_keeps_when_the_order_was_placed_in_utc():
    invoice = invoice_from_order(order(updated="2026-11-22T11:15:30.123456+01:00"), NOW)

    assert invoice.ordered_at == datetime(2026, 11, 22, 10, 15, 30, 123456, tzinfo=timezone.utc)
    assert invoice.ordered_at.utcoffset().total_seconds() == 0
    assert invoice.imported_at == NOW


def test_the_shipment_copies_recipient_address_and_lines():
    shipment = shipment_from_order(order(), NOW)

    assert shipment.id == 42
    assert (shipment.recipient_firstname, shipment.recipient_name) == ("Eberhard", "Wolff")
    assert not [column for column in shipment.__table__.columns.keys() if "email" in column]  # a parcel needs none
    assert (shipment.shipping_address.street, shipment.shipping_address.zip,
            shipment.shipping_address.city) == ("Ohlauer Str. 43", "10999", "Berlin")
    assert [(line.count, line.item_name) for line in shipment.lines] == [(3, "iPod"), (3, "Sticker")]
    assert shipment.ordered_at == datetime(2026, 11, 22, 10, 15, 30, 123456, tzinfo=timezone.utc)


@pytest.mark.parametrize("copy_order", [invoice_from_order, shipment_from_order])
@pytest.mark.parametrize("status, version", [("accepted", 1), ("cancelled", 2)])
def test_invoice_and_shipment_carry_the_orders_status_and_version(copy_order, status, version):
    made = copy_order(order(status=status, version=version), NOW)

    assert (made.status, made.version) == (status, version)


def test_the_shipment_carries_no_prices():
    shipment = shipment_from_order(order(), NOW)

    names = set(inspect(shipment).attrs.keys())
    names |= {name for line in shipment.lines for name in inspect(line).attrs.keys()}
    assert not {name for name in names if "price" in name or "amount" in name}


@pytest.mark.parametrize("import_order", [invoice_from_order, shipment_from_order])
@pytest.mark.parametrize("changes, named", [
    ({"customer.name": None}, "customer.name"),
    ({"lines": []}, "lines"),
    ({"lines": None}, "lines"),
    ({"lines.0.item.name": None}, "item.name"),
    ({"lines.1.count": "3"}, "count"),
    ({"placedAt": "2026-11-22T10:15:30.123456"}, "placedAt"),
    ({"placedAt": "yesterday"}, "placedAt"),
    ({"id": "42"}, "id"),
    ({"status": "shipped"}, "status"),
    ({"status": None}, "status"),
    ({"version": 0}, "version"),
    ({"version": "2"}, "version"),
    ({"version": None}, "version"),
    ({"customer.name": "Wolff\x00"}, "customer.name"),
    ({"lines.0.item.name": "iPod\ud800"}, "item.name"),
    ({"customer.firstname": "\u202eEberhard"}, "customer.firstname"),
    ({"lines.1.item.name": "Sticker\x07"}, "item.name"),
])
def test_a_bad_document_is_refused_naming_the_field(import_order, changes, named):
    with pytest.raises(DocumentError, match=rf"\b{named}\b"):
        import_order(order(**changes), NOW)


@pytest.mark.parametrize("price, total", [
    # The total is what the price means, so only the price's form is wrong.
    ("4.2", "12.90"), ("42", "126.30"), ("1E+1", "30.30"), ("4.201", "12.90"),
    ("abc", "126.30"), ("NaN", "126.30"), ("Infinity", "126.30"),
])
def test_a_price_must_be_a_decimal_string_with_two_places(price, total):
    with pytest.raises(DocumentError, match=r"item\.price"):
        invoice_from_order(order(**{"lines.0.item.price": price, "totalPrice": total}), NOW)


def test_a_price_as_a_json_number_is_refused():
    with pytest.raises(DocumentError, match=r"item\.price is not a str"):
        invoice_from_order(order(**{"lines.0.item.price": 42.0}), NOW)


@pytest.mark.parametrize("total", ["126.00", "126.31", "12.63"])
def test_a_total_price_that_is_not_the_sum_of_the_lines_is_refused(total):
    with pytest.raises(DocumentError, match="totalPrice .* not the sum"):
        invoice_from_order(order(totalPrice=total), NOW)


@pytest.mark.parametrize("total", ["126.3", 126.30, None])
def test_a_total_price_in_the_wrong_form_is_refused(total):
    with pytest.raises(DocumentError, match="totalPrice"):
        invoice_from_order(order(totalPrice=total), NOW)


def test_a_document_that_is_not_an_object_is_refused():
    with pytest.raises(DocumentError):
        invoice_from_order(["not", "an", "order"], NOW)
    with pytest.raises(DocumentError):
        shipment_from_order(None, NOW)
