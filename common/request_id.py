"""Request ids: one id follows a request from Apache into a service's log, and one
poll's requests from a poller into the log of the service it polls (header X-Request-Id)."""
from __future__ import annotations

import logging
import re
import uuid
from contextlib import contextmanager
from contextvars import ContextVar

from flask import Flask, request

HEADER = "X-Request-Id"
# Apache's mod_unique_id ids, uuids and the like; anything else is not logged.
_ACCEPTABLE = re.compile(r"[A-Za-z0-9@._:-]{1,128}")

_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def current() -> str | None:
    """The id of the request or poll being served in this thread, if any."""
    return _current.get()


def from_header(value: str | None) -> str | None:
    """`value`, an X-Request-Id a client sent, when it is fit for the log; else None."""
    return value if value and _ACCEPTABLE.fullmatch(value) else None


def adopt(value: str | None) -> None:
    """Take `value` as this thread's id: for the worker threads of a poll."""
    _current.set(value)


@contextmanager
def scope(value: str | None = None):
    """Run under `value`, else under the id already in force, else a new one."""
    token = _current.set(value or _current.get() or uuid.uuid4().hex)
    try:
        yield _current.get()
    finally:
        _current.reset(token)


class RequestIdFilter(logging.Filter):
    """Gives every log record `request_id`: the current id, or "-"."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current.get() or "-"
        return True


def install(app: Flask) -> None:
    """Each request runs under the X-Request-Id it came with (Apache sets one);
    its log records carry it, and so does a poll it starts."""

    def _enter():
        request.environ["msatom.request_id"] = _current.set(from_header(request.headers.get(HEADER)))

    app.before_request_funcs.setdefault(None, []).insert(0, _enter)  # before any hook that may answer

    @app.teardown_request
    def _leave(_error=None):
        token = request.environ.pop("msatom.request_id", None)
        if token is not None:
            try:
                _current.reset(token)
            except (ValueError, RuntimeError):  # set in another context: nothing of ours to undo
                pass
