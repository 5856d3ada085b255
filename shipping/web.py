"""The shipping service's web side: shipments as pages and JSON, the poller's state."""
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
from shipping import access
from shipping import openapi as shipping_api
from shipping.models import STATUSES, Shipment

pages = Blueprint("shipping", __name__)


def create_app(config: Settings, db: Database, navigation: Navigation) -> Flask:
    """The shipping service's pages and API on `db` (migrated); what follows the feed
    the caller adds."""
    app = create_service_app(__name__, config, db, "Shipping", access.RULES, navigation=navigation)
    app.register_blueprint(pages)
    serve_document(app, shipping_api.document())
    return app


# The list finds shipments by status, and by their order's number or the recipient's names.
SEARCH = Columns(status=Shipment.status, statuses=STATUSES, number=Shipment.id,
                 text=(Shipment.recipient_firstname, Shipment.recipient_name),
                 hint="an order number or a name")


@pages.get("/")
def index():
    with database().session() as session:
        newest_first = select(Shipment).order_by(Shipment.ordered_at.desc(), Shipment.id.desc())
        return respond_list(session, newest_first, SEARCH, shipment_json, "shipments.html")


@pages.get("/<id:order_id>")
def detail(order_id: int):
    with database().session() as session:
        shipment = session.get(Shipment, order_id)
        if shipment is None:
            raise NotCopiedYet(f"There is no shipment for order {order_id}: shipping has not read such an order from "
                               "the order feed. It reads a new order within a second or so; if this one is "
                               "older, check its number in the order service.", "/order/",
                               "The orders in the order service")
        return conditional(respond(lambda: shipment_json(shipment), "shipment.html", shipment=shipment))


def shipment_json(shipment: Shipment) -> dict:
    return {
        "id": shipment.id,
        "status": shipment.status,
        "orderVersion": shipment.version,
        "orderedAt": iso_utc(shipment.ordered_at),
        "importedAt": iso_utc(shipment.imported_at),
        "customer": {"firstname": shipment.recipient_firstname, "name": shipment.recipient_name},
        "shippingAddress": asdict(shipment.shipping_address),
        "lines": [{"count": line.count, "itemName": line.item_name} for line in shipment.lines],
    }
