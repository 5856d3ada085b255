"""gunicorn's gthread worker, made to bound slow clients. msatom/gunicorn_conf.py makes
it the services' worker.

A gthread worker serves a connection on one of its threads, which reads the request
with no time limit: a client that sends a byte every few seconds holds a thread for as
long as it likes, and as many such clients as there are threads take the service
offline. gunicorn 27 has no setting against it (`timeout` is the worker's heartbeat;
keep-alive and the 5 s wait for a first byte end before a request begins). So:
- what arrives of a request is set aside, without a thread, until its headers and its
  body (one with a Content-Length of at most SET_ASIDE_BODY) are all there; meanwhile
  the connection waits in the worker's poller, as an idle keep-alive one does. It is
  closed when READ_SECONDS pass after its first byte, or `keepalive` seconds (2)
  without a byte;
- a body not set aside (longer, chunked, or one whose client waits for 100 Continue)
  is read by a thread, within READ_SECONDS; a client that misses that is treated as
  gone: its read ends as at a closed connection and the thread is free again.
On the open internet the services sit behind Apache, which reads every request whole
before it passes it on (apache/httpd.conf); this is for whoever reaches gunicorn
directly, on the services' own network.

It relies on gthread's internals (_DEFER, TConn.data_ready, the parser's unreader
buffer), which any release may move: setup.cfg pins gunicorn to the releases it was
tested with, and tests/unit/test_gunicorn_internals.py fails when one has moved.
"""
from __future__ import annotations

import socket
import time

from gunicorn.workers.gthread import _DEFER, ThreadWorker

READ_SECONDS = 10.0
SET_ASIDE_HEADERS = 64 * 1024  # longer headers go to a thread, where gunicorn refuses them
SET_ASIDE_BODY = 1024 * 1024  # the services' MAX_CONTENT_LENGTH


class ClientSocket(socket.socket):
    """A client's socket that first hands out what was set aside, and whose reads end
    at a deadline, after which it reads as closed. A socket still, for the app's
    environ["gunicorn.socket"] (common/feed/waiting.py peeks at it)."""

    def __init__(self, sock: socket.socket):
        super().__init__(sock.family, sock.type, sock.proto, fileno=sock.detach())
        self._deadline: float | None = None
        self.expired = False
        self.early = bytearray()  # set aside before a thread took the request
        self.began: float | None = None  # first byte of the request being set aside

    def set_aside(self, most: int) -> bool:
        """Take what has arrived, up to `most` bytes in all, without waiting; False
        when the client has closed the connection."""
        while len(self.early) < most:
            try:
                data = super().recv(most - len(self.early), socket.MSG_DONTWAIT)
            except BlockingIOError:
                return True
            except OSError:
                return False
            if not data:
                return False
            self.early += data
        return True

    def read_within(self, seconds: float | None) -> None:
        """Reads from now on end `seconds` from now; None: no limit."""
        self._deadline = None if seconds is None else time.monotonic() + seconds

    def recv(self, size: int, *flags) -> bytes:
        if self.early:  # all of it: gunicorn's reader keeps what it does not need yet
            data = bytes(self.early)
            self.early.clear()
            return data
        if self.expired:
            return b""
        if self._deadline is None:
            return super().recv(size, *flags)
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            return self.expire()
        self.settimeout(remaining)
        try:
            return super().recv(size, *flags)
        except TimeoutError:
            return self.expire()
        finally:
            self.settimeout(None)

    def expire(self) -> bytes:
        """Read no more: the closing of the connection then waits for nothing either."""
        self.expired = True
        try:
            self.shutdown(socket.SHUT_RD)
        except OSError:
            pass
        return b""


def body_to_wait_for(head: bytes) -> int:
    """The bytes of body to set aside after the headers `head`: all of a Content-Length
    body up to SET_ASIDE_BODY; none of a longer or chunked one, or of one that the
    client sends only after 100 Continue. gunicorn's parser judges the request."""
    fields = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        fields[name.strip().lower()] = value.strip()
    length = fields.get(b"content-length", b"0")
    if b"transfer-encoding" in fields or b"expect" in fields or not length.isdigit():
        return 0
    return int(length) if int(length) <= SET_ASIDE_BODY else 0


class BoundedReadWorker(ThreadWorker):
    """The gthread worker; see the module's docstring."""

    @classmethod
    def check_config(cls, cfg, log):
        super().check_config(cfg, log)
        if cfg.is_ssl or "h2" in cfg.http_protocols:
            raise RuntimeError(f"{cls.__name__} bounds HTTP/1.1 over plain TCP only; "
                               "TLS and HTTP/2 belong to the proxy in front")

    def handle(self, conn):
        if not isinstance(conn.sock, ClientSocket):
            conn.sock = ClientSocket(conn.sock)
        sock = conn.sock
        if not self._arrived(conn):
            if sock.began is None or time.monotonic() - sock.began < READ_SECONDS:
                return _DEFER  # to the poller, which hands it back when more arrives
            sock.expire()
            self.log.info("Closed the connection of %s: its request did not arrive in time", conn.client)
            return False
        sock.began = None
        conn.data_ready = True  # what came is set aside: gthread must not wait for more
        sock.read_within(READ_SECONDS)  # for what was not set aside
        try:
            return super().handle(conn)
        finally:
            sock.read_within(None)
            if sock.expired:
                self.log.info("Closed the connection of %s: its request body did not arrive in time", conn.client)

    def _arrived(self, conn) -> bool:
        """Whether a thread can read the request without waiting for the client."""
        sock = conn.sock
        held = conn.parser.unreader.buf.getvalue() if conn.parser is not None else b""
        if not sock.set_aside(SET_ASIDE_HEADERS):
            return True  # closed: the parser sees the end
        data = held + sock.early
        if data and sock.began is None:
            sock.began = time.monotonic()
        end = data.find(b"\r\n\r\n")
        if end < 0:
            # Not yet; unless so long, or with a bare LF, that gunicorn refuses it.
            return len(data) >= SET_ASIDE_HEADERS or data.count(b"\n") != data.count(b"\r\n")
        whole = end + 4 + body_to_wait_for(data[:end])
        if not sock.set_aside(whole - len(held)):
            return True
        return len(held) + len(sock.early) >= whole

    def handle_request(self, req, conn):
        conn.sock.read_within(READ_SECONDS)  # the body, from the end of the headers
        try:
            return super().handle_request(req, conn)
        finally:
            conn.sock.read_within(None)
