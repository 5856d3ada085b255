"""gunicorn's settings for the services: `gunicorn --config python:msatom.gunicorn_conf ...`
(the Dockerfile's GUNICORN_CMD_ARGS and msatom/stack.py pass it).

The access log names each request's X-Request-Id (Apache's, or a poller's). With
PROMETHEUS_MULTIPROC_DIR set, the folder is emptied when gunicorn starts, so counters
begin at 0 like the processes do; the workers then write their numbers there and
GET /metrics reports the sum over all of them (common/metrics.py).

gunicorn acts on no forwarded header: which peer may set the host, scheme and prefix
of the links is decided in one place, common/proxies.py (TRUSTED_PROXIES). Left to its
defaults gunicorn believes X-Forwarded-Proto (-Ssl, -Protocol) from 127.0.0.1 and ::1,
turning wsgi.url_scheme to https, and a `SCRIPT_NAME:` header from them becomes the
environ's SCRIPT_NAME; on a Unix socket from every client. Either would shape links
before the middleware sees the peer.
"""
from __future__ import annotations

import os
from pathlib import Path

access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}i)s'
forwarded_allow_ips = ""  # no peer may set forwarded or scheme headers for gunicorn...
secure_scheme_headers: dict[str, str] = {}  # ...and none would change wsgi.url_scheme
forwarder_headers = ""  # ...or SCRIPT_NAME, PATH_INFO (also from a Unix socket's peer)


def on_starting(server) -> None:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for stale in Path(folder).glob("*.db"):
            stale.unlink()


def worker_exit(server, worker) -> None:
    """In the worker, before the interpreter winds down: stop the poll schedule while
    it can still finish, since after that point its next poll could not even start."""
    from common.web import close_app

    app = getattr(worker, "wsgi", None)
    if app is not None:
        close_app(app)


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
