"""Who may use which route of the invoicing service: accounting reads the invoices,
and may make the service poll, retry a rejected entry and rebuild (common's routes,
given the role OPERATORS)."""
from __future__ import annotations

from common.auth.rules import allow

ACCOUNTING = "accounting"
OPERATORS = (ACCOUNTING,)

RULES = {
    "invoicing.index": allow(ACCOUNTING, doing="see the invoices"),
    "invoicing.detail": allow(ACCOUNTING, doing="see the invoices"),
}
