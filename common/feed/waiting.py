"""Long-poll (RFC 7240 `Prefer: wait`): a conditional GET of a feed held until the
feed grows or the client's wait is over.

A client that sends `Prefer: wait=<seconds>` with the `If-None-Match` of its copy
asks to be told of the next entry rather than "304 Not Modified" at once. While its
copy is current the request is held, at most MAX_WAIT_SECONDS: as soon as an entry
commits, in any process of the service (`LongPoll.watch`), it is answered 200 with
the new document; when the wait is over, 304. Both carry `Preference-Applied:
wait=<n>`, n the seconds allowed. A client that is behind gets its 200 at once.

Every held request holds a server thread, so a process holds at most `limit` of
them. Past that, and once the server is stopping, a request is answered at once as
if it had not asked to wait (no Preference-Applied): the client then waits by itself
before it asks again. The places are shared fairly (`Sharing`): a request without a
valid credential may take only the places not kept for those with one (the
consumers), and only a few per client address, so that nobody can take them all. Held requests sleep on a condition that news wakes; about
twice a second each also looks whether its client has gone (on the connection's
socket, where the server hands it to the app: gunicorn, Werkzeug), so a client that
gave up frees its place. Where the server gives no socket (waitress) the wait's cap
bounds it.
"""
from __future__ import annotations

import logging
import os
import re
import select
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import Table
from sqlalchemy.engine import Engine
from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from common.db import Database
from common.feed import outbox

log = logging.getLogger(__name__)

# The longest a request is held. Whatever stands between client and service must let
# an answer take longer than this: apache/httpd.conf's ProxyTimeout, a client's timeout.
MAX_WAIT_SECONDS = 30
# How often a held request looks whether its client is still there.
CLIENT_CHECK_SECONDS = 0.5

_PREFERENCE = re.compile(r'(?:[^,"]|"[^"]*")+')  # one preference: up to a comma outside quotes
_GONE = object()


def requested_wait(headers: Headers) -> int | None:
    """The seconds of the request's `Prefer: wait=<n>`; None without one, or when its
    value is not a whole number of seconds (the preference is then ignored). Only a
    preference's first occurrence counts (RFC 7240, section 2)."""
    for header in headers.getlist("Prefer"):
        for preference in _PREFERENCE.findall(header):
            name, _, value = preference.split(";", 1)[0].partition("=")
            if name.strip().lower() == "wait":
                value = value.strip().strip('"')
                return int(value) if value.isascii() and value.isdigit() else None
    return None


