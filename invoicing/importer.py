"""Order document -> invoice: the one function the poller calls, idempotent."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from common.db import add_unless_present
from common.feed.documents import DocumentError, count, field, items, money, timestamp
from invoicing.models import BillingAddress, Invoice, InvoiceLine


def import_order(session: Session, order: Any, now: datetime) -> bool:
    """Store the invoice for `order` unless it exists; True when it was new."""
    return add_unless_present(session, invoice_from_order(order, now))


def invoice_from_order(order: Any, now: datetime) -> Invoice:
    """Copy what an invoice needs, prices as they were when ordered."""
    lines = [
        InvoiceLine(count=count(line, "count"), item_name=field(line, "item.name"),
                    price=money(line, "item.price"))
        for line in items(order, "lines")
    ]
    total = sum((line.amount for line in lines), Decimal("0.00"))
    if total != money(order, "totalPrice"):
        raise DocumentError(f"The order's totalPrice {order['totalPrice']} is not the sum of its lines, {total}.")
    return Invoice(
        id=field(order, "id", int),
        ordered_at=timestamp(order, "updated"),
        imported_at=now,
        customer_firstname=field(order, "customer.firstname"),
        customer_name=field(order, "customer.name"),
        customer_email=field(order, "customer.email"),
        billing_address=BillingAddress(*(field(order, f"billingAddress.{part}") for part in ("street", "zip", "city"))),
        total_amount=total,
        lines=lines,
    )
