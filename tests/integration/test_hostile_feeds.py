"""A hostile or broken feed cannot read the consumer's files, exhaust its memory or
make it follow links elsewhere: each is refused with a message, and nothing is stored."""
from __future__ import annotations

import tracemalloc

import pytest

from common import parts
from tests.conftest import live_server

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE feed [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<feed xmlns="http://www.w3.org/2005/Atom"><id>x</id><title>&secret;</title></feed>"""

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE feed [<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">""" + b"".join(
    f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(6)) + b"""]>
<feed xmlns="http://www.w3.org/2005/Atom"><id>x</id><title>&g;</title></feed>"""  # 40 MB expanded

# The same declarations past the prolog, where XML allows none.
LATE_BOMB = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><id>x</id>""" + \
    BOMB.split(b"?>", 1)[1].split(b"<feed", 1)[0] + b"""<title>&g;</title></feed>"""

TRUNCATED = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><id>x</id><entry><id>e"""


def huge(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/atom+xml")])
    return (b"<!-- " + b"x" * (1024 * 1024) + b" -->" for _ in range(50))  # 50 MB, never fully read


def serving(body: bytes):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/atom+xml")])
        return [body]
    return app


@pytest.mark.parametrize("app, reason", [
    (serving(XXE), "document type"),
    (serving(BOMB), "document type"),
    (serving(LATE_BOMB), "not well-formed"),
    (serving(TRUNCATED), "not well-formed"),
    (huge, "larger than 10 MiB"),
], ids=["xxe", "entity-bomb", "late-entity-bomb", "truncated", "50-MB"])
def test_a_hostile_feed_is_refused_without_reading_files_or_growing_memory(app, reason, consumer_app):
    with live_server(app) as base:
        invoicing = consumer_app("invoicing", f"{base}/feed")
        tracemalloc.start()
        result = parts.consumer(invoicing).poll()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        page = invoicing.test_client().get("/", headers={"Accept": "text/html"}).get_data(as_text=True)

    assert result.status == "error" and reason in result.message
    assert peak < 32 * 1024 * 1024, f"the poll held {peak // 2**20} MiB at its peak"
    assert "root:" not in result.message and "root:" not in page
    assert parts.consumer(invoicing).poll_state().position == 0
