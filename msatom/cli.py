"""msatom: run the whole system, serve one service, poll once, rebuild a service from the feed, or manage
the accounts that may sign in and the keys that sign their tokens."""
from __future__ import annotations

import argparse
import gc
import ipaddress
import json
import logging
import os
import signal
import sys
import threading

from flask import Flask
from waitress import create_server
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from common.auth.keys import KeySet, SigningKey
from common.logs import configure_logging
from common.numbers import whole_number
from common.parts import consumer, rebuilder
from common.settings import ConfigurationError, Settings
from common.settings_table import default_database_url
from common.web.app import close_app
from common.web.consumer import REBUILD_RUNNING, STOPPING
from msatom import keys, users, workspace
from msatom.access_log import access_log_mode, with_access_log
from msatom.bootstrap import CONSUMERS, NAVIGATION, SERVICES, SIGNER, create_app, settings_from_env
from msatom.landing import create_landing_app
from msatom.stack import MissingProgram, Stack, feed_credential, service_credential

# How to make a signing key beside `msatom run`.
NEW_KEY = "`msatom keys new` makes one in var/signing-key: then SIGNING_KEY=var/signing-key"
# How often `msatom rebuild` prints its progress (when it changed).
REBUILD_REPORT_SECONDS = 0.5


def command() -> int:
    """The `msatom` command: main, in a process of its own."""
    # What is imported lives as long as the process: out of the garbage collector's
    # reach, collections skip it and the exit does not walk it again (msatom/gunicorn_conf.py).
    gc.freeze()
    return main()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="msatom", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="all three services and the landing page in one process")
    run_parser.add_argument("--host", default="127.0.0.1")
    serve_parser = commands.add_parser("serve", help="one service alone")
    serve_parser.add_argument("service", choices=sorted(SERVICES))
    serve_parser.add_argument("--host", default="127.0.0.1")
    stack_parser = commands.add_parser("stack", help="the production stack without Docker: PostgreSQL, gunicorn, Apache")
    stack_parser.add_argument("--order-replicas", type=replica_count, default=1, metavar="N",
                              help="gunicorns of the order service, behind Apache's balancer (default 1)")
    stack_parser.add_argument("--consumer-replicas", type=replica_count, default=1, metavar="N",
                              help="gunicorns of invoicing and of shipping each (default 1)")
    poll_parser = commands.add_parser("poll", help="one poll cycle now")
    poll_parser.add_argument("service", choices=CONSUMERS)
    rebuild_parser = commands.add_parser("rebuild", help="rebuild a service's data from the whole feed")
    rebuild_parser.add_argument("service", choices=CONSUMERS)
    users.add_arguments(commands)
    keys.add_arguments(commands)
    args = parser.parse_args(keys.kid_as_written(sys.argv[1:] if argv is None else argv))
    configure_logging()  # with the request id of every line
    try:
        return {"run": run, "serve": serve, "poll": poll, "stack": stack, "rebuild": rebuild,
                "user": users.run, "keys": keys.run}[args.command](args)
    except (ConfigurationError, MissingProgram) as error:
        print(f"msatom: {error}", file=sys.stderr)
        return 2


def run(args) -> int:
    """Mount the three apps under /order, /invoicing and /shipping on one port."""
    environ = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environ["SECRET_KEY"] = environ.get("SECRET_KEY", "").strip() or workspace.secret_key()
    settings = {name: settings_from_env(name, environ).but(database_url=default_database_url(name))
                for name in SERVICES}
    signing_in = _sign_in(settings, args.host)
    site = create_site({})
    # Listening before the services start: the pollers' first requests wait for the
    # server instead of failing.
    server = _listen(with_access_log(site, access_log_mode()), args.host, settings["order"].port)
    apps = {}
    try:
        for name in SERVICES:
            apps[name] = create_app(name, settings[name])
        site.mounts.update({f"/{name}": app for name, app in apps.items()})
    except BaseException:
        _close(server, apps.values())
        raise
    with workspace.port_recorded(_address(server)[1]):
        # The consumers close first, so that no new wait reaches the order service while it
        # answers the ones it holds.
        _serve_until_stopped(server, [apps[name] for name in (*CONSUMERS, "order", "account")],
                             f"{_welcome(_url(server), settings['account'])}\n{signing_in}")
    return 0


