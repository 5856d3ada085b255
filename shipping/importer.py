"""Order document -> shipment: the one function the poller calls, idempotent."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from common.db import add_unless_present
from common.feed.documents import count, field, items, timestamp
from shipping.models import ShippingAddress, ShipmentLine, Shipment


def import_order(session: Session, order: Any, now: datetime) -> bool:
    """Store the shipment for `order` unless it exists; True when it was new."""
    return add_unless_present(session, shipment_from_order(order, now))


def shipment_from_order(order: Any, now: datetime) -> Shipment:
    """Copy what shipping needs: who, where to, and what; no prices."""
    return Shipment(
        id=field(order, "id", int),
        ordered_at=timestamp(order, "updated"),
        imported_at=now,
        recipient_firstname=field(order, "customer.firstname"),
        recipient_name=field(order, "customer.name"),
        recipient_email=field(order, "customer.email"),
        shipping_address=ShippingAddress(*(field(order, f"shippingAddress.{part}") for part in ("street", "zip", "city"))),
        lines=[ShipmentLine(count=count(line, "count"), item_name=field(line, "item.name"))
                 for line in items(order, "lines")],
    )
