"""The shipping service's API in OpenAPI 3.1 (GET /openapi.json): shipments, and its
following of the order feed."""
from __future__ import annotations

from common.openapi.parts import (ETAG, FOLLOWING, FOLLOWING_SCHEMAS, IF_NONE_MATCH, MOMENT, NOT_FOUND, NOT_MODIFIED,
                                  answer, identifier, openapi_document, operation, page_of, record, schema)
from shipping.models import STATUSES

TEXT = {"type": "string"}

SCHEMAS = {
    "Shipment": record({
        "id": {"type": "integer", "minimum": 1, "description": "The order's id."},
        "status": {"enum": ["accepted", "cancelled"], "description": "The order's."},
        "orderVersion": {"type": "integer", "minimum": 1, "description": "The version of the order it shows."},
        "orderedAt": MOMENT,
        "importedAt": MOMENT,
        "customer": record({"firstname": TEXT, "name": TEXT}, description="The recipient."),
        "shippingAddress": record({"street": TEXT, "zip": TEXT, "city": TEXT}),
        "lines": {"type": "array", "items": record({"count": {"type": "integer", "minimum": 1}, "itemName": TEXT})},
    }),
    **FOLLOWING_SCHEMAS,
}
PATHS = {
    "/": {"get": page_of(schema("Shipment"), "shipments", STATUSES, "the recipient's first name or name",
                               "the shipment of the order")},
    "/{orderId}": {"get": operation("The shipment made from an order", {
        "200": answer("The shipment.", schema("Shipment"), headers={"ETag": ETAG}),
        "304": NOT_MODIFIED,
        "404": NOT_FOUND,
    }, identifier("orderId", "The order's id; 404 until the order is imported."), IF_NONE_MATCH)},
    **FOLLOWING,
}


def document() -> dict:
    return openapi_document(
        "Shipping service",
        "Shipments, made from the orders of the order service's feed: the recipient, the address and the "
        "items, no prices and no email.",
        PATHS, SCHEMAS)