def _sign_in(settings: dict[str, Settings], host: str) -> str:
    """What `msatom run` says of signing in. With SIGNING_KEY the account service signs
    the tokens, the other services get its public keys, and each its credentials, which
    it signs itself; without, sign-in is off, which only a loopback address may be."""
    signing = settings[SIGNER].signing_key
    if signing is None:
        if not _loopback(host):
            raise ConfigurationError(f"msatom run listens on {host}, which others can reach, and SIGNING_KEY is not "
                                     f"set: set it to require sign-in ({NEW_KEY}).")
        return f"Sign-in is off: anyone who reaches this port may do anything. Set SIGNING_KEY to require it ({NEW_KEY})."
    for name in SERVICES:
        if name != SIGNER:
            settings[name] = _checking(settings[name], signing)
    return ("Sign-in is on. Make the first account in another shell, in this folder (the README's \"Accounts\"\n"
            f"tells the roles):\n  {workspace.this_program()} user add NAME --role admin")


def _checking(settings: Settings, signing: tuple[SigningKey, ...]) -> Settings:
    """A service of `msatom run` that checks tokens with the public halves of the
    account service's keys, and shows credentials signed with the one that signs,
    unless its settings give others."""
    key = signing[0]
    return settings.but(
        signing_public_keys=settings.signing_public_keys or KeySet.of(signing),
        sign_in_credential=settings.sign_in_credential or service_credential(key, settings.service),
        feed_credential=settings.feed_credential or (feed_credential(key, settings.service) if settings.feed else None))


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _welcome(url: str, account: Settings) -> str:
    """What `msatom run` says once it serves: the pages to open, and how to stop it."""
    pages = [(f"{url}/", "the landing page")] + [(f"{url}/{name}/", title) for name, title in NAVIGATION]
    if account.checks_tokens and account.sign_in is not None:
        pages.append((f"{url}{account.sign_in.sign_in_page}", "signing in"))
    width = max(len(address) for address, _ in pages)
    return "\n".join(["microservice-atom is ready:", *(f"  {address:{width}}  {what}" for address, what in pages),
                      "Ctrl-C stops it."])


def serve(args) -> int:
    settings = settings_from_env(args.service)
    if not settings.checks_tokens and not _loopback(args.host):
        raise ConfigurationError(f"msatom serve listens on {args.host}, which others can reach, and "
                                 f"{settings.keys_variable.name} is not set: set it to require sign-in.")
    if not settings.secret_key:
        logging.getLogger("msatom").warning(
            "SECRET_KEY is not set: this start signs forms with a random key, so forms open in a browser "
            "stop working when it restarts. gunicorn, the production server, refuses to start without one.")
    app = create_app(args.service, settings)
    try:
        server = _listen(with_access_log(app, access_log_mode()), args.host, settings.port)
    except BaseException:
        close_app(app)
        raise
    _serve_until_stopped(server, [app], f"{args.service} is ready on {_url(server)}/; Ctrl-C stops it.")
    return 0


def poll(args) -> int:
    settings = workspace.settings_beside_run(args.service).but(poll_interval_seconds=0)
    app = create_app(args.service, settings)
    try:
        result = consumer(app).poll()
    finally:
        close_app(app)
    if result is None:  # it waits for another process's poll: none only once the app closes
        print(f"msatom: {STOPPING}", file=sys.stderr)
        return 1
    print(json.dumps(result.as_json()))
    return 0 if result.ok else 1


