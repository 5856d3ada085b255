"""An order document as the feed links it, turned into an invoice and a shipment."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from common.feed.documents import DocumentError
from invoicing.importer import invoice_from_order
from shipping.importer import shipment_from_order
from shipping.models import Shipment
from tests.support.documents import order

NOW = datetime(2026, 11, 22, 10, 20, 0, tzinfo=timezone.utc)
def lines(rows) -> list[dict]:
    [(_, part)] = rows.parts
    return part


def test_the_invoice_total_is_the_exact_decimal_sum():
    invoice = invoice_from_order(order(), NOW).head

    assert isinstance(invoice["total_amount"], Decimal)
    assert invoice["total_amount"] == Decimal("126.30")
    assert str(invoice["total_amount"]) == "126.30"


def test_the_invoice_copies_customer_billing_address_and_priced_lines():
    rows = invoice_from_order(order(), NOW)
    invoice = rows.head

    assert invoice["id"] == 42
    assert (invoice["customer_firstname"], invoice["customer_name"], invoice["customer_email"]) == (
        "Eberhard", "Wolff", "eberhard.wolff@example.com")
    assert (invoice["billing_street"], invoice["billing_zip"], invoice["billing_city"]) == (
        "Krischerstr. 100", "40789", "Monheim am Rhein")
    assert [(line["invoice_id"], line["count"], line["item_name"], line["price"]) for line in lines(rows)] == [
        (42, 3, "iPod", Decimal("42.00")), (42, 3, "Sticker", Decimal("0.10"))]
    assert all(isinstance(line["price"], Decimal) for line in lines(rows))


def test_the_invoice_keeps_when_the_order_was_placed_in_utc():
    invoice = invoice_from_order(order(updated="2026-11-22T11:15:30.123456+01:00"), NOW).head

    assert invoice["ordered_at"] == datetime(2026, 11, 22, 10, 15, 30, 123456, tzinfo=timezone.utc)
    assert invoice["ordered_at"].utcoffset().total_seconds() == 0
    assert invoice["imported_at"] == NOW


def test_the_shipment_copies_recipient_address_and_lines():
    rows = shipment_from_order(order(), NOW)
    shipment = rows.head

    assert shipment["id"] == 42
    assert (shipment["recipient_firstname"], shipment["recipient_name"]) == ("Eberhard", "Wolff")
    assert (shipment["street"], shipment["zip"], shipment["city"]) == ("Ohlauer Str. 43", "10999", "Berlin")
    assert [(line["shipment_id"], line["count"], line["item_name"]) for line in lines(rows)] == [
        (42, 3, "iPod"), (42, 3, "Sticker")]
    assert shipment["ordered_at"] == datetime(2026, 11, 22, 10, 15, 30, 123456, tzinfo=timezone.utc)


@pytest.mark.parametrize("copy_order", [invoice_from_order, shipment_from_order])
@pytest.mark.parametrize("status, version", [("accepted", 1), ("cancelled", 2)])
def test_invoice_and_shipment_carry_the_orders_status_and_version(copy_order, status, version):
    made = copy_order(order(status=status, version=version), NOW).head

    assert (made["status"], made["version"]) == (status, version)


def test_the_shipment_carries_no_prices_and_no_email():
    rows = shipment_from_order(order(), NOW)
    tables = [Shipment.__table__, *(table for table, _ in rows.parts)]

    names = set(rows.head) | {name for line in lines(rows) for name in line}
    names |= {column.name for table in tables for column in table.columns}  # nor can it keep one
    assert not {name for name in names if "price" in name or "amount" in name or "email" in name}


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
