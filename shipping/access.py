"""Who may use which route of the shipping service: logistics reads the shipments,
and may make the service poll, retry a rejected entry and rebuild (common's routes,
given the role OPERATORS)."""
from __future__ import annotations

from common.auth.rules import allow

LOGISTICS = "logistics"
OPERATORS = (LOGISTICS,)

RULES = {
    "shipping.index": allow(LOGISTICS, doing="see the shipments"),
    "shipping.detail": allow(LOGISTICS, doing="see the shipments"),
}
