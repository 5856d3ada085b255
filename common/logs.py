"""The services' log lines: each with its request id, and none that a request can forge.

A value from a request (a path, a header, a form field, a feed's text) may hold a
newline followed by what looks like a log line of its own. Every record is escaped in
one place, the formatter that all handlers here use, gunicorn's included
(msatom/gunicorn_conf.py): control characters, line and paragraph separators and
bidirectional overrides are shown as escapes (`\\n`, `\\x1b`, `\\u202e`), never written.
A traceback spans lines by design; its lines are indented, so that none a request
shaped can start a line the way a record does.

Where the service traces (common/tracing.py), a line written in a trace names it
beside the request id: `[<request id> trace=<trace id>]`. With LOG_FORMAT=json every
record is one JSON object a line instead, for a log shipper: time, level, service,
logger, message, request id, and the ids of the trace and span it belongs to; the
message and traceback escaped as in text.
"""
from __future__ import annotations

import json
import logging
import os
import re
from datetime import datetime, timezone
from urllib.parse import unquote_plus

from flask import current_app, has_app_context

from common.request_id import RequestIdFilter
from common.settings_table import LOG_FORMAT
from common.tracing import current_ids

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s%(trace)s] %(message)s"
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
TRACEBACK_INDENT = "    "


# Query parameters whose values may be personal data (a search for a customer's name or
# email, or the page to return to after signing in, which may hold one): an access log
# keeps the parameter, not its value.
PERSONAL_PARAMETERS = frozenset({"q", "next"})
REDACTED = "redacted"


def without_personal_data(query: str) -> str:
    """`query` (a URL's query string) as an access log keeps it: the values of
    PERSONAL_PARAMETERS replaced by REDACTED."""
    if not query:
        return query
    return "&".join(f"{part.partition('=')[0]}={REDACTED}"
                    if unquote_plus(part.partition("=")[0]) in PERSONAL_PARAMETERS else part
                    for part in query.split("&"))


def escaped(text: str) -> str:
    """`text` on one line, its unprintable characters as Python-style escapes."""
    return _UNPRINTABLE.sub(_escape, text)


def _escape(match: re.Match) -> str:
    character = match.group()
    return _SHORT.get(character) or (f"\\x{ord(character):02x}" if ord(character) < 0x100
                                     else f"\\u{ord(character):04x}")


def _indented(block: str) -> str:
    return "\n".join(TRACEBACK_INDENT + escaped(line) for line in block.splitlines())


class EscapingFormatter(logging.Formatter):
    """A formatter whose records are one line each, tracebacks indented below them."""

    @classmethod
    def like(cls, formatter: logging.Formatter | None) -> EscapingFormatter:
        """An escaping formatter with the format and date format of `formatter`."""
        if formatter is None:
            return cls()
        return cls(formatter._fmt, formatter.datefmt)

    def format(self, record: logging.LogRecord) -> str:
        # A copy: other handlers of the same record format it their own way.
        record = logging.makeLogRecord(record.__dict__)
        record.msg, record.args, record.exc_text = escaped(record.getMessage()), None, None
        return super().format(record)

    def formatException(self, exc_info) -> str:
        return _indented(super().formatException(exc_info))

    def formatStack(self, stack_info: str) -> str:
        return _indented(super().formatStack(stack_info))


class IdsFilter(RequestIdFilter):
    """Gives every record its request id (`request_id`) and, in a trace, ` trace=<id>`
    (`trace`, empty outside one): the two side by side in every text line."""

    def filter(self, record: logging.LogRecord) -> bool:
        super().filter(record)
        trace_id = current_ids()["trace_id"]
        record.trace = f" trace={trace_id}" if trace_id else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line, of `service`'s records; without one, of the service whose
    request or app the record comes from (`msatom run` serves four in one process)."""

    def __init__(self, service: str | None = None):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", "-")
        entry = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "service": self.service or _current_service(), "logger": record.name,
                 "message": escaped(record.getMessage()), "request_id": None if request_id == "-" else request_id,
                 **current_ids()}
        if record.exc_info:
            entry["exception"] = "\n".join(escaped(line) for line in self.formatException(record.exc_info).splitlines())
        return json.dumps(entry, ensure_ascii=False)


def _current_service() -> str | None:
    settings = current_app.config.get("SETTINGS") if has_app_context() else None
    return getattr(settings, "service", None)


def json_lines() -> bool:
    """Whether the environment asks for JSON lines (LOG_FORMAT=json)."""
    return LOG_FORMAT.read(os.environ) == "json"


def escape_handlers(logger: logging.Logger, service: str | None = None) -> None:
    """Make every handler of `logger` escape what it writes, keeping its format; or
    write JSON lines of `service`'s, if so asked."""
    for handler in logger.handlers:
        if json_lines():
            handler.setFormatter(JsonFormatter(service))
        elif not isinstance(handler.formatter, EscapingFormatter):
            handler.setFormatter(EscapingFormatter.like(handler.formatter))


def configure_logging(level: int = logging.INFO, service: str | None = None) -> None:
    """Log to stderr with the request id on every line, as text or JSON lines of
    `service`'s (LOG_FORMAT), unless logging is set up already."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter(service) if json_lines() else EscapingFormatter(TEXT_FORMAT))
    handler.addFilter(IdsFilter())
    root.addHandler(handler)
    root.setLevel(level)
    # Every scheduled run would be logged twice; the poller logs what matters itself.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
