"""The invoicing service's web side: invoices as pages and JSON, the poller's state."""
from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, Flask
from sqlalchemy import select

from common.caching import conditional
from common.db import Database
from common.listing import Columns
from common.openapi.serving import serve_document
from common.settings import Settings
from common.utc import iso_utc
from common.parts import database
from common.web.app import Navigation, create_service_app
from common.web.responses import NotCopiedYet, respond, respond_list
from invoicing import access
from invoicing import openapi as invoicing_api
from invoicing.models import STATUSES, Invoice

pages = Blueprint("invoicing", __name__)


def create_app(config: Settings, db: Database, navigation: Navigation) -> Flask:
    """The invoicing service's pages and API on `db` (migrated); what follows the feed
    the caller adds."""
    app = create_service_app(__name__, config, db, "Invoicing", access.RULES, navigation=navigation)
    app.register_blueprint(pages)
    serve_document(app, invoicing_api.document())
    return app


# The list finds invoices by status, and by their order's number or the customer's names or email.
SEARCH = Columns(status=Invoice.status, statuses=STATUSES, number=Invoice.id,
                 text=(Invoice.customer_firstname, Invoice.customer_name, Invoice.customer_email),
                 hint="an order number or a name")


@pages.get("/")
def index():
    with database().session() as session:
        newest_first = select(Invoice).order_by(Invoice.ordered_at.desc(), Invoice.id.desc())
        return respond_list(session, newest_first, SEARCH, invoice_json, "invoices.html")


@pages.get("/<id:order_id>")
def detail(order_id: int):
    with database().session() as session:
        invoice = session.get(Invoice, order_id)
        if invoice is None:
            raise NotCopiedYet(f"There is no invoice for order {order_id}: invoicing has not read such an order from "
                               "the order feed. It reads a new order within a second or so; if this one is "
                               "older, check its number in the order service.", "/order/",
                               "The orders in the order service")
        return conditional(respond(lambda: invoice_json(invoice), "invoice.html", invoice=invoice))


def invoice_json(invoice: Invoice) -> dict:
    return {
        "id": invoice.id,
        "status": invoice.status,
        "orderVersion": invoice.version,
        "orderedAt": iso_utc(invoice.ordered_at),
        "importedAt": iso_utc(invoice.imported_at),
        "customer": {"firstname": invoice.customer_firstname, "name": invoice.customer_name,
                     "email": invoice.customer_email},
        "billingAddress": asdict(invoice.billing_address),
        "lines": [{"count": line.count, "itemName": line.item_name, "price": str(line.price),
                   "amount": str(line.amount)} for line in invoice.lines],
        "totalAmount": str(invoice.total_amount),
        "currency": invoice.currency,
    }
