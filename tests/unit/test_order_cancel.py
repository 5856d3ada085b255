"""An order cancels itself: a new version, once."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from order.models import ACCEPTED, CANCELLED, Order, OrderConflict

PLACED = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)
LATER = datetime(2026, 11, 22, 11, 30, tzinfo=timezone.utc)


def placed_order() -> Order:
    return Order(id=7, placed_at=PLACED, updated=PLACED, status=ACCEPTED, version=1)


def test_cancelling_makes_a_new_version_changed_at_that_time():
    order = placed_order()

    order.cancel(LATER)

    assert (order.status, order.version, order.updated, order.placed_at) == (CANCELLED, 2, LATER, PLACED)


def test_a_cancelled_order_refuses_to_cancel_again_and_stays_as_it_was():
    order = placed_order()
    order.cancel(LATER)

    with pytest.raises(OrderConflict, match="Order 7 is already cancelled."):
        order.cancel(datetime(2026, 11, 23, tzinfo=timezone.utc))
    assert (order.status, order.version, order.updated) == (CANCELLED, 2, LATER)
