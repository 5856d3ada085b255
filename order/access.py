"""Who may use which route of the order service: sales works with orders and
customers; the consumers' own accounts (feed-reader) read the order documents, alone
or inline in the feed's pages; the thin feed pages and the catalogue of items name
nobody, so anyone may read them (feed readers, shared caches)."""
from __future__ import annotations

from flask import Request

from common.auth.rules import PUBLIC, allow

SALES = "sales"
FEED_READER = "feed-reader"


def thin_page(request: Request) -> bool:
    """A page of the feed without the documents inline (no `?embed`)."""
    return "embed" not in request.args


FEED_PAGE = allow(SALES, FEED_READER, doing="read the feed with the order documents", public_when=thin_page)

RULES = {
    "order.index": allow(SALES, doing="see the orders"),
    "order.new_order": allow(SALES, doing="place orders"),
    "order.place_order": allow(SALES, doing="place orders"),
    "order.detail": allow(SALES, FEED_READER, doing="see orders"),
    "order.version": allow(SALES, FEED_READER, doing="read the order documents"),
    "order.confirm_cancel": allow(SALES, doing="cancel orders"),
    "order.cancel": allow(SALES, doing="cancel orders"),
    "order.customers": allow(SALES, doing="see the customers"),
    "order.items": PUBLIC,
    "order.order_feed": FEED_PAGE,
    "order.feed_archive": FEED_PAGE,
    "order.feed_after": FEED_PAGE,
    "order.static": PUBLIC,
}
