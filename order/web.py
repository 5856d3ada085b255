"""The order service's web side: HTML pages, the JSON API and the feed."""
from __future__ import annotations

from datetime import datetime

import werkzeug
from flask import Blueprint, Flask, Response, abort, flash, jsonify, redirect, render_template, request, url_for

from common.auth.guard import has_credential
from common.db import Database
from common.errors import InputError
from common.forms import Summary
from common.caching import PRIVATE_IMMUTABLE, PRIVATE_REVALIDATE, PUBLIC_IMMUTABLE, SHARED_REVALIDATE, conditional
from common.feed.publishing import asks_for_delta, conditional_response, render_atom
from common.idempotency import web as idempotent
from common.idempotency.store import KeyReused
from common.json_body import parse_json_body
from common.metrics import count_feed_answers, live_gauges
from common.parts import database, long_poll, subscriptions
from common.openapi.serving import serve_document
from common.settings import Settings
from common.status import serve_status
from common.negotiation import wants_html
from common.numbers import whole_number
from common.utc import iso_utc
from common.web.app import Navigation, create_service_app, settings
from common.web.tracing import span
from common.web.responses import respond, respond_list
from order import access, feed, order_form, service
from order import openapi as order_api
from order.documents import customer_json, item_json, order_json
from order.order_form import blank_form, form_values
from order.models import CURRENCY, IdempotencyKey, Order, OrderConflict, OrderVersion

# The new-order form's script under static/order/ (the shared stylesheet and script are under static/).
pages = Blueprint("order", __name__, static_folder="static", static_url_path="/static/order")
EMBED = "documents"  # ?embed=documents: the feed's pages with each entry's document inline
FORM_USED = ("This form has already placed an order with other details. To place this one as a new order, "
             "choose \"Place order\" again.")
# Notices shown once, on the page a form leads to; never in its address, where a reload
# or a bookmark would show them again.
PLACED = "The order has been placed. Invoicing and shipping read it from the order feed within a second or so."
CANCELLED = ("The order has been cancelled. Its invoice and its shipment say so once invoicing and shipping have "
             "read that from the order feed, within a second or so.")


def create_app(config: Settings, db: Database, navigation: Navigation) -> Flask:
    """The order service's pages, API and feed on `db` (migrated), with its state at
    /status and among the metrics; the requests waiting on the feed are the caller's
    to hold (parts(app).long_poll)."""
    app = create_service_app(__name__, config, db, "Order", access.RULES, navigation=navigation)
    app.register_blueprint(pages)
    app.jinja_env.globals["currency"] = CURRENCY
    serve_document(app, order_api.document(), order_api.PAGES)
    count_feed_answers(app, {"order.order_feed": "subscription", "order.feed_archive": "archive"})
    serve_status(app, feed_status)
    live_gauges(app, feed_status, {"msatom_feed_published_position": (
        "The newest position of the published feed", lambda status: status["position"])})
    return app


def feed_status() -> dict:
    """The feed's newest position and when it was written, and the pace of orders."""
    with database().session() as session:
        newest = feed.head(session)
        placed = feed.placed_per_minute(session, _now())
    return {"position": newest.position if newest else 0,
            "updated": iso_utc(newest.recorded_at) if newest else None, "ordersPerMinute": placed}


@pages.get("/")
def index():
    with database().session() as session:
        return respond_list(session, service.orders(), service.ORDER_SEARCH, order_json, "orders.html")


@pages.get("/new")
def new_order():
    return _order_form(blank_form())


@pages.post("/")
def place_order():
    with span("place order"):  # the feed entry's write included: its transaction commits within
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return _place_from_form()
        key = idempotent.header_key()
        data = _json_body()
        if key is not None:
            return idempotent.answer_once(IdempotencyKey.__table__, key, data, lambda session: _placed(session, data))
        with database().session() as session:
            return _placed(session, data)


def _placed(session, data) -> Response:
    """201 with the order placed from a JSON request."""
    order = service.place_order(session, data, settings().clock)
    response = jsonify(order_json(order))
    response.status_code = 201
    response.headers["Location"] = url_for("order.detail", order_id=order.id, _external=True)
    return response


@pages.get("/<id:order_id>")
def detail(order_id: int):
    """The order as it is now: it changes, so every use asks (no-cache, an ETag)."""
    with database().session() as session:
        order = session.get(Order, order_id) or abort(404, f"Order {order_id} does not exist.")
        return conditional(respond(lambda: order_json(order), "order.html", order=order,
                                   history=service.history(session, order_id)))


