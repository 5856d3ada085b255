"""The access log of `msatom run` and `msatom serve`: one line per request, written
when its answer has been sent, e.g. `GET /order/42 200 3 ms`.

ACCESS_LOG chooses which requests: `on` (the default) every one but those answered
304 Not Modified, which the pollers hear every few seconds while nothing is new (as
does a browser that checks a stylesheet again); `all` those too; `off` none.
Production (gunicorn) keeps its own access log.
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping

from werkzeug.wsgi import ClosingIterator

from common import request_id
from common.logs import without_personal_data
from common.settings import ConfigurationError
from common.web.tracing import TRACE_ID

MODES = ("on", "all", "off")
log = logging.getLogger("access")


def access_log_mode(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    mode = env.get("ACCESS_LOG", "").strip().lower() or "on"
    if mode not in MODES:
        raise ConfigurationError(f"ACCESS_LOG={mode!r} is none of on, all and off.")
    return mode


def with_access_log(app, mode: str):
    """`app` writing the access lines that `mode` asks for."""
    return app if mode == "off" else AccessLog(app, not_modified=mode == "all")


class AccessLog:
    """WSGI middleware: a line for each request once its answer is sent (or has failed)."""

    def __init__(self, app, not_modified: bool):
        self.app = app
        self.not_modified = not_modified  # whether answers 304 get a line

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        # Taken now: a mounted app moves the start of the path into SCRIPT_NAME.
        request = _request_line(environ)
        caller = environ.get(f"HTTP_{request_id.HEADER.upper().replace('-', '_')}")
        status = ["500"]  # unless the app starts an answer

        def start(status_line, headers, exc_info=None):
            status[0] = status_line.split(" ", 1)[0]
            return start_response(status_line, headers, exc_info)

        def write() -> None:
            if status[0] != "304" or self.not_modified:
                traced = environ.get(TRACE_ID)
                with request_id.scope(request_id.from_header(caller) or "-"):
                    log.info("%s %s %d ms%s", request, status[0], round((time.perf_counter() - started) * 1000),
                             f" trace={traced}" if traced else "")

        try:
            return ClosingIterator(self.app(environ, start), write)
        except BaseException:
            write()
            raise


def _request_line(environ) -> str:
    # WSGI hands the path over as latin-1 text of the bytes the client sent.
    path = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).encode("latin-1", "replace")
    query = without_personal_data(environ.get("QUERY_STRING", ""))
    return f"{environ.get('REQUEST_METHOD', '-')} {path.decode('utf-8', 'replace')}{'?' + query if query else ''}"
