"""The invoicing service's API in OpenAPI 3.1 (GET /openapi.json): invoices, and its
following of the order feed."""
from __future__ import annotations

from common.openapi.parts import (ETAG, FOLLOWING, FOLLOWING_SCHEMAS, IF_NONE_MATCH, MOMENT, MONEY, NOT_FOUND,
                                  NOT_MODIFIED, answer, identifier, openapi_document, operation, page_of, record,
                                  schema)
from invoicing.models import STATUSES

TEXT = {"type": "string"}

SCHEMAS = {
    "Invoice": record({
        "id": {"type": "integer", "minimum": 1, "description": "The order's id."},
        "status": {"enum": ["accepted", "cancelled"], "description": "The order's."},
        "orderVersion": {"type": "integer", "minimum": 1, "description": "The version of the order it shows."},
        "orderedAt": MOMENT,
        "importedAt": MOMENT,
        "customer": record({"firstname": TEXT, "name": TEXT, "email": TEXT}),
        "billingAddress": record({"street": TEXT, "zip": TEXT, "city": TEXT}),
        "lines": {"type": "array", "items": record({
            "count": {"type": "integer", "minimum": 1}, "itemName": TEXT, "price": MONEY, "amount": MONEY})},
        "totalAmount": {**MONEY, "description": "The order's total price."},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$", "examples": ["EUR"],
                     "description": "The currency of the prices and amounts (ISO 4217), the order's."},
    }),
    **FOLLOWING_SCHEMAS,
}
PATHS = {
    "/": {"get": page_of(schema("Invoice"), "invoices", STATUSES, "the customer's first name, name or email",
                               "the invoice of the order")},
    "/{orderId}": {"get": operation("The invoice made from an order", {
        "200": answer("The invoice.", schema("Invoice"), headers={"ETag": ETAG}),
        "304": NOT_MODIFIED,
        "404": NOT_FOUND,
    }, identifier("orderId", "The order's id; 404 until the order is imported."), IF_NONE_MATCH)},
    **FOLLOWING,
}


def document() -> dict:
    return openapi_document(
        "Invoicing service",
        "Invoices, made from the orders of the order service's feed, with data copied as it was then.",
        PATHS, SCHEMAS)
