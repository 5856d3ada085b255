"""msatom: run the whole system, serve one service, poll once, or rebuild a service from the feed."""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys

from flask import Flask
from waitress import create_server
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from common.logs import configure_logging
from common.settings import ConfigurationError, Settings, default_database_url
from common.web import REBUILD_RUNNING, close_app
from msatom.landing import create_landing_app
from msatom.services import CONSUMERS, FACTORIES, create_app
from msatom.stack import MissingProgram, Stack

# How often `msatom rebuild` prints its progress (when it changed).
REBUILD_REPORT_SECONDS = 0.5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="msatom", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="all three services and the landing page in one process")
    run_parser.add_argument("--host", default="127.0.0.1")
    serve_parser = commands.add_parser("serve", help="one service alone")
    serve_parser.add_argument("service", choices=sorted(FACTORIES))
    serve_parser.add_argument("--host", default="127.0.0.1")
    commands.add_parser("stack", help="the production stack without Docker: PostgreSQL, gunicorn, Apache")
    poll_parser = commands.add_parser("poll", help="one poll cycle now")
    poll_parser.add_argument("service", choices=CONSUMERS)
    rebuild_parser = commands.add_parser("rebuild", help="rebuild a service's data from the whole feed")
    rebuild_parser.add_argument("service", choices=CONSUMERS)
    args = parser.parse_args(argv)
    configure_logging()  # with the request id of every line
    try:
        return {"run": run, "serve": serve, "poll": poll, "stack": stack, "rebuild": rebuild}[args.command](args)
    except (ConfigurationError, MissingProgram) as error:
        print(f"msatom: {error}", file=sys.stderr)
        return 2


def run(args) -> int:
    """Mount the three apps under /order, /invoicing and /shipping on one port."""
    environ = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    apps = {name: FACTORIES[name](Settings.from_env(name, environ).but(database_url=default_database_url(name)))
            for name in FACTORIES}
    port = Settings.from_env("order", environ).port
    # The consumers close first, so that no new wait reaches the order service while it
    # answers the ones it holds.
    _serve_until_stopped(create_site(apps), args.host, port, [*(apps[name] for name in CONSUMERS), apps["order"]])
    return 0


def serve(args) -> int:
    settings = Settings.from_env(args.service)
    if not settings.secret_key:
        logging.getLogger("msatom").warning(
            "SECRET_KEY is not set: this start signs forms with a random key, so forms open in a browser "
            "stop working when it restarts. gunicorn, the production server, refuses to start without one.")
    app = create_app(args.service, settings)
    _serve_until_stopped(app, args.host, app.config["SETTINGS"].port, [app])
    return 0


def poll(args) -> int:
    settings = Settings.from_env(args.service).but(poll_interval_seconds=0)
    app = create_app(args.service, settings)
    try:
        result = app.extensions["consumer"].poll()
    finally:
        close_app(app)
    print(json.dumps(result.as_json()))
    return 0 if result.ok else 1


def rebuild(args) -> int:
    """Rebuild in this process, printing its progress as it goes; a service serving the
    same database goes on serving the current data until the rebuild takes their place."""
    settings = Settings.from_env(args.service).but(poll_interval_seconds=0)
    app = create_app(args.service, settings)
    rebuilder = app.extensions["rebuilder"]
    try:
        if rebuilder.start() is None:
            print(f"msatom: {REBUILD_RUNNING}", file=sys.stderr)
            return 1
        shown = None
        while True:
            ended = rebuilder.wait(REBUILD_REPORT_SECONDS)
            progress = rebuilder.progress()
            if (progress.position, progress.left, progress.status) != shown:
                shown = (progress.position, progress.left, progress.status)
                print(f"{progress.status}: position {progress.position}, {progress.left} entries left"
                      + (f": {progress.message}" if progress.message else ""), flush=True)
            if ended:
                return 0 if progress.status == "done" else 1
    finally:
        close_app(app)


def stack(args) -> int:
    """PostgreSQL, the services under gunicorn and Apache on PORT, until Ctrl-C."""
    settings = Settings.from_env("order")
    production = Stack(poll_interval=settings.poll_interval_seconds, port=settings.port).start()
    signal.signal(signal.SIGTERM, _interrupt)
    print(f"Apache on {production.url}/ in front of", ", ".join(
        f"{name} on {production.service_url(name)}" for name in ("order", "invoicing", "shipping")))
    print(f"logs in {production.folder}; Ctrl-C stops everything and removes the databases")
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        production.stop()
    return 0


def create_site(apps: dict[str, Flask]):
    """The landing page at / and each service's app under /<name>, as Apache mounts them."""
    return DispatcherMiddleware(create_landing_app(), {f"/{name}": app for name, app in apps.items()})


def make_server(app, host: str, port: int):
    """A threaded waitress server. Which proxy may set X-Forwarded-* the app decides
    (TRUSTED_PROXIES), not the server."""
    return create_server(app, host=host, port=port, threads=8, ident="", clear_untrusted_proxy_headers=False)


def _serve_until_stopped(site, host: str, port: int, apps) -> None:
    """Serve `site` until Ctrl-C or SIGTERM; then close the `apps` it serves, and only
    then the server: closing an app answers the requests it holds (long-poll) while the
    server can still send the answers, and stops its following of the feed."""
    server = None
    try:
        server = make_server(site, host, port)
        # SIGTERM (docker stop, kill) ends the server like Ctrl-C does.
        signal.signal(signal.SIGTERM, _interrupt)
        logging.getLogger("msatom").info("serving on http://%s:%d/", host, port)
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        for app in apps:
            close_app(app)
        if server is not None:
            server.close()


def _interrupt(*_) -> None:
    raise KeyboardInterrupt
