"""The composition root: the only module that knows every context."""
from __future__ import annotations

from flask import Flask

from account.web import create_app as create_account_app
from common.settings import Settings
from invoicing.web import create_app as create_invoicing_app
from order.web import create_app as create_order_app
from shipping.web import create_app as create_shipping_app

FACTORIES = {
    "order": create_order_app,
    "invoicing": create_invoicing_app,
    "shipping": create_shipping_app,
    "account": create_account_app,
}
CONSUMERS = ("invoicing", "shipping")


def create_app(service: str, settings: Settings | None = None) -> Flask:
    return FACTORIES[service](settings or Settings.from_env(service))
