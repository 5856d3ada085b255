"""The classic design, for comparison only: one /feed that lists every order,
its validators taken from the newest order. Serve it with
    gunicorn --pythonpath bench 'classic:create_app()'
and DATABASE_URL pointing at an order database."""
from __future__ import annotations

import os

from flask import Flask, request, url_for
from sqlalchemy import select

from common.db import Database
from common.feed.publishing import Entry, Feed, Validators, conditional_response, render_atom
from common.utc import utc_now
from order.models import Order


def create_app() -> Flask:
    app = Flask(__name__)
    db = Database(os.environ["DATABASE_URL"])

    @app.get("/feed")
    def whole_feed():
        with db.session() as session:
            newest = session.execute(select(Order.id, Order.updated)
                                     .order_by(Order.updated.desc(), Order.id.desc()).limit(1)).first()
            validators = Validators(etag=f"order-{newest.id}-{newest.updated.timestamp()}",
                                    changed_at=newest.updated)
            return conditional_response(request, validators, utc_now(), lambda: render_atom(_feed(session)))

    @app.get("/<int:order_id>")
    def detail(order_id: int):
        return {"id": order_id}

    return app


def _feed(session) -> Feed:
    orders = session.scalars(select(Order).order_by(Order.id.desc())).all()
    entries = []
    for order in orders:
        url = url_for("detail", order_id=order.id, _external=True)
        entries.append(Entry(id=f"tag:microservice-atom,2026:order/{order.id}", title=f"Order {order.id}",
                             updated=order.updated, summary=f"{len(order.lines)} lines, {order.total_price}",
                             content_src=url, content_type="application/json", alternate_href=url))
    return Feed(id="tag:microservice-atom,2026:orders", title="Orders", author="Order service",
                self_url=url_for("whole_feed", _external=True), updated=orders[0].updated, entries=entries)