@pages.get("/<id:order_id>/cancel")
def confirm_cancel(order_id: int):
    """The question before cancelling, for people: what it does, and a way back."""
    with database().session() as session:
        order = session.get(Order, order_id) or abort(404, f"Order {order_id} does not exist.")
        return render_template("order_cancel.html", order=order)


@pages.get("/<id:order_id>/versions/<id:version>")
def version(order_id: int, version: int):
    """The order as it was at `version`, what that version's feed entry links to: it
    never changes, so a private cache may keep it for good."""
    with database().session() as session:
        found = session.get(OrderVersion, (order_id, version))
        if found is None:
            abort(404, f"Order {order_id} has no version {version}.")
    response = Response(found.document, mimetype="application/json",
                        headers={"Cache-Control": PRIVATE_IMMUTABLE})
    response.set_etag(f"order-{order_id}-{version}")
    return response.make_conditional(request)


@pages.get("/customers")
def customers():
    with database().session() as session:
        found = service.customers(session)
    return respond(lambda: [customer_json(c) for c in found], "customers.html", customers=found)


@pages.get("/items")
def items():
    with database().session() as session:
        found = service.items(session)
    return respond(lambda: [item_json(i) for i in found], "items.html", items=found)


@pages.get("/feed")
def order_feed():
    """The subscription document; with `Prefer: wait` and the ETag of the current one,
    held until an entry commits or the wait is over (long-poll, common/feed/waiting.py)."""
    embedded = _embedded()
    response = long_poll().respond(request, lambda: _subscription(embedded), credentialed=has_credential())
    response.vary.add("Prefer")  # the same document, but answered at another time
    return response


def _subscription(embedded: bool) -> werkzeug.Response:
    """The subscription document, or 304: asked anew each time a held request wakes."""
    size, now = settings().feed_page_size, _now()  # the time first: see outbox.writing
    with database().session() as session:
        state = feed.subscription_state(session, size)
        urls = _feed_urls(embedded)
        seen = feed.seen_up_to(request.if_none_match, size, state.last) if asks_for_delta(request) else None

        def rendered(after: int = 0) -> bytes:
            return subscriptions().get(embedded, (urls.subscription, state.validators.etag, after), lambda: render_atom(
                feed.subscription(session, size, urls, state.last, after)))
        return conditional_response(request, state.validators, now, rendered,
                                    PRIVATE_REVALIDATE if embedded else SHARED_REVALIDATE,
                                    delta=None if seen is None else lambda: rendered(seen))


@pages.get("/feed/archive/<id:number>")
def feed_archive(number: int):
    now, embedded = _now(), _embedded()
    with database().session() as session:
        page = feed.archive(session, number, settings().feed_page_size, _feed_urls(embedded))
        if page is None:
            abort(404, f"The order feed has no page {number}.")
        # A full page never changes; with documents inline it names people: no shared cache.
        kept = {(True, False): PUBLIC_IMMUTABLE, (False, False): SHARED_REVALIDATE,
                (True, True): PRIVATE_IMMUTABLE, (False, True): PRIVATE_REVALIDATE}[page.complete, embedded]
        return conditional_response(request, page.validators, now, lambda: render_atom(page.feed), kept)


@pages.get("/feed/after/<id:position>")
def feed_after(position: int):
    """A redirect to the page that holds the entry after `position`: a consumer's way
    to its place in one request, whatever the history. Which page holds a position
    never changes, so any cache may keep the redirect."""
    embedded = _embedded()
    with database().session() as session:
        number = feed.page_after(session, position, settings().feed_page_size)
    if number is None:
        abort(404, f"The order feed has not reached position {position}.")
    return redirect(_feed_urls(embedded).archive(number), code=303), {"Cache-Control": PUBLIC_IMMUTABLE}


@pages.post("/<id:order_id>/cancel")
def cancel(order_id: int):
    try:
        with span("cancel order", **{"msatom.order.id": order_id}), database().session() as session:
            order = service.cancel_order(session, order_id, settings().clock)
            body = order_json(order)
    except service.UnknownOrder as error:
        abort(404, str(error))
    except OrderConflict as error:
        return _conflict(str(error), order_id)
    if wants_html():
        flash(CANCELLED, "success")
        return redirect(url_for("order.detail", order_id=order_id), code=303)
    return jsonify(body)


def _conflict(message: str, order_id: int):
    if wants_html():
        with database().session() as session:
            order = session.get(Order, order_id)
            return render_template("order.html", order=order, history=service.history(session, order_id),
                                   message=message), 409
    return jsonify(error=message), 409


