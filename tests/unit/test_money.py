"""Amounts with their currency: as a person reads them, and as an invoice copies them."""
from __future__ import annotations

from decimal import Decimal

import pytest

from common.feed.documents import DocumentError
from common.money import money_text
from invoicing.importer import invoice_from_order
from tests.support.documents import order
from tests.unit.test_mapping import NOW


@pytest.mark.parametrize("amount, text", [
    (Decimal("5100.00"), "5,100.00 EUR"), (Decimal("0.10"), "0.10 EUR"), (Decimal("1234567.5"), "1,234,567.50 EUR"),
])
def test_an_amount_reads_with_grouped_thousands_two_places_and_its_currency(amount, text):
    assert money_text(amount, "EUR") == text


def test_an_invoice_keeps_the_currency_its_order_names():
    assert invoice_from_order(order(currency="CHF"), NOW).head["currency"] == "CHF"


def test_an_order_document_from_before_currencies_were_named_means_euros():
    assert "currency" not in order()
    assert invoice_from_order(order(), NOW).head["currency"] == "EUR"


@pytest.mark.parametrize("code", ["eur", "EURO", "", "€", 978])
def test_a_currency_that_is_not_a_code_of_three_capitals_is_a_document_error(code):
    with pytest.raises(DocumentError, match="currency"):
        invoice_from_order(order(currency=code), NOW)
