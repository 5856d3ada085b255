"""The socket of msatom/gunicorn_worker.py: what it sets aside comes first, and reads
end at their deadline; which body it waits for before a thread takes a request."""
from __future__ import annotations

import socket

import pytest

from msatom.gunicorn_worker import SET_ASIDE_BODY, ClientSocket, body_to_wait_for


@pytest.fixture
def pair():
    server, client = socket.socketpair()
    yield ClientSocket(server), client
    server.close()
    client.close()


def test_what_was_set_aside_is_read_first_and_whole(pair):
    server, client = pair
    client.sendall(b"GET / HTTP/1.1\r\n")
    assert server.set_aside(1024)
    client.sendall(b"Host: x\r\n\r\n")

    assert server.recv(4) == b"GET / HTTP/1.1\r\n"  # gunicorn's reader keeps what it does not need
    assert server.recv(1024) == b"Host: x\r\n\r\n"


def test_set_aside_takes_no_more_than_asked_and_tells_of_a_closed_connection(pair):
    server, client = pair
    client.sendall(b"abcdef")

    assert server.set_aside(4) and bytes(server.early) == b"abcd"
    client.close()
    assert not server.set_aside(1024)
    assert bytes(server.early) == b"abcdef"


def test_a_read_past_its_deadline_ends_as_a_closed_connection_would(pair):
    server, client = pair
    server.read_within(0.05)

    assert server.recv(1024) == b""  # nothing came within 0.05 s
    assert server.expired
    server.read_within(None)
    assert server.recv(1024) == b""  # and it reads nothing more


def test_without_a_deadline_reads_wait(pair):
    server, client = pair
    server.read_within(0.05)
    server.read_within(None)
    client.sendall(b"data")

    assert server.recv(1024) == b"data"
    assert not server.expired


@pytest.mark.parametrize(("head", "wanted"), [
    (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1234", 1234),
    (b"POST / HTTP/1.1\r\ncontent-length : 5", 5),
    (b"GET / HTTP/1.1\r\nHost: x", 0),
    (f"POST / HTTP/1.1\r\nContent-Length: {SET_ASIDE_BODY + 1}".encode(), 0),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked", 0),
    (b"POST / HTTP/1.1\r\nContent-Length: 10\r\nExpect: 100-continue", 0),
    (b"POST / HTTP/1.1\r\nContent-Length: ten", 0),
])
def test_the_body_waited_for(head, wanted):
    assert body_to_wait_for(head) == wanted
