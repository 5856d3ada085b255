"""The feed client over real sockets: a kept-alive connection that the server has
closed is tried once more; a service that is down or slow is still reported."""
from __future__ import annotations

import socket
import socketserver
import threading
from contextlib import contextmanager

import pytest
from requests.adapters import HTTPAdapter

from common.feed.client import FeedClient, FeedError
from msatom.stack import free_port

PAGE = b"<feed xmlns='http://www.w3.org/2005/Atom'/>"


class ClosingKeptConnections(socketserver.ThreadingTCPServer):
    """Answers the first request on each connection and keeps it open (HTTP/1.1);
    a second request on the same connection finds it closed without an answer, as
    when a server's keep-alive timeout ends just as the client reuses the connection."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.connections = 0


class _Handler(socketserver.StreamRequestHandler):
    server: ClosingKeptConnections

    def handle(self):
        self.server.connections += 1
        self._read_request()
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/atom+xml\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(PAGE), PAGE))
        self.wfile.flush()
        self._read_request()  # the reuse: closed without a word
        self.connection.shutdown(socket.SHUT_RDWR)

    def _read_request(self):
        while self.rfile.readline() not in (b"\r\n", b""):
            pass


@contextmanager
def serving(server):
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_kept_alive_connection_closed_by_the_server_is_tried_once_more():
    server = ClosingKeptConnections()
    with serving(server) as base:
        client = FeedClient(base + "/feed")

        pages = [client.get_page(f"{base}/feed/archive/{number}")[1] for number in (1, 2, 3)]

    assert pages == [PAGE] * 3
    assert server.connections == 3  # each later page: the kept connection failed, a new one answered


def test_without_the_retry_the_same_server_breaks_a_poll():
    """The server above does break a reused connection: the test before proves a retry."""
    with serving(ClosingKeptConnections()) as base:
        client = FeedClient(base + "/feed")
        for adapter in client.http.adapters.values():
            assert isinstance(adapter, HTTPAdapter)
            adapter.max_retries = adapter.max_retries.new(total=0, connect=0, read=0)
        client.get_page(f"{base}/feed/archive/1")

        with pytest.raises(FeedError, match="cannot be reached"):
            client.get_page(f"{base}/feed/archive/2")


def test_a_service_that_is_down_is_still_reported():
    client = FeedClient(f"http://127.0.0.1:{free_port()}/feed")

    with pytest.raises(FeedError, match="cannot be reached"):
        client.get_feed(None, None)


def test_a_service_that_does_not_answer_in_time_is_asked_once():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        client = FeedClient(f"http://127.0.0.1:{silent.getsockname()[1]}/feed", timeout=(2.0, 0.3))

        with pytest.raises(FeedError, match="did not answer in time"):
            client.get_feed(None, None)
        accepted = 0
        silent.settimeout(0.5)
        try:
            while True:
                silent.accept()[0].close()
                accepted += 1
        except TimeoutError:
            pass

    assert accepted == 1
