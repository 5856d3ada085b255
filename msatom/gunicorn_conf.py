"""gunicorn's settings for the services: `gunicorn --config python:msatom.gunicorn_conf ...`
(the Dockerfile's GUNICORN_CMD_ARGS and msatom/stack.py pass it).

The access log names each request's X-Request-Id (Apache's, or a poller's), and its
trace where the service traces (common/tracing.py). With
PROMETHEUS_MULTIPROC_DIR set, the folder is emptied when gunicorn starts, so counters
begin at 0 like the processes do; the workers then write their numbers there and
GET /metrics reports the sum over all of them (common/metrics.py).

Long-poll (common/feed/waiting.py) holds a request to the order feed up to 30 s, each
on a thread of the gthread worker. gunicorn's `timeout` does not cut it: a gthread
worker tells the master it is alive from its main loop, not from the threads serving
requests. How many requests a worker may hold (FEED_MAX_WAITING) follows from its
threads: all but RESERVED_THREADS, which stay free for every other request. A worker
told to stop (SIGTERM) answers the requests it holds at once, so a restart does not
wait out its graceful timeout for them. Each worker builds its app, and with it the
thread that listens for new entries, after the fork: do not add `--preload`, the
workers would have no listener. The master imports the services' modules, and only
them (importing builds nothing): each worker forked from it starts without importing
them again, about a second of CPU, and shares their memory. What the master imported,
and what a worker built for its app, lives as long as the process: it is frozen out of
the garbage collector's reach (gc.freeze), so collections while serving skip it, pages
shared with the master stay shared, and a stopping process does not walk it all again
(about 0.3 s of CPU a process).

gunicorn acts on no forwarded header: which peer may set the host, scheme and prefix
of the links is decided in one place, common/proxies.py (TRUSTED_PROXIES). Left to its
defaults gunicorn believes X-Forwarded-Proto (-Ssl, -Protocol) from 127.0.0.1 and ::1,
turning wsgi.url_scheme to https, and a `SCRIPT_NAME:` header from them becomes the
environ's SCRIPT_NAME; on a Unix socket from every client. Either would shape links
before the middleware sees the peer.

gunicorn's own lines, the access log's included, are escaped like the services' lines
(common/logs.py): no value a request sends can start a line of its own.
"""
from __future__ import annotations

import gc
import os
import re
import signal
from pathlib import Path

from gunicorn.glogging import Logger

import msatom.wsgi  # noqa: F401  - the modules the workers inherit (see above)
from common.logs import escape_handlers, without_personal_data
from common.web.tracing import TRACE_ID

gc.freeze()

# gthread, with deadlines for reading each request (msatom/gunicorn_worker.py): a slow
# client that reaches gunicorn directly holds a thread for seconds, not for ever.
worker_class = "msatom.gunicorn_worker.BoundedReadWorker"
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}i)s trace_id=%(trace)s'
forwarded_allow_ips = ""  # no peer may set forwarded or scheme headers for gunicorn...
secure_scheme_headers: dict[str, str] = {}  # ...and none would change wsgi.url_scheme
forwarder_headers = ""  # ...or SCRIPT_NAME, PATH_INFO (also from a Unix socket's peer)


class EscapingLogger(Logger):
    """gunicorn's error and access logs, with every line escaped, and no search query's
    value in the access log."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        served = re.fullmatch(r"msatom\.wsgi:(\w+)\(\)", cfg.default_proc_name or "")  # the app gunicorn runs
        for log in (self.error_log, self.access_log):
            escape_handlers(log, served.group(1) if served else None)

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        path, mark, query = environ["RAW_URI"].partition("?")
        atoms["r"] = f"{environ['REQUEST_METHOD']} {path}{mark}{without_personal_data(query)} " \
                     f"{environ['SERVER_PROTOCOL']}"
        atoms["q"] = without_personal_data(environ.get("QUERY_STRING", ""))
        atoms["trace"] = environ.get(TRACE_ID, "-")  # where the service traces (common/web/tracing.py)
        return atoms


logger_class = EscapingLogger


# Threads of a worker that no waiting request may take, whatever arrives: /health (the
# health checks restart a service that does not answer), orders placed, the documents
# and archive pages consumers fetch (a few at a time each), /metrics. With the 16
# threads of the image and msatom/stack.py, 12 requests may wait per worker: each process
# of a consumer holds one, so two order workers take the consumers of docker-compose.yml
# (four processes) several times over.
RESERVED_THREADS = 4


def on_starting(server) -> None:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for stale in Path(folder).glob("*.db"):
            stale.unlink()


def post_fork(server, worker) -> None:
    """In the worker, before it builds its app: FEED_MAX_WAITING from its threads, unless
    set, and never so high that waiting requests could take every thread."""
    most = max(server.cfg.threads - RESERVED_THREADS, 0)
    given = os.environ.get("FEED_MAX_WAITING", "").strip()
    if given.isdigit() and int(given) >= server.cfg.threads:
        server.log.warning("FEED_MAX_WAITING=%s leaves no thread of %d for other requests; using %d",
                           given, server.cfg.threads, most)
        given = ""
    if not given:
        os.environ["FEED_MAX_WAITING"] = str(most)


def post_worker_init(worker) -> None:
    """On SIGTERM (a stop or restart) the requests held waiting on the feed are answered
    at once, before the worker waits for its requests to end."""
    from common.parts import parts

    gc.freeze()  # the app, built: see above
    long_poll = parts(worker.wsgi).long_poll
    stopping = signal.getsignal(signal.SIGTERM)
    if long_poll is None or not callable(stopping):
        return

    def stop(sig, frame) -> None:
        long_poll.stop()
        stopping(sig, frame)

    signal.signal(signal.SIGTERM, stop)


def worker_exit(server, worker) -> None:
    """In the worker, before the interpreter winds down: stop the poll schedule while
    it can still finish, since after that point its next poll could not even start."""
    from common.web.app import close_app

    app = getattr(worker, "wsgi", None)
    if app is not None:
        close_app(app)


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
