"""The invoicing context's tables: invoices with their own copy of the order's data."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, composite, mapped_column, relationship

from common.db import Money, UTCDateTime
from common.feed.tracking import PollStatusColumns, RebuildColumns, RejectedEntryColumns, TrackingColumns


MIGRATIONS = Path(__file__).with_name("migrations") / "versions"


class Base(DeclarativeBase):
    pass


@dataclass
class BillingAddress:
    street: str
    zip: str
    city: str


STATUSES = ("accepted", "cancelled")
# What the order documents that name no currency meant: they came before it was named.
UNNAMED_CURRENCY = "EUR"


class Invoice(Base):
    __tablename__ = "invoice"

    # The order's id: one invoice per order.
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16))  # the order's: accepted or cancelled
    version: Mapped[int]  # the order's version this copy was made from
    customer_firstname: Mapped[str] = mapped_column(String(100))
    customer_name: Mapped[str] = mapped_column(String(100))
    customer_email: Mapped[str] = mapped_column(String(200))
    billing_address: Mapped[BillingAddress] = composite(
        mapped_column("billing_street", String(200)),
        mapped_column("billing_zip", String(20)),
        mapped_column("billing_city", String(100)),
    )
    total_amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))  # the order's, as an ISO 4217 code: "EUR"
    lines: Mapped[list[InvoiceLine]] = relationship(
        order_by="InvoiceLine.id", cascade="all, delete-orphan", lazy="selectin"
    )


class InvoiceLine(Base):
    __tablename__ = "invoice_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    count: Mapped[int]
    item_name: Mapped[str] = mapped_column(String(200))
    price: Mapped[Decimal] = mapped_column(Money())

    @property
    def amount(self) -> Decimal:
        return self.price * self.count


class Tracking(TrackingColumns, Base):
    __tablename__ = "tracking"


class PollStatus(PollStatusColumns, Base):
    __tablename__ = "poll_status"


class RejectedEntry(RejectedEntryColumns, Base):
    __tablename__ = "rejected_entry"


class Rebuild(RebuildColumns, Base):
    __tablename__ = "rebuild"
