"""The order context's JSON documents: what the API answers and what each feed entry
links to. Free of HTTP, so that a version's document is written in the transaction
of the change it tells of."""
from __future__ import annotations

import json
from dataclasses import asdict

from common.tracing import TRACEPARENT, current_traceparent
from common.utc import iso_utc
from order.models import CURRENCY, Customer, Item, Order


def customer_json(customer: Customer) -> dict:
    return {"id": customer.id, "firstname": customer.firstname, "name": customer.name,
            "email": customer.email}


def item_json(item: Item) -> dict:
    return {"id": item.id, "name": item.name, "price": str(item.price), "currency": CURRENCY}


def order_json(order: Order) -> dict:
    return {
        "id": order.id,
        "placedAt": iso_utc(order.placed_at),
        "updated": iso_utc(order.updated),
        "status": order.status,
        "version": order.version,
        "customer": customer_json(order.customer),
        "shippingAddress": asdict(order.shipping_address),
        "billingAddress": asdict(order.billing_address),
        "lines": [{"count": line.count, "item": {**item_json(line.item), "price": str(line.price)}}
                  for line in order.lines],
        "totalPrice": str(order.total_price),
        "currency": CURRENCY,
    }


def version_document(order: Order) -> str:
    """The order as it is now, frozen: the document its current version's entry links to.
    Kept as the bytes served, so that a later change of the catalog changes no version.
    Where the service traces, it carries the context of the change that made it."""
    document = order_json(order)
    traceparent = current_traceparent()
    if traceparent is not None:
        document[TRACEPARENT] = traceparent
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))