def _feed_urls(embedded: bool = False) -> feed.FeedUrls:
    """The URLs of the thin pages, or with `embedded` of those with documents inline."""
    variant = {"embed": EMBED} if embedded else {}
    subscription = url_for("order.order_feed", _external=True, **variant)
    # Two links an entry: written from the orders' root rather than built by the router
    # each time, which took a fifth of a page's rendering.
    home = url_for("order.index", _external=True)
    return feed.FeedUrls(
        subscription=subscription,
        home=home,
        archive=lambda number: url_for("order.feed_archive", number=number, _external=True, **variant),
        after=url_for("order.order_feed", _external=True) + "/after/{position}" + (f"?embed={EMBED}" * embedded),
        order=lambda order_id: f"{home}{order_id}",
        version=lambda order_id, version: f"{home}{order_id}/versions/{version}",
        embedded=embedded,
        embedded_variant=lambda url: f"{url}?embed={EMBED}",
    )


def _embedded() -> bool:
    """Whether the request asks for the feed's pages with each document inline."""
    asked = request.args.get("embed")
    if asked not in (None, EMBED):
        raise InputError(f"embed takes one value, {EMBED}; leave it out for the thin pages.",
                         {"embed": f"{asked!r} is not {EMBED}."})
    return asked == EMBED


def _place_from_form():
    form = form_values(request.form)
    key = idempotent.form_key()
    action = request.form.get("action", "place")
    if action == "add-line":
        return _add_line(form, key)
    if action.startswith("remove-line-"):
        return _remove_line(form, key, whole_number(action.removeprefix("remove-line-"), len(form["lines"]) - 1))
    try:
        if key is None:
            with database().session() as session:
                placed = _placed_from_form(session, form)
        else:
            # The form sent again (a double click, Back) waits for the first post and shows its order.
            placed = idempotent.answer_once(IdempotencyKey.__table__, key, form,
                                            lambda session: _placed_from_form(session, form), wait=True)
    except service.InvalidOrder as error:
        errors = order_form.shown_errors(form, error.details)
        refused = order_form.refusal("The order was not placed", form, errors)
        return _order_form(form, errors, refused, 400, key)  # the key is still unused
    except KeyReused:  # with a new key: a new order
        return _order_form(form, summary=Summary("The order was not placed", note=FORM_USED), status=422)
    flash(PLACED, "success")  # once committed; on the order's page, once
    return placed


def _add_line(form: dict, key: str | None):
    """The form with one more line, its item chosen next (a page without script)."""
    if len(form["lines"]) >= service.MAX_LINES:
        errors = {"lines": service.TOO_MANY_LINES}
        return _order_form(form, errors, order_form.refusal("No line was added", form, errors), 400, key)
    form["lines"].append({"itemId": "", "count": "1"})
    return _order_form(form, key=key, focus=f"lines-{len(form['lines']) - 1}-itemId")


def _remove_line(form: dict, key: str | None, index: int | None):
    """The form without line `index`; the line after it (or "Add a line") next."""
    if index is None or len(form["lines"]) < 2:
        return _order_form(form, key=key)
    del form["lines"][index]
    return _order_form(form, key=key, focus=f"lines-{index}-itemId" if index < len(form["lines"]) else "add-line")


def _placed_from_form(session, form: dict) -> werkzeug.Response:
    order = service.place_order(session, form, settings().clock)
    return redirect(url_for("order.detail", order_id=order.id), code=303)


def _order_form(form: dict, errors: dict | None = None, summary: Summary | None = None,
                status: int = 200, key: str | None = None, focus: str | None = None):
    """The form with what was typed; `key` names the order it places (a new one by default);
    `focus` is the id of the control to start from, where there is no summary to read first."""
    with database().session() as session:
        items = service.items(session)
        amounts, total = order_form.line_amounts(form, items)
        return render_template(
            "order_form.html", form=form, errors=errors or {}, summary=summary, focus=focus,
            customers=service.customers(session), items=items, amounts=amounts, total=total,
            idempotency_key=key or idempotent.new_key(), max_lines=service.MAX_LINES, max_count=service.MAX_COUNT,
            same_address=order_form.SAME_ADDRESS,
        ), status


def _json_body():
    if not request.is_json:
        raise service.InvalidOrder("Send the order as JSON with the header Content-Type: application/json.",
                                   {"body": "Content-Type must be application/json."})
    return parse_json_body(request.get_data())


def _now() -> datetime:
    return settings().clock()
