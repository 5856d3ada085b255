"""Order document -> shipment: the one function the poller calls, idempotent."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from common.db import store_newer
from common.feed.documents import field, items, one_of, positive, timestamp
from shipping.models import STATUSES, ShippingAddress, ShipmentLine, Shipment


def import_order(session: Session, order: Any, now: datetime) -> bool:
    """Store the shipment for `order`, or the change a newer version of the
    order brings (a cancellation); an older or repeated version changes nothing.
    True when something was stored."""
    return store_newer(session, shipment_from_order(order, now), changing=("status",))


def shipment_from_order(order: Any, now: datetime) -> Shipment:
    """Copy what a parcel needs: who, where to, and what; no prices and no email."""
    return Shipment(
        id=field(order, "id", int),
        ordered_at=timestamp(order, "placedAt"),
        status=one_of(order, "status", STATUSES),
        version=positive(order, "version"),
        imported_at=now,
        recipient_firstname=field(order, "customer.firstname"),
        recipient_name=field(order, "customer.name"),
        shipping_address=ShippingAddress(*(field(order, f"shippingAddress.{part}") for part in ("street", "zip", "city"))),
        lines=[ShipmentLine(count=positive(line, "count"), item_name=field(line, "item.name"))
                 for line in items(order, "lines")],
    )
