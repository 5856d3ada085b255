"""Order document -> shipment rows: the one mapping the poller and the rebuild use;
common/feed/storing.py stores them, a batch at a time, each order once."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from common.feed.documents import field, items, one_of, positive, timestamp
from common.feed.storing import Rows, VersionedImport, table
from shipping.models import STATUSES, Shipment, ShipmentLine


def shipment_from_order(order: Any, now: datetime) -> Rows:
    """Copy what a parcel needs: who, where to, and what; no prices and no email."""
    order_id = field(order, "id", int)
    shipment = {
        "id": order_id,
        "ordered_at": timestamp(order, "placedAt"),
        "status": one_of(order, "status", STATUSES),
        "version": positive(order, "version"),
        "imported_at": now,
        "recipient_firstname": field(order, "customer.firstname"),
        "recipient_name": field(order, "customer.name"),
        "street": field(order, "shippingAddress.street"),
        "zip": field(order, "shippingAddress.zip"),
        "city": field(order, "shippingAddress.city"),
    }
    lines = [{"shipment_id": order_id, "count": positive(line, "count"), "item_name": field(line, "item.name")}
             for line in items(order, "lines")]
    return Rows(shipment, ((table(ShipmentLine), lines),))


# A newer version of an order (a cancellation) changes the shipment's status alone.
import_order = VersionedImport(shipment_from_order, table(Shipment), changing=("status",))