def rebuild(args) -> int:
    """Rebuild in this process, printing its progress as it goes; a service serving the
    same database goes on serving the current data until the rebuild takes their place."""
    settings = workspace.settings_beside_run(args.service).but(poll_interval_seconds=0)
    app = create_app(args.service, settings)
    rebuilding = rebuilder(app)
    try:
        if rebuilding.start() is None:
            print(f"msatom: {REBUILD_RUNNING}", file=sys.stderr)
            return 1
        shown = None
        while True:
            ended = rebuilding.wait(REBUILD_REPORT_SECONDS)
            progress = rebuilding.progress()
            if (progress.position, progress.left, progress.status) != shown:
                shown = (progress.position, progress.left, progress.status)
                print(f"{progress.status}: position {progress.position}, {progress.left} entries left"
                      + (f": {progress.message}" if progress.message else ""), flush=True)
            if ended:
                return 0 if progress.status == "done" else 1
    finally:
        close_app(app)


def replica_count(text: str) -> int:
    """A number of replicas on the command line: a whole number from 1."""
    count = whole_number(text)
    if count is None or count < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of replicas; give a whole number from 1.")
    return count


def stack(args) -> int:
    """PostgreSQL, the services under gunicorn and Apache on PORT, until Ctrl-C."""
    settings = Settings.from_env("order")
    production = Stack(poll_interval=settings.poll_interval_seconds, port=settings.port,
                       order_replicas=args.order_replicas, consumer_replicas=args.consumer_replicas).start()
    signal.signal(signal.SIGTERM, _interrupt)
    print(f"Apache on {production.url}/ in front of", ", ".join(
        f"{name} on {production.service_url(name)}" for service in SERVICES for name in production.replicas(service)))
    print(f"Sign in at {production.url}/account/sign-in as admin with the password {production.admin_password}")
    print(f"logs in {production.folder}; Ctrl-C stops everything and removes the databases")
    print(f"Prometheus with the project's alerts: prometheus --config.file={production.prometheus_file}")
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


def _listen(app, host: str, port: int):
    """make_server, or one sentence when the port cannot be had."""
    try:
        return make_server(app, host, port)
    except OSError as error:
        raise ConfigurationError(f"cannot listen on {host}:{port} ({error.strerror or error}); "
                                 "another program may use that port: choose another with PORT.") from None


def _address(server) -> tuple[str, int]:
    """The (first) address and port `server` listens on."""
    listening = getattr(server, "effective_listen", None)  # a server of several sockets
    return listening[0] if listening else (server.effective_host, server.effective_port)


def _url(server) -> str:
    """The URL to open for what `server` serves: on loopback when it listens on every address."""
    address, port = _address(server)
    host = ipaddress.ip_address(address)
    if host.is_unspecified:
        host = ipaddress.ip_address("::1" if host.version == 6 else "127.0.0.1")
    return f"http://{host if host.version == 4 else f'[{host}]'}:{port}"


def _serve_until_stopped(server, apps, ready: str) -> None:
    """Say `ready` and serve until Ctrl-C or SIGTERM, then close the `apps` and the server."""
    stop = _Stop(apps)
    # SIGTERM (docker stop, kill) ends the server like Ctrl-C does. A SIGINT ignored
    # from the start (a job in the background of a script) stays ignored.
    signal.signal(signal.SIGTERM, stop)
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, stop)
    try:
        print(ready, flush=True)
        server.run()  # returns on KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    finally:
        _close(server, apps)


class _Stop:
    """The handler of Ctrl-C and SIGTERM. The first closes the apps on a thread of its
    own while the server goes on serving: an app's poll that is under way ends with the
    answers it asks the server for, and the requests an app holds (long-poll) are
    answered. Then the server stops; at once on a second Ctrl-C."""

    def __init__(self, apps):
        self.apps = apps
        self.closing: threading.Thread | None = None

    def __call__(self, *_) -> None:
        if self.closing is None:
            self.closing = threading.Thread(target=self._close_apps, name="stopping", daemon=True)
            self.closing.start()
            return
        raise KeyboardInterrupt  # waitress stops when its loop is interrupted

    def _close_apps(self) -> None:
        for app in self.apps:
            close_app(app)
        signal.pthread_kill(threading.main_thread().ident, signal.SIGTERM)  # type: ignore[arg-type]  # set: it runs


def _close(server, apps) -> None:
    for app in apps:
        close_app(app)
    server.close()




def _interrupt(*_) -> None:
    raise KeyboardInterrupt
