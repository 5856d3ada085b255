"""What a service answers when a request goes wrong: a page or JSON, as the client
prefers, that says what to do next."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import BadRequest, HTTPException, NotFound, RequestEntityTooLarge

from common.errors import InputError
from common.negotiation import wants_html

log = logging.getLogger(__name__)

# werkzeug's own sentence ("The data value transmitted exceeds the capacity limit.") tells
# nobody what to do. Apache's 413 says the same (apache/htdocs/error/413.*).
TOO_LARGE = "The request body is larger than 1 MiB, the most a service accepts."
# werkzeug's ("The requested URL was not found on the server. If you entered the URL
# manually please check your spelling and try again.") is two sentences about servers.
# Apache's 404 says the same (apache/htdocs/error/404.*).
NOT_FOUND = "There is nothing at this address; check it for a typing mistake, or start again from the start page."


def install(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(NotFound, _not_found)
    app.register_error_handler(InputError, _input_error)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(Exception, _unexpected_error)


def _http_error(error: HTTPException):
    # The error's own headers, such as the Allow of a 405, with a body of ours.
    headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
    if wants_html():
        return render_template("error.html", error=error), error.code, headers
    return jsonify(error=error.description), error.code, headers


def _too_large(_error: RequestEntityTooLarge):
    return _http_error(RequestEntityTooLarge(TOO_LARGE))


def _not_found(error: NotFound):
    # No route, or a view's bare 404; a view that says what is missing keeps its words.
    return _http_error(NotFound(NOT_FOUND) if error.description == NotFound.description else error)


def _input_error(error: InputError):
    if wants_html():
        return render_template("error.html", error=BadRequest(error.message)), 400
    return jsonify(error=error.message, details=error.details), 400


def _database_unavailable(error: OperationalError):
    log.warning("database unavailable on %s %s: %s", request.method, request.path, error.orig)
    message = "The service's database does not answer; please try again in a moment."
    body = render_template("error.html", error=None, message=message) if wants_html() else jsonify(error=message)
    return body, 503, {"Retry-After": "5"}


def _unexpected_error(error: Exception):
    log.exception("unhandled error on %s %s", request.method, request.path)
    if wants_html():
        return render_template("error.html", error=None), 500
    return jsonify(error="Something went wrong on our side; please try again."), 500
