"""Order document -> invoice rows: the one mapping the poller and the rebuild use;
common/feed/storing.py stores them, a batch at a time, each order once."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from common.feed.documents import DocumentError, currency, field, items, money, one_of, positive, timestamp
from common.feed.storing import Rows, VersionedImport, table
from invoicing.models import STATUSES, UNNAMED_CURRENCY, Invoice, InvoiceLine


def invoice_from_order(order: Any, now: datetime) -> Rows:
    """Copy what an invoice needs, prices as they were when ordered."""
    order_id = field(order, "id", int)
    lines = [{"invoice_id": order_id, "count": positive(line, "count"), "item_name": field(line, "item.name"),
              "price": money(line, "item.price")}
             for line in items(order, "lines")]
    total = sum((line["price"] * line["count"] for line in lines), Decimal("0.00"))
    if total != money(order, "totalPrice"):
        raise DocumentError(f"The order's totalPrice {order['totalPrice']} is not the sum of its lines, {total}.")
    invoice = {
        "id": order_id,
        "ordered_at": timestamp(order, "placedAt"),
        "status": one_of(order, "status", STATUSES),
        "version": positive(order, "version"),
        "imported_at": now,
        "customer_firstname": field(order, "customer.firstname"),
        "customer_name": field(order, "customer.name"),
        "customer_email": field(order, "customer.email"),
        "billing_street": field(order, "billingAddress.street"),
        "billing_zip": field(order, "billingAddress.zip"),
        "billing_city": field(order, "billingAddress.city"),
        "total_amount": total,
        "currency": currency(order, "currency", UNNAMED_CURRENCY),
    }
    return Rows(invoice, ((table(InvoiceLine), lines),))


# A newer version of an order (a cancellation) changes the invoice's status alone.
import_order = VersionedImport(invoice_from_order, table(Invoice), changing=("status",))