@dataclass(frozen=True)
class Sharing:
    """How the places are shared: `kept` of them only for requests with a valid
    credential; of the others at most `per_address` for one client address."""
    kept: int = 0
    per_address: int | None = None

    @classmethod
    def fair(cls, limit: int) -> Sharing:
        """Half the places kept for credentials, and two per address for the rest."""
        return cls(kept=limit // 2, per_address=2)


class LongPoll:
    """Holds the requests of one process that wait for one feed to grow; `notify`
    wakes them all, each then asks its own answer again."""

    def __init__(self, limit: int, gauge=None, sharing: Sharing = Sharing()):
        self.limit = limit
        self.sharing = sharing
        self._anonymous: Counter[str] = Counter()  # places held without a credential, per client address
        self._gauge = gauge  # a Prometheus gauge of the requests held now, or None
        self._condition = threading.Condition()  # reentrant: see stop()
        self._news = 0  # how often news arrived; a held request compares it with what it has seen
        self._held = 0  # places taken, of `limit`
        # Requests past their first read that found nothing new: held in earnest. A place
        # is taken before that read (news from then on counts), but only now is the
        # request waiting, as the gauge and `held` tell.
        self._waiting = 0
        self._stopping = False
        self._listener: Listener | None = None

    @property
    def held(self) -> int:
        """Requests held now, waiting for news."""
        return self._waiting

    @property
    def listener(self) -> Listener | None:
        return self._listener

    def watch(self, db: Database, log: Table) -> None:
        """Wake the held requests whenever an append to `log` commits: on PostgreSQL from
        any process (a LISTEN on the log's channel, on a thread of its own), elsewhere
        from this process (SQLite lets one process write)."""
        if db.engine.dialect.name == "postgresql":
            self._listener = Listener(db.engine, outbox.channel(log), self.notify).start()
        else:
            outbox.when_appended(db, log, self.notify)

    def notify(self) -> None:
        """News: every held request asks for its answer again."""
        with self._condition:
            self._news += 1
            self._condition.notify_all()

    def stop(self) -> None:
        """The server is stopping: answer the held requests now and hold no more. Safe
        in a signal handler (the condition's lock is reentrant)."""
        with self._condition:
            self._stopping = True
            self._condition.notify_all()

    def close(self) -> None:
        """Stop, and stop listening."""
        self.stop()
        if self._listener is not None:
            self._listener.stop()

    def respond(self, request: Request, answer: Callable[[], Response], credentialed: bool = False) -> Response:
        """`answer()` (a conditional GET's answer, asked anew each time) at once, or,
        when the request prefers to wait and its copy is current, once that changes or
        its wait is over. `credentialed`: the request carries a valid credential."""
        wait = requested_wait(request.headers)
        if not wait or not request.if_none_match:
            return answer()
        wait = min(wait, MAX_WAIT_SECONDS)
        client = None if credentialed else (request.remote_addr or "")
        seen = self._take(client)
        if seen is None:
            return answer()
        waiting = False
        try:
            response = answer()  # read after `seen`: a commit from now on is news
            if response.status_code != 304:
                return response
            waiting = self._wait_begins()
            deadline = time.monotonic() + wait
            gone = client_gone(request.environ)
            while True:
                news = self._next(seen, deadline, gone)
                if news is _GONE:
                    return response  # nobody reads it
                # The wait is over (news None) or news came: the answer as of now. At the
                # end that is one more read, so even news this process missed (its
                # listener reconnecting) is never answered 304.
                response = answer()
                if news is None or response.status_code != 304:
                    break
                seen = news
            response.headers["Preference-Applied"] = f"wait={wait}"
            return response
        finally:
            self._release(waiting, client)

    def _take(self, client: str | None) -> int | None:
        """A place for a held request (`client`: its address, None when it has a
        credential): the news seen so far; None when there is none for it."""
        with self._condition:
            if self._stopping or self._held >= self.limit or (client is not None and not self._free_for(client)):
                return None
            self._held += 1
            if client is not None:
                self._anonymous[client] += 1
            return self._news

    def _free_for(self, client: str) -> bool:
        anonymous = sum(self._anonymous.values())
        per_address = self.sharing.per_address
        return (anonymous < self.limit - self.sharing.kept
                and (per_address is None or self._anonymous[client] < per_address))

    def _wait_begins(self) -> bool:
        with self._condition:
            self._waiting += 1
            self._count()
        return True

    def _release(self, waiting: bool, client: str | None) -> None:
        with self._condition:
            self._held -= 1
            if client is not None:
                self._anonymous[client] -= 1
                if not self._anonymous[client]:
                    del self._anonymous[client]
            if waiting:
                self._waiting -= 1
                self._count()

    def _count(self) -> None:
        if self._gauge is not None:
            self._gauge.set(self._waiting)

    def _next(self, seen: int, deadline: float, gone: Callable[[], bool]):
        """The news count once it differs from `seen`; None when the wait is over or
        the server stops; _GONE when the client has gone."""
        while True:
            with self._condition:
                if self._news != seen:
                    return self._news
                remaining = deadline - time.monotonic()
                if self._stopping or remaining <= 0:
                    return None
                self._condition.wait(min(remaining, CLIENT_CHECK_SECONDS))
                if self._news != seen:
                    return self._news
            if gone():
                return _GONE


def client_gone(environ: dict) -> Callable[[], bool]:
    """A check whether the client of a request has closed its connection, where the
    server hands the socket to the app (gunicorn, Werkzeug); elsewhere never."""
    connection = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
    if not isinstance(connection, socket.socket):
        return lambda: False

    def gone() -> bool:
        try:
            # A peek on the raw socket (also under TLS): b"" is the end of the stream;
            # nothing to read yet, or a pipelined next request, means it is still there.
            return socket.socket.recv(connection, 1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True  # reset, or closed already

    return gone


class Listener:
    """A PostgreSQL connection of this process, on a thread of its own, that LISTENs on
    `channel` and calls `heard()` on every notification. It calls `heard()` also after
    each (re)connection: a commit while it was away is news it cannot have received.
    When the connection breaks (the database restarts) it connects again, after 0.5 s,
    then up to every RETRY_MAX_SECONDS; a quiet connection is pinged now and then, so
    that a dead one is noticed too."""

    RETRY_MIN_SECONDS = 0.5
    RETRY_MAX_SECONDS = 5.0
    PING_SECONDS = 10.0

    def __init__(self, engine: Engine, channel: str, heard: Callable[[], None]):
        if engine.dialect.driver != "psycopg2":
            raise ValueError(f"listening on PostgreSQL needs the driver psycopg2 (postgresql+psycopg2://...), "
                             f"not {engine.dialect.driver}")
        self.channel = channel
        self.listening = threading.Event()  # set while the LISTEN is in place
        self.connections = 0  # how often it has connected so far
        self._engine = engine
        self._heard = heard
        self._stopping = threading.Event()
        self._wake_read, self._wake_write = os.pipe()
        self._thread = threading.Thread(target=self._run, name=f"listen {channel}", daemon=True)

    def start(self) -> Listener:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        os.write(self._wake_write, b"x")
        self._thread.join(timeout)
        if not self._thread.is_alive():
            os.close(self._wake_read)
            os.close(self._wake_write)

    def _run(self) -> None:
        delay, away = self.RETRY_MIN_SECONDS, False
        while not self._stopping.is_set():
            try:
                connection = self._connect()
            except Exception as error:  # the database is away: try again
                if not away:
                    log.warning("cannot listen on %s (%s); trying again", self.channel, _first_line(error))
                away = True
                self._stopping.wait(delay)
                delay = min(delay * 2, self.RETRY_MAX_SECONDS)
                continue
            if away:
                log.info("listening on %s again", self.channel)
            away, delay = False, self.RETRY_MIN_SECONDS
            try:
                self.connections += 1
                self.listening.set()
                self._heard()
                self._receive(connection)
            except Exception as error:
                if not self._stopping.is_set():
                    log.warning("lost the connection listening on %s (%s); connecting again", self.channel,
                                _first_line(error))
                    away = True
            finally:
                self.listening.clear()
                try:
                    connection.close()
                except Exception:  # noqa: BLE001 - it is broken already
                    pass

    def _connect(self):
        """A psycopg2 connection of its own (not the pool's) listening on the channel."""
        pooled = self._engine.raw_connection()
        connection: Any = pooled.driver_connection  # psycopg2's, which has no types
        pooled.detach()  # it stays open for good: the pool's size is for requests
        try:
            connection.rollback()  # the pool's ping may have begun a transaction
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f'LISTEN "{self.channel}"')
        except BaseException:
            connection.close()
            raise
        return connection

    def _receive(self, connection) -> None:
        while not self._stopping.is_set():
            readable, _, _ = select.select([connection, self._wake_read], [], [], self.PING_SECONDS)
            if self._stopping.is_set():
                return
            if readable:
                connection.poll()
            else:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT 1")
            if connection.notifies:
                connection.notifies.clear()
                self._heard()


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
