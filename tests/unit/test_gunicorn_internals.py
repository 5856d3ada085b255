"""The gunicorn that msatom/gunicorn_worker.py supports, and the internals of it the
worker relies on. They are gthread's own, not an interface: any release may move one,
and the worker would then stop bounding slow clients, or fail only under load. setup.cfg
pins gunicorn to the versions named here; before widening the pin, install the new
release and run these tests: each failure names what moved."""
from __future__ import annotations

import inspect
import io
import socket

import gunicorn
import pytest
from gunicorn import http
from gunicorn.config import Config
from gunicorn.workers import gthread
from packaging.specifiers import SpecifierSet

from msatom.gunicorn_worker import ClientSocket

SUPPORTED = SpecifierSet(">=27.0.1,<28")  # as setup.cfg's install_requires says
CLIENT = ("127.0.0.1", 50000)


@pytest.fixture
def pair():
    server, client = socket.socketpair()
    yield server, client
    server.close()
    client.close()


def test_the_installed_gunicorn_is_one_the_worker_supports():
    assert gunicorn.__version__ in SUPPORTED, (
        f"gunicorn {gunicorn.__version__} is installed; msatom/gunicorn_worker.py supports gunicorn {SUPPORTED}")


def test_a_thread_that_returns_the_defer_sentinel_hands_its_connection_back_to_the_poller():
    assert hasattr(gthread, "_DEFER"), "gunicorn.workers.gthread._DEFER is gone: the worker cannot defer a connection"
    assert "_DEFER" in inspect.getsource(gthread.ThreadWorker.finish_request), (
        "ThreadWorker.finish_request no longer looks for _DEFER: a deferred connection would be closed")


def test_the_worker_overrides_methods_gthread_calls_with_the_same_arguments():
    methods = {"handle": ["self", "conn"], "handle_request": ["self", "req", "conn"], "check_config": ["cfg", "log"]}
    for name, parameters in methods.items():
        assert list(inspect.signature(getattr(gthread.ThreadWorker, name)).parameters) == parameters, (
            f"ThreadWorker.{name} takes other arguments now")
    assert isinstance(inspect.getattr_static(gthread.ThreadWorker, "check_config"), classmethod)


def test_a_connection_has_the_socket_parser_and_data_ready_the_worker_sets_and_reads(pair):
    server, _ = pair
    conn = gthread.TConn(Config(), server, CLIENT, ("127.0.0.1", 8000))

    assert conn.sock is server and conn.client == CLIENT
    assert conn.parser is None, "TConn.parser is made later than it was: the worker reads it before init()"
    assert conn.data_ready is False
    conn.data_ready = True
    assert conn.wait_for_data(0), "TConn.data_ready no longer spares the thread its wait for data"
    assert "conn.data_ready" in inspect.getsource(gthread.ThreadWorker.handle), (
        "ThreadWorker.handle no longer asks conn.data_ready: a thread would wait for what the worker set aside")


def test_the_parser_reads_through_the_sockets_recv_and_keeps_its_read_ahead_in_a_buffer(pair):
    server, client = pair
    sock = ClientSocket(server)
    client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\n")
    assert sock.set_aside(1024)
    parser = http.get_parser(Config(), sock, CLIENT)

    request = next(parser)

    assert (request.method, request.path) == ("GET", "/")
    assert isinstance(parser.unreader.buf, io.BytesIO), "the parser's unreader keeps its read-ahead elsewhere now"
    assert parser.unreader.buf.getvalue() == b"GET /next HTTP/1.1\r\n"


def test_the_settings_the_worker_checks_are_there():
    config = Config()

    assert not config.is_ssl
    assert list(config.http_protocols) == ["h1"], "the worker refuses h2 by its name in http_protocols"
