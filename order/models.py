"""The order context's tables: the catalog (customers, items), the orders, and the answers
given to requests with idempotency keys."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

from sqlalchemy import ForeignKey, String, Table, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, composite, mapped_column, relationship

from common.db import Money, UTCDateTime


MIGRATIONS = Path(__file__).with_name("migrations") / "versions"
# The shop's one currency (ISO 4217): every price of the catalog and of the orders is in it.
CURRENCY = "EUR"


class Base(DeclarativeBase):
    __table__: ClassVar[Table]  # each model maps a table (DeclarativeBase types it as any FROM clause)


@dataclass
class Address:
    street: str
    zip: str
    city: str


class Customer(Base):
    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    firstname: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(200))


class Item(Base):
    __tablename__ = "item"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    price: Mapped[Decimal] = mapped_column(Money())


ACCEPTED, CANCELLED = "accepted", "cancelled"


class OrderConflict(Exception):
    """The request does not fit the order's state; the message says why."""


class Order(Base):
    __tablename__ = "purchase_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated: Mapped[datetime] = mapped_column(UTCDateTime())  # the last change: placing or cancelling
    status: Mapped[str] = mapped_column(String(16), default=ACCEPTED)
    version: Mapped[int] = mapped_column(default=1)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    customer: Mapped[Customer] = relationship(lazy="joined")
    shipping_address: Mapped[Address] = composite(
        mapped_column("shipping_street", String(200)),
        mapped_column("shipping_zip", String(20)),
        mapped_column("shipping_city", String(100)),
    )
    billing_address: Mapped[Address] = composite(
        mapped_column("billing_street", String(200)),
        mapped_column("billing_zip", String(20)),
        mapped_column("billing_city", String(100)),
    )
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.id", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def total_price(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal("0.00"))

    def cancel(self, at: datetime) -> None:
        """Cancel the order as of `at`, a new version of it; a cancelled order stays so."""
        if self.status == CANCELLED:
            raise OrderConflict(f"Order {self.id} is already cancelled.")
        self.status, self.version, self.updated = CANCELLED, self.version + 1, at


class OrderLine(Base):
    __tablename__ = "order_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("purchase_order.id"), index=True)
    order: Mapped[Order] = relationship(back_populates="lines")
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    item: Mapped[Item] = relationship(lazy="joined")
    count: Mapped[int]
    # The price the customer was offered when ordering; the catalog may change later.
    price: Mapped[Decimal] = mapped_column(Money())

    @property
    def total(self) -> Decimal:
        return self.price * self.count


class OrderVersion(Base):
    """An order as it was at one version, as the JSON document served for it: the
    state a feed entry carries. Written with the entry and never changed."""

    __tablename__ = "order_version"

    order_id: Mapped[int] = mapped_column(ForeignKey("purchase_order.id"), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    document: Mapped[str] = mapped_column(Text)


class FeedEntry(Base):
    """The order feed's log: one row per change of an order, at its position."""

    __tablename__ = "feed_entry"

    position: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    order_id: Mapped[int] = mapped_column(ForeignKey("purchase_order.id"), index=True)  # an order's history
    order: Mapped[Order] = relationship(lazy="joined")
    order_version: Mapped[int]
    event: Mapped[str] = mapped_column(String(16))  # placed, cancelled
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IdempotencyKey(Base):
    """A client's idempotency key and the answer its request got, kept for a day so that
    a retry gets that answer again (common/idempotency/store.py)."""

    __tablename__ = "idempotency_key"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of what the request asked for
    status: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(100))
    location: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
