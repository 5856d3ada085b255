"""The order feed: one entry per order, newest first, and the validators of its state."""
from __future__ import annotations

from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.feed.publishing import EPOCH, Entry, Feed, Validators
from order.models import Order
from order.service import orders

TAG = "tag:microservice-atom,2026"
FEED_ID = f"{TAG}:orders"


def entry_id(order_id: int) -> str:
    return f"{TAG}:order/{order_id}"


def validators(session: Session) -> Validators:
    """From the newest order alone: an index lookup, whatever the number of orders."""
    newest = session.execute(
        select(Order.id, Order.updated).order_by(Order.updated.desc(), Order.id.desc()).limit(1)
    ).first()
    if newest is None:
        return Validators(etag="empty", changed_at=None)
    micros = int(newest.updated.timestamp() * 1_000_000)
    return Validators(etag=f"order-{newest.id}-{micros}", changed_at=newest.updated)


def order_feed(session: Session, self_url: str, order_url: Callable[[int], str]) -> Feed:
    listed = orders(session)
    return Feed(
        id=FEED_ID, title="Orders", author="Order service", self_url=self_url,
        updated=listed[0].updated if listed else EPOCH,
        entries=[_entry(order, order_url(order.id)) for order in listed],
    )


def _entry(order: Order, url: str) -> Entry:
    customer = order.customer
    count = sum(line.count for line in order.lines)
    return Entry(
        id=entry_id(order.id), title=f"Order {order.id}", updated=order.updated,
        summary=(f"{customer.firstname} {customer.name} ordered {count} "
                 f"{'item' if count == 1 else 'items'} for {order.total_price}."),
        content_src=url, content_type="application/json", alternate_href=url,
    )
