"""Placing orders and reading the catalog: the order context's use cases, free of HTTP."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from common.errors import InputError
from common.feed import outbox
from common.listing import Columns
from common.numbers import MAX_INT, whole_number
from common.text import TextError, checked_text
from order import writing
from order.catalog import Catalog, catalog
from order.models import ACCEPTED, CANCELLED, Address, Customer, FeedEntry, Item, Order, OrderLine

MAX_COUNT = 1000
MAX_LINES = 100
TOO_MANY_LINES = f"An order has at most {MAX_LINES} lines."
ADDRESS_FIELDS = {"street": 200, "zip": 20, "city": 100}
FIELD_LABELS = {"street": "street", "zip": "ZIP code", "city": "city"}
ADDRESS_LABELS = {"shippingAddress": "shipping address", "billingAddress": "billing address"}


class InvalidOrder(InputError):
    pass


class UnknownOrder(LookupError):
    pass


@dataclass(frozen=True)
class OrderRequest:
    customer_id: int
    shipping_address: Address
    billing_address: Address
    lines: list[tuple[int, int]]  # (item id, count)


def customers(session: Session) -> list[Customer]:
    return list(catalog(session).customers.values())


def items(session: Session) -> list[Item]:
    return list(catalog(session).items.values())


def orders() -> Select:
    """Every order, the newest first, with its customer to search by."""
    return select(Order).join(Order.customer).order_by(Order.id.desc())


# The list of orders finds them by status, and by their number or the customer's names or email.
ORDER_SEARCH = Columns(status=Order.status, statuses=(ACCEPTED, CANCELLED), number=Order.id,
                       text=(Customer.firstname, Customer.name, Customer.email),
                       hint="an order number or a name")


def place_order(session: Session, data: Any, clock: Callable[[], datetime]) -> Order:
    """Validate a request (the shape the JSON API takes) and store the order, or raise
    InvalidOrder and store nothing. The order returned is not in the session."""
    problems: dict[str, str] = {}
    request = parse_order_request(data, problems)
    if request is not None:
        known = catalog(session)
        _check(known, request, problems)
    if request is None or problems:
        raise InvalidOrder.from_details("The order", problems)
    now = clock()
    order = Order(
        placed_at=now, updated=now, status=ACCEPTED, version=1,
        customer_id=request.customer_id, customer=known.customers[request.customer_id],
        shipping_address=request.shipping_address, billing_address=request.billing_address,
        lines=[OrderLine(item_id=item_id, item=known.items[item_id], count=count, price=known.items[item_id].price)
               for item_id, count in request.lines],
    )
    writing.add_order(session, order)
    _publish(session, order, "placed", clock)
    return order


def cancel_order(session: Session, order_id: int, clock: Callable[[], datetime]) -> Order:
    # Only the order row: PostgreSQL cannot lock the outer-joined customer.
    order = session.get(Order, order_id, with_for_update={"of": Order})
    if order is None:
        raise UnknownOrder(f"Order {order_id} does not exist.")
    order.cancel(clock())
    session.flush()
    _publish(session, order, "cancelled", clock)
    return order


def history(session: Session, order_id: int) -> list[FeedEntry]:
    """Each change of the order, oldest first: the feed's entries for it."""
    return list(session.scalars(select(FeedEntry).where(FeedEntry.order_id == order_id)
                                .order_by(FeedEntry.position)))


def _publish(session: Session, order: Order, event: str, clock: Callable[[], datetime]) -> None:
    """The feed entry of a change and the document of the version it made, in the
    change's own transaction (an outbox): the entry carries its own state."""
    writing.add_version(session, order)
    outbox.append(session, FeedEntry.__table__,
                  {"order_id": order.id, "order_version": order.version, "event": event}, clock)


def parse_order_request(data: Any, problems: dict[str, str]) -> OrderRequest | None:
    """Check the request's shape; record what is wrong in `problems`."""
    if not isinstance(data, dict):
        problems["body"] = "The order must be a JSON object."
        return None
    customer_id = _whole_number(data.get("customerId"))
    if customer_id is None:
        problems["customerId"] = "Choose a customer."
    shipping = _address(data, "shippingAddress", problems)
    billing = _address(data, "billingAddress", problems)
    lines = _lines(data.get("lines"), problems)
    if problems or customer_id is None or shipping is None or billing is None:  # each None said its problem
        return None
    return OrderRequest(customer_id, shipping, billing, lines)


def _address(data: dict, key: str, problems: dict[str, str]) -> Address | None:
    raw = data.get(key)
    raw = raw if isinstance(raw, dict) else {}
    values = {}
    for name, limit in ADDRESS_FIELDS.items():
        try:
            values[name] = checked_text(raw.get(name), f"the {FIELD_LABELS[name]} of the {ADDRESS_LABELS[key]}",
                                        limit)
        except TextError as problem:
            problems[f"{key}.{name}"] = str(problem)
    return Address(**values) if len(values) == len(ADDRESS_FIELDS) else None


def _lines(raw: Any, problems: dict[str, str]) -> list[tuple[int, int]]:
    if not isinstance(raw, list) or not raw:
        problems["lines"] = "Add at least one line to the order."
        return []
    if len(raw) > MAX_LINES:
        problems["lines"] = TOO_MANY_LINES
        return []
    lines = []
    for index, line in enumerate(raw):
        line = line if isinstance(line, dict) else {}
        item_id = _whole_number(line.get("itemId"))
        count = _whole_number(line.get("count"))
        if item_id is None:
            problems[f"lines[{index}].itemId"] = "Choose an item."
        if count is None or not 1 <= count <= MAX_COUNT:
            problems[f"lines[{index}].count"] = f"The count must be a whole number from 1 to {MAX_COUNT}."
        if item_id is not None and count is not None:
            lines.append((item_id, count))
    return lines


def _check(known: Catalog, request: OrderRequest, problems: dict[str, str]) -> None:
    """Record in `problems` what the request names that the catalog does not have."""
    if request.customer_id not in known.customers:
        problems["customerId"] = f"Customer {request.customer_id} does not exist."
    for index, (item_id, _) in enumerate(request.lines):
        if item_id not in known.items:
            problems[f"lines[{index}].itemId"] = f"Item {item_id} does not exist."


def _whole_number(value: Any) -> int | None:
    """An int, or a string of ASCII digits (what forms send), within a database integer."""
    if isinstance(value, str):
        return whole_number(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 <= value <= MAX_INT else None
