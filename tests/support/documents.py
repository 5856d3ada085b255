"""An order document as the order service publishes it, and variations of it."""
from __future__ import annotations

import copy
from typing import Any

ORDER = {
    "id": 42, "placedAt": "2026-11-22T10:15:30.123456Z", "updated": "2026-11-22T10:15:30.123456Z", "status": "accepted", "version": 1,
    "customer": {"id": 1, "firstname": "Eberhard", "name": "Wolff", "email": "eberhard.wolff@example.com"},
    "shippingAddress": {"street": "Ohlauer Str. 43", "zip": "10999", "city": "Berlin"},
    "billingAddress": {"street": "Krischerstr. 100", "zip": "40789", "city": "Monheim am Rhein"},
    "lines": [{"count": 3, "item": {"id": 1, "name": "iPod", "price": "42.00"}},
              {"count": 3, "item": {"id": 5, "name": "Sticker", "price": "0.10"}}],
    "totalPrice": "126.30",
}


def order(**changes) -> dict:
    """The example order with `changes` at dotted paths ("customer.name"); None removes."""
    document = copy.deepcopy(ORDER)
    for path, value in changes.items():
        *parents, key = path.split(".")
        target: Any = document
        for parent in parents:
            target = target[int(parent)] if isinstance(target, list) else target[parent]
        if value is None:
            del target[key]
        else:
            target[key] = value
    return document
