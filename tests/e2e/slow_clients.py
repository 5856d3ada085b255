"""Slow clients, as an attacker runs them: many connections that each send the start
of a request and then one byte every few seconds, either in the headers or in a body
announced much longer than what arrives. One thread drives them all; leaving the
`with` block closes every connection. Used by the end-to-end tests and by
bench/slow_clients_bench.py."""
from __future__ import annotations

import random
import selectors
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import requests

from tests.e2e.running import http

HEADERS = "headers"
BODY = "body"
ANNOUNCED_BODY = 100_000  # Content-Length of a slow body; it never all arrives
FIRST_PART = 20_000  # bytes of that body sent at once, the rest a byte at a time


@dataclass
class Connection:
    sock: socket.socket
    opened: float
    next_byte: float
    dropped: float | None = None  # when the server closed it or answered
    answer: bytes = b""  # what the server sent before it closed, if anything
    received: bytearray = field(default_factory=bytearray)


def request_start(kind: str, path: str, host: str) -> bytes:
    """What a slow client sends at once: a request line and some headers, or a whole
    head of a JSON POST and the first part of its body."""
    if kind == HEADERS:
        return f"GET {path} HTTP/1.1\r\nHost: {host}\r\nX-Slow: ".encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Accept: application/json\r\nContent-Length: {ANNOUNCED_BODY}\r\n\r\n").encode()
    return head + b'{"customerId": 1, "note": "' + b"x" * (FIRST_PART - 27)


class SlowClients:
    """`count` connections to `address` that trickle a request of `kind` (HEADERS or
    BODY), one byte every `interval` seconds (a random pick from the range)."""

    def __init__(self, address: tuple[str, int], count: int, kind: str, path: str,
                 interval: tuple[float, float] = (2.0, 5.0)):
        assert kind in (HEADERS, BODY)
        self.address, self.count, self.kind, self.path, self.interval = address, count, kind, path, interval
        self.connections: list[Connection] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="slow-clients", daemon=True)
        self._selector = selectors.DefaultSelector()

    def __enter__(self) -> SlowClients:
        start = request_start(self.kind, self.path, f"{self.address[0]}:{self.address[1]}")
        try:
            for _ in range(self.count):
                sock = socket.create_connection(self.address, timeout=10)
                sock.sendall(start)
                sock.setblocking(False)
                now = time.monotonic()
                connection = Connection(sock, now, now + random.uniform(*self.interval))
                self.connections.append(connection)
                self._selector.register(sock, selectors.EVENT_READ, connection)
        except BaseException:
            self._close()
            raise
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._close()

    def _close(self) -> None:
        self._selector.close()
        for connection in self.connections:
            connection.sock.close()

    def dropped(self) -> list[Connection]:
        with self._lock:
            return [c for c in self.connections if c.dropped is not None]

    def open(self) -> list[Connection]:
        with self._lock:
            return [c for c in self.connections if c.dropped is None]

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                waiting = [c.next_byte for c in self.connections if c.dropped is None]
            if not waiting:
                return
            now = time.monotonic()
            # Wake for the next byte due, and at least every 0.1 s to notice a stop.
            for key, _ in self._selector.select(timeout=min(max(min(waiting) - now, 0), 0.1)):
                self._read(key.data)
            now = time.monotonic()
            for connection in self.connections:
                if connection.dropped is None and connection.next_byte <= now:
                    self._send_byte(connection)

    def _read(self, connection: Connection) -> None:
        try:
            data = connection.sock.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            connection.received += data
        if not data or b"\r\n\r\n" in connection.received:
            self._drop(connection)

    def _send_byte(self, connection: Connection) -> None:
        try:
            connection.sock.send(b"a" if self.kind == HEADERS else b"x")
        except BlockingIOError:
            pass
        except OSError:
            self._drop(connection)
            return
        connection.next_byte = time.monotonic() + random.uniform(*self.interval)

    def _drop(self, connection: Connection) -> None:
        with self._lock:
            connection.dropped = time.monotonic()
            connection.answer = bytes(connection.received)
        try:
            self._selector.unregister(connection.sock)
        except (KeyError, ValueError):
            pass

    def statuses(self) -> list[str]:
        """The status line each dropped connection got (empty when it was just closed)."""
        return [c.answer.split(b"\r\n", 1)[0].decode(errors="replace") for c in self.dropped()]


@dataclass
class Probes:
    health: list[tuple[float, int | str]] = field(default_factory=list)  # seconds, status or error
    orders: list[int | str] = field(default_factory=list)  # status or error

    def failures(self, within: float = 1.0) -> list[str]:
        """What a user would have noticed: /health not answering 200 within `within`
        seconds, an order not placed (201)."""
        late = [f"/health: {answer} after {seconds:.2f} s" for seconds, answer in self.health
                if answer != 200 or seconds >= within]
        return late + [f"order: {answer}" for answer in self.orders if answer != 201]


def probe(health_url: str, order_url: str, order: dict, until: Callable[[], bool], timeout: float,
          pace: float = 0.25) -> Probes:
    """Ask `health_url` and place `order` at `order_url`, each on a new connection as a
    health check and a new customer would, every `pace` seconds until `until()` holds
    or `timeout` seconds have passed."""
    session = http()  # a customer signed in, as an admin
    probes = Probes()
    deadline = time.monotonic() + timeout
    while not until() and time.monotonic() < deadline:
        began = time.monotonic()
        try:
            answer: int | str = session.get(health_url, headers={"Connection": "close"}, timeout=5).status_code
        except requests.RequestException as error:
            answer = type(error).__name__
        probes.health.append((time.monotonic() - began, answer))
        try:
            placed: int | str = session.post(order_url, json=order, timeout=10,
                                             headers={"Connection": "close", "Accept": "application/json"}).status_code
        except requests.RequestException as error:
            placed = type(error).__name__
        probes.orders.append(placed)
        # Pace the orders: the consumers import each one, on the same two cores.
        time.sleep(max(0.0, began + pace - time.monotonic()))
    return probes
