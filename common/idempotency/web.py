"""A view's answer given once per idempotency key: the key and fingerprint of the request,
and the answer kept with the view's work and given again to a retry (store.py)."""
from __future__ import annotations

import uuid
from typing import Any, Callable

import werkzeug
from flask import Response, request
from sqlalchemy import Table
from sqlalchemy.orm import Session

from common.idempotency import keys, store
from common.parts import database
from common.web.app import settings


def header_key() -> str | None:
    """The request's Idempotency-Key; None without one, InputError when malformed."""
    return keys.header_key(request.headers.getlist(keys.HEADER))


def form_key() -> str | None:
    """The key of the posted form; None without one, InputError when malformed."""
    return keys.form_key(request.form.get(keys.FORM_FIELD))


def new_key() -> str:
    """A key for a form being shown: random, so that no other form has it."""
    return str(uuid.uuid4())


def answer_once(table: Table, key: str, body: Any, respond: Callable[[Session], werkzeug.Response],
                wait: bool = False) -> Response:
    """`respond(session)`, committed with its answer under `key`; to a retry of the same
    request (method, path, media type, `body` as parsed), that answer again."""
    fingerprint = keys.fingerprint(request.method, request.path, request.mimetype, body)
    with database().session() as session:
        answer = store.once(session, table, key, fingerprint, settings().clock(),
                            lambda: _kept(respond(session)), wait)
    response = Response(answer.body, answer.status, content_type=answer.content_type)
    if answer.location is not None:
        response.headers["Location"] = answer.location
    return response


def _kept(response: werkzeug.Response) -> store.Answer:
    return store.Answer(response.status_code, response.content_type, response.get_data(as_text=True),
                        response.headers.get("Location"))
