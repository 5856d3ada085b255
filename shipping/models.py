"""The shipping context's tables: shipments with their own copy of the order's data."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, composite, mapped_column, relationship

from common.db import UTCDateTime
from common.feed.tracking import PollStatusColumns, RebuildColumns, RejectedEntryColumns, TrackingColumns


MIGRATIONS = Path(__file__).with_name("migrations") / "versions"


class Base(DeclarativeBase):
    pass


@dataclass
class ShippingAddress:
    street: str
    zip: str
    city: str


STATUSES = ("accepted", "cancelled")


class Shipment(Base):
    __tablename__ = "shipment"

    # The order's id: one shipment per order.
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16))  # the order's: accepted or cancelled
    version: Mapped[int]  # the order's version this copy was made from
    recipient_firstname: Mapped[str] = mapped_column(String(100))
    recipient_name: Mapped[str] = mapped_column(String(100))
    shipping_address: Mapped[ShippingAddress] = composite(
        mapped_column("street", String(200)),
        mapped_column("zip", String(20)),
        mapped_column("city", String(100)),
    )
    lines: Mapped[list[ShipmentLine]] = relationship(
        order_by="ShipmentLine.id", cascade="all, delete-orphan", lazy="selectin"
    )


class ShipmentLine(Base):
    """What goes into the box: an order line without its price."""
    __tablename__ = "shipment_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id"), index=True)
    count: Mapped[int]
    item_name: Mapped[str] = mapped_column(String(200))


class Tracking(TrackingColumns, Base):
    __tablename__ = "tracking"


class PollStatus(PollStatusColumns, Base):
    __tablename__ = "poll_status"


class RejectedEntry(RejectedEntryColumns, Base):
    __tablename__ = "rejected_entry"


class Rebuild(RebuildColumns, Base):
    __tablename__ = "rebuild"
