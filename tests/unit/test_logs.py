"""Log lines that a request cannot forge: what a client sends is escaped, one record a line."""
from __future__ import annotations

import io
import logging

import pytest

from common.logs import EscapingFormatter, escape_handlers, escaped

FORGED = "2026-01-01 00:00:00,000 ERROR common.web [admin] FORGED"


def logged(formatter: logging.Formatter, message: str, *args, exc_info=None) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.Logger("test")
    logger.addHandler(handler)
    logger.error(message, *args, exc_info=exc_info)
    return stream.getvalue()


@pytest.mark.parametrize("sent, shown", [
    ("/x\n" + FORGED, "/x\\n" + FORGED),
    ("/x\r\n" + FORGED, "/x\\r\\n" + FORGED),
    ("a\x00b\x1b[31mc\x7f", "a\\x00b\\x1b[31mc\\x7f"),
    ("\x85next line\u2028\u2029", "\\x85next line\\u2028\\u2029"),
    ("invoice\u202egpj.exe", "invoice\\u202egpj.exe"),
    ("Ohlauer Straße 43, 東京", "Ohlauer Straße 43, 東京"),
])
def test_unprintable_characters_are_shown_as_escapes(sent, shown):
    assert escaped(sent) == shown


def test_a_value_with_a_newline_stays_on_the_line_of_its_record():
    output = logged(EscapingFormatter("%(levelname)s %(message)s"), "form post refused on %s %s", "POST",
                    "/order/x\n" + FORGED)

    assert output == f"ERROR form post refused on POST /order/x\\n{FORGED}\n"


def test_a_traceback_is_indented_so_that_none_of_its_lines_starts_a_record():
    try:
        int("x\n" + FORGED)
    except ValueError:
        output = logged(EscapingFormatter("%(levelname)s %(message)s"), "unhandled error on %s", "/x\n",
                        exc_info=True)

    first, *rest = output.splitlines()
    assert first == "ERROR unhandled error on /x\\n"
    assert rest[0] == "    Traceback (most recent call last):"
    assert all(line.startswith("    ") for line in rest)
    assert any(FORGED in line for line in rest)


def test_other_handlers_of_the_record_see_it_as_it_was():
    record = logging.LogRecord("test", logging.ERROR, __file__, 1, "on %s", ("/x\ny",), None)

    EscapingFormatter().format(record)

    assert record.getMessage() == "on /x\ny"


def test_handlers_set_up_elsewhere_escape_and_keep_their_format():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
    logger = logging.Logger("gunicorn.access")
    logger.addHandler(handler)

    escape_handlers(logger)
    logger.error('GET /x%s HTTP/1.1', "\n" + FORGED)

    assert stream.getvalue() == f"[ERROR] GET /x\\n{FORGED} HTTP/1.1\n"
