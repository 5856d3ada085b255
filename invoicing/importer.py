"""Order document -> invoice: the one function the poller calls, idempotent."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from common.db import store_newer
from common.feed.documents import DocumentError, currency, field, items, money, one_of, positive, timestamp
from invoicing.models import STATUSES, UNNAMED_CURRENCY, BillingAddress, Invoice, InvoiceLine


def import_order(session: Session, order: Any, now: datetime) -> bool:
    """Store the invoice for `order`, or the change a newer version of the
    order brings (a cancellation); an older or repeated version changes nothing.
    True when something was stored."""
    return store_newer(session, invoice_from_order(order, now), changing=("status",))


def invoice_from_order(order: Any, now: datetime) -> Invoice:
    """Copy what an invoice needs, prices as they were when ordered."""
    lines = [
        InvoiceLine(count=positive(line, "count"), item_name=field(line, "item.name"),
                    price=money(line, "item.price"))
        for line in items(order, "lines")
    ]
    total = sum((line.amount for line in lines), Decimal("0.00"))
    if total != money(order, "totalPrice"):
        raise DocumentError(f"The order's totalPrice {order['totalPrice']} is not the sum of its lines, {total}.")
    return Invoice(
        id=field(order, "id", int),
        ordered_at=timestamp(order, "placedAt"),
        status=one_of(order, "status", STATUSES),
        version=positive(order, "version"),
        imported_at=now,
        customer_firstname=field(order, "customer.firstname"),
        customer_name=field(order, "customer.name"),
        customer_email=field(order, "customer.email"),
        billing_address=BillingAddress(*(field(order, f"billingAddress.{part}") for part in ("street", "zip", "city"))),
        total_amount=total,
        currency=currency(order, "currency", UNNAMED_CURRENCY),
        lines=lines,
    )
