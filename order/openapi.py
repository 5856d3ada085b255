"""The order service's API in OpenAPI 3.1 (GET /openapi.json): orders, the catalog and
the feed. Its limits are order/service.py's own, so it says what the service checks."""
from __future__ import annotations

from common.feed.publishing import ATOM_MEDIA_TYPE
from common.idempotency import keys, store
from common.numbers import MAX_INT
from common.tracing import TRACEPARENT
from common.openapi.parts import (BAD_REQUEST, CACHE_CONTROL, ETAG, IF_NONE_MATCH, MOMENT, MONEY, NOT_FOUND,
                                  NOT_MODIFIED, PER_MINUTE, SERVICE, answer, header, identifier, nullable,
                                  openapi_document, operation, page_of, parameter, record, schema, status_of)
from order.models import ACCEPTED, CANCELLED, CURRENCY
from order.service import ADDRESS_FIELDS, MAX_COUNT, MAX_LINES

PAGES = ("order.new_order", "order.static", "order.confirm_cancel")  # the new-order form, its script, the question before cancelling: HTML only

CURRENCY_CODE = {"const": CURRENCY, "description": "The currency of every price (ISO 4217): the shop has one."}
REFERENCE = {"type": "integer", "minimum": 0, "maximum": MAX_INT}
EXAMPLE = {
    "customerId": 1,
    "shippingAddress": {"street": "Example Street 1", "zip": "12345", "city": "Springfield"},
    "billingAddress": {"street": "Example Street 2", "zip": "12345", "city": "Springfield"},
    "lines": [{"itemId": 1, "count": 2}],
}

SCHEMAS = {
    "Address": record({name: {"type": "string", "minLength": 1, "maxLength": limit}
                       for name, limit in ADDRESS_FIELDS.items()},
                      description="Leading and trailing spaces are dropped before the lengths are checked."),
    "Customer": record({"id": {"type": "integer", "minimum": 1}, "firstname": {"type": "string"},
                        "name": {"type": "string"}, "email": {"type": "string"}}),
    "Item": record({"id": {"type": "integer", "minimum": 1}, "name": {"type": "string"}, "price": MONEY,
                    "currency": CURRENCY_CODE}),
    "Order": record(ORDER_FIELDS := {
        "id": {"type": "integer", "minimum": 1},
        "placedAt": MOMENT,
        "updated": {**MOMENT, "description": "The time of its last change."},
        "status": {"enum": [ACCEPTED, CANCELLED]},
        "version": {"type": "integer", "minimum": 1, "description": "1 when placed, one more with each change."},
        "customer": schema("Customer"),
        "shippingAddress": schema("Address"),
        "billingAddress": schema("Address"),
        "lines": {"type": "array", "minItems": 1, "items": record({
            "count": {"type": "integer", "minimum": 1, "maximum": MAX_COUNT},
            "item": {**schema("Item"), "description": "The item, at the price it had when the order was placed."},
        })},
        "totalPrice": MONEY,
        "currency": CURRENCY_CODE,
    }),
    # The order at one version, as its feed entry links to it: with the trace context of
    # the change that made it, where the order service traces.
    "OrderVersion": {**record(ORDER_FIELDS), "properties": {**ORDER_FIELDS, TRACEPARENT: {
        "type": "string", "pattern": "^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
        "description": "The W3C trace context of the request that made this version, where the order service "
                       "traces (OTEL_EXPORTER_OTLP_ENDPOINT): a consumer links its import's span to it."}}},
    "OrderRequest": record({
        "customerId": REFERENCE,
        "shippingAddress": schema("Address"),
        "billingAddress": schema("Address"),
        "lines": {"type": "array", "minItems": 1, "maxItems": MAX_LINES, "items": record({
            "itemId": REFERENCE, "count": {"type": "integer", "minimum": 1, "maximum": MAX_COUNT}})},
    }, examples=[EXAMPLE]),
    "FeedStatus": record({
        "service": SERVICE,
        "position": {"type": "integer", "minimum": 0, "description": "The position of the feed's newest entry; 0 "
                                                                      "while it has none."},
        "updated": nullable({**MOMENT, "description": "When the newest entry was written."}),
        "ordersPerMinute": {"type": "number", "minimum": 0, "description": f"Orders placed {PER_MINUTE}."},
    }),
}

ORDER_ID = identifier("orderId", "The order's id.")
EMBED = parameter("embed", "query", "`documents`: each entry's document inline (Base64) instead of linked; "
                  "such pages name people and are private.", enum=["documents"])
IF_MODIFIED_SINCE = parameter("If-Modified-Since", "header", "The Last-Modified of the client's copy.")
PREFER = parameter("Prefer", "header", "`wait=<seconds>` (RFC 7240) with `If-None-Match`: the request is held "
                   "until a newer entry commits (200) or the wait is over (304), at most 30 seconds.")
