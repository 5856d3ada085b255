"""The answers of a service's routes: one resource or a list a page at a time, as an
HTML page or as JSON, as the client prefers."""
from __future__ import annotations

from typing import Any, Callable

from flask import abort, jsonify, render_template, request, url_for
from sqlalchemy import Select
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound

from common.listing import Columns, Search, listing, search_from
from common.negotiation import wants_html
from common.paging import fetch_page, page_number


def respond(data: Callable[[], Any], template: str, status: int = 200, **context):
    """The same resource as an HTML page or as JSON, as the client prefers."""
    if wants_html():
        return render_template(template, **context), status
    return jsonify(data()), status


def respond_page(session: Session, query: Select, item_json: Callable[[Any], Any], template: str,
                 search: Search = Search(), **context):
    """The page of what `query` selects that the request asks for (`?page=`, from 1), as
    HTML or as a JSON array, with `Link` headers (RFC 8288) to the newer (`prev`) and
    older (`next`) pages, which ask for the same `search`."""
    page = fetch_page(session, query, page_number(request.args.get("page")))
    if page.number > page.count:
        abort(404, f"There is no page {page.number}; the list has {page.count}.")
    body, status = respond(lambda: [item_json(item) for item in page.items], template, page=page, search=search,
                           **context)
    endpoint, arguments = request.endpoint or "", request.view_args or {}  # a routed request has both
    links = [f'<{url_for(endpoint, **arguments, **search.args(page=number), _external=True)}>; '
             f'rel="{rel}"' for rel, number in (("prev", page.newer), ("next", page.older)) if number]
    return body, status, {"Link": ", ".join(links)} if links else {}


def respond_list(session: Session, query: Select, columns: Columns, item_json: Callable[[Any], Any], template: str,
                 **context):
    """`respond_page` of a list that finds things: the rows of a status (`?status=`) that
    hold the words searched for (`?q=`) in `columns`; the template also gets `listing`,
    the count of each status."""
    search = search_from(request.args, columns.statuses, columns.hint)
    found, shown = listing(session, query, columns, search)
    return respond_page(session, shown, item_json, template, search=search, listing=found, **context)


class NotCopiedYet(NotFound):
    """404 for what this service has not read from the feed (yet): its page links to
    the list of the originals, in the service the feed comes from; never to an
    original's own page, which may not exist."""

    def __init__(self, description: str, originals_href: str, originals_label: str):
        super().__init__(description)
        self.originals = (originals_href, originals_label)
