"""Amounts as people read them: thousands grouped, two places, and the currency."""
from __future__ import annotations

from decimal import Decimal


def money_text(amount: Decimal, currency: str) -> str:
    """`Decimal("5100")`, "EUR" -> "5,100.00 EUR"."""
    return f"{amount:,.2f} {currency}"