A_IM = parameter("A-IM", "header", "`feed` (RFC 3229) with the `If-None-Match` of the client's copy of this "
                 "document: the entries added since alone (226), where all of them are on this page.")
FEED_HEADERS = {
    "ETag": ETAG, "Cache-Control": CACHE_CONTROL,
    "Last-Modified": header("The time of the newest entry, whole seconds.", required=False),
}
WAITED = {"Preference-Applied": header("`wait=<seconds>`: the request was held.", required=False)}
IDEMPOTENCY_KEY = parameter(
    keys.HEADER, "header",
    f"A key the client makes for this order, such as a UUID, as a quoted string (RFC 8941) of 1 to "
    f"{keys.MAX_LENGTH} printable ASCII characters. A retry with the same key and body gets the first answer "
    f"again and places nothing; keys last {store.RETENTION.total_seconds() / 3600:g} hours and are shared by all "
    "clients.",
    example=keys.EXAMPLE, type="string", pattern=r'^"([ !#-\[\]-~]|\\["\\])*"$')


def feed_page(summary: str, *parameters: dict, responses: dict | None = None) -> dict:
    return operation(summary, {
        "200": answer("An Atom 1.0 feed document (RFC 4287, RFC 5005), entries newest first.", {"type": "string"},
                      ATOM_MEDIA_TYPE, headers=FEED_HEADERS | WAITED),
        "304": answer("Nothing was added since the client's copy.", headers={"ETag": ETAG} | WAITED),
        "400": BAD_REQUEST,
        **(responses or {}),
    }, *parameters, EMBED, IF_NONE_MATCH, IF_MODIFIED_SINCE)


PATHS = {
    "/": {
        "get": page_of(schema("Order"), "orders", (ACCEPTED, CANCELLED),
                       "the customer's first name, name or email", "the order"),
        "post": operation("Place an order", {
            "201": answer("The order as placed.", schema("Order"),
                          headers={"Location": header("The order's URL.", format="uri")}),
            "400": BAD_REQUEST,
            "409": answer(f"A request with this {keys.HEADER} is still being processed; try again.", schema("Error")),
            "413": answer("The body is too large.", schema("Error")),
            "422": answer(f"This {keys.HEADER} was used for a different request.", schema("Error")),
        }, IDEMPOTENCY_KEY, body=schema("OrderRequest")),
    },
    "/{orderId}": {"get": operation("The order as it is now", {
        "200": answer("The order.", schema("Order"), headers={"ETag": ETAG}),
        "304": NOT_MODIFIED,
        "404": NOT_FOUND,
    }, ORDER_ID, IF_NONE_MATCH)},
    "/{orderId}/versions/{version}": {"get": operation("The order as it was at a version; it never changes", {
        "200": answer("The order at that version, what the version's feed entry links to.", schema("OrderVersion"),
                      headers={"ETag": ETAG, "Cache-Control": CACHE_CONTROL}),
        "304": NOT_MODIFIED,
        "404": NOT_FOUND,
    }, ORDER_ID, identifier("version", "The version, from 1."), IF_NONE_MATCH)},
    "/{orderId}/cancel": {"post": operation("Cancel an order", {
        "200": answer("The order, cancelled.", schema("Order")),
        "404": NOT_FOUND,
        "409": answer("The order is already cancelled.", schema("Error")),
    }, ORDER_ID)},
    "/customers": {"get": operation("The customers", {
        "200": answer("Every customer.", {"type": "array", "items": schema("Customer")})})},
    "/items": {"get": operation("The items", {
        "200": answer("Every item, at its price now.", {"type": "array", "items": schema("Item")})})},
    "/feed": {"get": feed_page("The feed's subscription document: its newest entries", PREFER, A_IM, responses={
        "226": answer("The entries added since the client's copy alone (RFC 3229, `IM: feed`), with the whole "
                      "document's validators; kept by no cache.", {"type": "string"}, ATOM_MEDIA_TYPE,
                      headers={"ETag": ETAG, "IM": header("`feed`."), "Cache-Control": CACHE_CONTROL} | WAITED),
    })},
    "/feed/archive/{number}": {"get": feed_page(
        "A page of the feed's archive; once full it never changes",
        identifier("number", "The page, from 1."), responses={"404": NOT_FOUND})},
    "/feed/after/{position}": {"get": operation("Where the entry after a position is", {
        "303": answer("The page of the archive that holds it.",
                      headers={"Location": header("The page's URL.", format="uri"), "Cache-Control": CACHE_CONTROL}),
        "400": BAD_REQUEST,
        "404": answer("The feed has not reached that position.", schema("Error")),
    }, identifier("position", "A feed position; 0 before the first entry."), EMBED)},
    "/status": status_of("FeedStatus"),
}


def document() -> dict:
    return openapi_document(
        "Order service",
        "Orders, the catalog, and the Atom feed of every change of an order. JSON is what a client gets that "
        "does not prefer `text/html`; browsers get pages at the same URLs.",
        PATHS, SCHEMAS)
