"""The production stack without Docker: a throwaway PostgreSQL cluster, the account
service and the three services under gunicorn and a private Apache httpd, each on a
free loopback port.

Used by the end-to-end tests and by `msatom stack`, for anyone who has PostgreSQL
and Apache installed but no Docker.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import psycopg2
import requests

from common.auth import tokens
from common.auth.keys import KeySet, SigningKey
from common.auth.revoked import SERVICE_ROLE
from common.auth.rules import ADMIN
from common.metrics import MULTIPROCESS
from common.settings_table import (DATABASE_URL, POLL_INTERVAL_SECONDS, POLL_WAIT_SECONDS, SECRET_KEY, SIGNING_KEY,
                                   SIGNING_PUBLIC_KEYS, TRUSTED_PROXIES)
from common.utc import utc_now
from account import models as account_models
from account.passwords import STRONG_HASHES
from account.service import add_account
from common.settings import JWKS_PATH, Settings
from msatom.bootstrap import ACCOUNT_SERVICE, CONSUMERS, ORDER_FEED, SERVICES, SIGNER, VARIABLES, migrated
from msatom.monitoring import prometheus_config
from order.access import FEED_READER

PROJECT = Path(__file__).resolve().parents[1]
APACHE_CONF = PROJECT / "apache" / "httpd.conf"
APACHE_BALANCERS = PROJECT / "apache" / "balancers.sh"
APACHE_HTDOCS = PROJECT / "apache" / "htdocs"
STYLESHEETS = PROJECT / "common" / "static"
APACHE_MODULES = Path("/usr/lib/apache2/modules")
# Apache connects to the services from this loopback address, and only it is their
# TRUSTED_PROXIES: a client on 127.0.0.1 that talks to a service directly cannot set
# the host, scheme or prefix of its links with X-Forwarded-* headers.
PROXY_SOURCE = "127.0.0.2"
# Threads of each gunicorn worker, as in the image (the Dockerfile's GUNICORN_CMD_ARGS):
# requests held waiting on the order feed take up to 12 of them (msatom/gunicorn_conf.py),
# the others stay for everything else.
THREADS = 16
# Where an Apache instance proxies a service it is not given: the discard port, where
# nothing answers (503).
NOWHERE = "http://127.0.0.1:9"


class MissingProgram(RuntimeError):
    """A program the stack needs is not installed."""


# Ports handed out by free_port, by any process of this machine, as files named by the
# port; a claim is given up after PORT_CLAIM_SECONDS, long after its server has bound it.
PORT_CLAIMS = Path(tempfile.gettempdir()) / "msatom-port-claims"
PORT_CLAIM_SECONDS = 600


def free_port() -> int:
    """A loopback port nobody listens on now, and that free_port handed no one else
    lately. Between a pick and its server's bind the port is free again: the kernel
    could give it to the next process that asks (tests, benchmarks and stacks start
    servers side by side), whose server would then answer for the first one's."""
    PORT_CLAIMS.mkdir(exist_ok=True)
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if _claim(PORT_CLAIMS / str(port)):
            return port


def _claim(path: Path) -> bool:
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return True
    except FileExistsError:
        try:
            if time.time() - path.stat().st_mtime > PORT_CLAIM_SECONDS:
                path.unlink()  # an old claim: the next pick may take the port
        except FileNotFoundError:
            pass
        return False


def wait_until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout} s")
        time.sleep(0.05)


def postgres_bin() -> Path:
    """The folder of initdb and pg_ctl: Debian's newest, or the ones on PATH."""
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                    key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if debian:
        return debian[-1].parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise MissingProgram("PostgreSQL is not installed (Debian package postgresql)")


def apache_binary() -> Path:
    for candidate in (shutil.which("apache2"), "/usr/sbin/apache2", shutil.which("httpd")):
        if candidate and Path(candidate).exists() and APACHE_MODULES.is_dir():
            return Path(candidate)
    raise MissingProgram("Apache httpd is not installed (Debian package apache2)")


class PostgresCluster:
    """A PostgreSQL server of its own in a temporary folder. PostgreSQL refuses to
    run as root, so as root the server runs as the unprivileged user nobody."""

    def __init__(self):
        self.bin = postgres_bin()
        self.folder = Path(tempfile.mkdtemp(prefix="msatom-postgres-"))
        self.data = self.folder / "data"
        self.port = free_port()

    def start(self) -> PostgresCluster:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "nobody")
        self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
        self.resume()
        return self

    def pause(self) -> None:
        """Stop the server, keeping its data: as a database restart begins."""
        self._pg_ctl("stop", "-w", "-m", "fast")

    def resume(self) -> None:
        self._pg_ctl("start", "-w", "-l", self.folder / "server.log", "-o",
                     f"-k {self.folder} -p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._pg_ctl("stop", "-w", "-m", "immediate")
        shutil.rmtree(self.folder, ignore_errors=True)

    def create_database(self, name: str) -> str:
        """A database with an owner of the same name; its SQLAlchemy URL."""
        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE ROLE "{name}" LOGIN')
            cursor.execute(f'CREATE DATABASE "{name}" OWNER "{name}"')
        connection.close()
        return f"postgresql+psycopg2://{name}@127.0.0.1:{self.port}/{name}"

    def _pg_ctl(self, *args) -> None:
        self._run("pg_ctl", "-D", self.data, *args)

    def _run(self, program: str, *args) -> None:
        command = [str(self.bin / program), *map(str, args)]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "nobody", "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd=self.folder)


class Process:
    """A child process with its output in a log file."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path):
        self.log = log
        with open(log, "ab") as output:
            self.process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def running(self) -> bool:
        return self.process.poll() is None

    def send(self, sig: int, group: bool = False) -> None:
        """Signal the process, or with `group` every process it started as well."""
        if self.running():
            if group:
                os.killpg(self.process.pid, sig)
            else:
                self.process.send_signal(sig)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15, group: bool = False) -> int:
        self.send(sig, group)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def service_environment(**settings: str) -> dict[str, str]:
    """This process's environment for a service, with `settings` (by their variables'
    names) and none of the services' variables besides: those set where it runs would
    mix into the stack's."""
    scrubbed = {variable.name for variable in VARIABLES}
    env = {k: v for k, v in os.environ.items() if k not in scrubbed}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update(settings)
    return env


def start_gunicorn(service: str, port: int, folder: Path, workers: int = 2, signing_key: SigningKey | None = None,
                   **settings: str) -> Process:
    """`gunicorn 'msatom.wsgi:<service>()'` on a loopback port, as production runs it.
    Without a SECRET_KEY among the settings it gets a random one (give replicas the
    same). The tokens are signed with `signing_key` (a new one by default): the account
    service gets it as its SIGNING_KEY; any other, unless the settings say otherwise,
    its public key as SIGNING_PUBLIC_KEYS and credentials signed with it."""
    settings.setdefault(SECRET_KEY.name, secrets.token_hex(32))
    key = signing_key or SigningKey.new()
    if service == SIGNER:
        settings.setdefault(SIGNING_KEY.name, key.hex())
    else:
        settings.setdefault(SIGNING_PUBLIC_KEYS.name, json.dumps(KeySet.of([key]).jwks()))
        settings.setdefault(ACCOUNT_SERVICE.credential.name, service_credential(key, service))
    if service in CONSUMERS:
        settings.setdefault(ORDER_FEED.credential.name, feed_credential(key, service))
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", str(THREADS),
               "--bind", f"127.0.0.1:{port}", "--access-logfile", "-", "--graceful-timeout", "5",
               "--no-control-socket", "--config", "python:msatom.gunicorn_conf", f"msatom.wsgi:{service}()"]
    settings.setdefault(MULTIPROCESS, str(folder / f"metrics-{service}-{port}"))
    return Process(command, service_environment(**settings), folder / f"{service}-{port}.log")


# The credentials the stack and `msatom run` sign for their services: for a year.
CREDENTIAL_LIFETIME = timedelta(days=365)


def feed_credential(key: SigningKey, consumer: str) -> str:
    """A consumer's bearer token for the order service's documents."""
    return tokens.issue(key, consumer, [FEED_READER], CREDENTIAL_LIFETIME, utc_now())


def service_credential(key: SigningKey, service: str) -> str:
    """A service's bearer token for the account service's list of revoked tokens."""
    return tokens.issue(key, service, [SERVICE_ROLE], CREDENTIAL_LIFETIME, utc_now())


def start_apache(port: int, folder: Path, proxy_source: str | None = None, **upstreams: str | list[str]) -> Process:
    """A private Apache httpd with apache/httpd.conf, on a loopback port; it connects
    to the upstreams from `proxy_source` when given."""
    run_dir = folder / f"apache-{port}"
    run_dir.mkdir()
    env = apache_environment(port, run_dir, proxy_source, **upstreams)
    command = [str(apache_binary()), "-f", str(APACHE_CONF), "-DFOREGROUND", *proxy_source_flag(proxy_source)]
    if os.geteuid() == 0:
        command += ["-C", "User nobody", "-C", "Group nogroup"]  # its workers drop root
    return Process(command, env, run_dir / "apache.log")


def check_apache_config(run_dir: Path, proxy_source: str | None = None) -> subprocess.CompletedProcess:
    """`apache2 -t` on apache/httpd.conf with a test environment."""
    env = apache_environment(free_port(), run_dir, proxy_source)
    return subprocess.run([str(apache_binary()), "-t", "-f", str(APACHE_CONF), *proxy_source_flag(proxy_source)],
                          env=env, capture_output=True, text=True)


def proxy_source_flag(proxy_source: str | None) -> list[str]:
    """apache/httpd.conf sets ProxySourceAddress only when started with this flag."""
    return ["-D", "APACHE_PROXY_SOURCE"] if proxy_source else []


def apache_environment(port: int, run_dir: Path, proxy_source: str | None,
                       **upstreams: str | list[str]) -> dict[str, str]:
    """Apache's settings, its balancers written where it reads them; `upstreams` says
    where each service answers (`order=URL`, or `order=[URL, ...]` for replicas)."""
    unknown = set(upstreams) - set(SERVICES)
    if unknown:
        raise ValueError(f"no such service: {', '.join(sorted(unknown))}")
    # The files it serves are copied beside it, where its unprivileged workers can read them.
    site = run_dir / "site"
    shutil.copytree(APACHE_HTDOCS, site / "htdocs", dirs_exist_ok=True)
    shutil.copytree(STYLESHEETS, site / "static", dirs_exist_ok=True)
    for folder in (run_dir.parent, run_dir, *site.rglob("*"), site):
        folder.chmod(0o755 if folder.is_dir() else 0o644)
    cache = run_dir / "cache"
    cache.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(cache, "nobody")  # where its workers write
    env = {k: v for k, v in os.environ.items() if k != "APACHE_PROXY_SOURCE"}
    if proxy_source:
        env["APACHE_PROXY_SOURCE"] = proxy_source
    env.update({
        "APACHE_MODULES": str(APACHE_MODULES), "APACHE_LISTEN": f"127.0.0.1:{port}",
        "APACHE_SERVER_NAME": f"http://127.0.0.1:{port}",
        "APACHE_RUN_DIR": str(run_dir), "APACHE_ERROR_LOG": "/proc/self/fd/2", "APACHE_CACHE_DIR": str(cache),
        "MSATOM_HTDOCS": str(site / "htdocs"), "MSATOM_STATIC": str(site / "static"),
        **{f"{name.upper()}_URLS": " ".join(members(upstreams.get(name, NOWHERE))) for name in SERVICES},
    })
    subprocess.run(["sh", str(APACHE_BALANCERS), str(run_dir / "balancers.conf"), *SERVICES], env=env, check=True)
    return env


def members(upstream: str | list[str]) -> list[str]:
    """The addresses of a service's replicas: one given alone, or a list."""
    return [upstream] if isinstance(upstream, str) else list(upstream)


def answers(url: str, headers: dict | None = None) -> bool:
    try:
        return requests.get(url, headers=headers, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def replica(service: str, index: int) -> str:
    """The name of a service's replica in a Stack: the service's own for the first
    (index 0), then `order-1`, `order-2`, ..."""
    return service if index == 0 else f"{service}-{index}"


class Stack:
    """PostgreSQL, the account service and the three services under gunicorn, and Apache
    in front of them; the services believe X-Forwarded-* headers from Apache alone
    (PROXY_SOURCE). Its tokens are signed with `signing_key` (a new one by default),
    which the account service alone is given; the others fetch its public key from the
    account service's JWKS. Its first account, `admin`, has a password of its own
    (`admin_password`); the services read the list of revoked tokens, and the consumers
    the order documents, with credentials the stack signs for them.

    The order service runs as `order_replicas` gunicorns, invoicing and shipping as
    `consumer_replicas` each, every one on a port of its own and the replicas of a
    service on its one database; Apache balances over them. `ports`, `processes` and
    `service_url` name them as `replica` does: the first by the service's name."""

    def __init__(self, poll_interval: float = 1.0, workers: int = 2, port: int | None = None,
                 poll_wait: float | None = None, signing_key: SigningKey | None = None,
                 order_replicas: int = 1, consumer_replicas: int = 1):
        if order_replicas < 1 or consumer_replicas < 1:
            raise ValueError("a stack runs at least one replica of each service")
        self.poll_interval = poll_interval
        self.poll_wait = poll_wait  # None: the services' default (waiting on the feed)
        self.workers = workers
        self.apache = apache_binary()
        self.postgres = PostgresCluster()
        self.folder = Path(tempfile.mkdtemp(prefix="msatom-stack-"))
        self.replica_count = {"account": 1, "order": order_replicas, **dict.fromkeys(CONSUMERS, consumer_replicas)}
        self.service_of = {replica(service, index): service
                           for service in SERVICES for index in range(self.replica_count[service])}
        self.ports = {name: free_port() for name in self.service_of}
        self.ports["apache"] = port or free_port()
        self.processes: dict[str, Process] = {}
        self.secret_key = secrets.token_hex(32)  # one for the stack: its services share a host
        self.signing_key = signing_key or SigningKey.new()
        self.admin_password = secrets.token_urlsafe(12)
        self.url = f"http://127.0.0.1:{self.ports['apache']}"

    def service_url(self, name: str) -> str:
        """Where a service (its first replica) or a replica (`order-1`) answers directly."""
        return f"http://127.0.0.1:{self.ports[name]}"

    def replicas(self, service: str) -> list[str]:
        """The names of a service's replicas: `["order", "order-1", ...]`."""
        return [replica(service, index) for index in range(self.replica_count[service])]

    @property
    def order_feed_url(self) -> str:
        """What the consumers follow: the order service itself when it runs alone; through
        Apache's balancer when it has replicas, so that any one of them may stop."""
        if self.replica_count["order"] == 1:
            return f"{self.service_url('order')}/feed"
        return f"{self.url}/order/feed"

    def token(self, *roles: str, name: str = "admin", lifetime: timedelta = timedelta(hours=1)) -> str:
        """A bearer token signed with the stack's key, as the account service signs them;
        an admin's by default."""
        return tokens.issue(self.signing_key, name, roles or (ADMIN,), lifetime, utc_now())

    def start(self) -> Stack:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self.postgres.start()
        self.databases = {name: self.postgres.create_database(name) for name in SERVICES}
        self._add_accounts()
        self.start_service("account")
        for name in self.replicas("order"):
            self.start_service(name)
        self.processes["apache"] = start_apache(
            self.ports["apache"], self.folder, PROXY_SOURCE,
            **{service: [self.service_url(name) for name in self.replicas(service)] for service in SERVICES})
        if self.replica_count["order"] > 1:  # the consumers follow the feed through Apache
            self.wait_until_healthy("apache", f"{self.url}/order/health")
        consumers = [name for name in self.service_of if self.service_of[name] in CONSUMERS]
        for name in consumers:
            self.start_service(name)
        for name in ["account", *self.replicas("order"), *consumers]:
            self.wait_until_healthy(name)
        self.wait_until_healthy("apache", f"{self.url}/order/health")
        self.prometheus_file.write_text(prometheus_config(
            {service: [f"127.0.0.1:{self.ports[name]}" for name in self.replicas(service)] for service in SERVICES}))

    @property
    def prometheus_file(self) -> Path:
        """Where the stack keeps a Prometheus configuration that scrapes its services."""
        return self.folder / "prometheus.yml"

    def _add_accounts(self) -> None:
        """The first accounts, written before the account service starts (which then
        finds its schema current): `admin`, and one for each consumer, so that removing
        it refuses the consumer's credential. In this process, as `msatom user add`
        would write them, without a program started for each."""
        db = migrated(Settings.from_env("account", {DATABASE_URL.name: self.databases["account"]}),
                      account_models.MIGRATIONS)
        try:
            with db.session() as session:
                add_account(session, "admin", self.admin_password, (ADMIN,), utc_now(), STRONG_HASHES)
                for consumer in CONSUMERS:
                    add_account(session, consumer, secrets.token_urlsafe(16), (FEED_READER,), utc_now(),
                                STRONG_HASHES)
        finally:
            db.dispose()

    def users(self, *args: str, stdin: str = "") -> str:
        """`msatom user ...` on the stack's account database; what it prints."""
        command = [str(Path(sys.executable).with_name("msatom")), "user", *args]
        env = service_environment(**{DATABASE_URL.name: self.databases["account"],
                                     SIGNING_KEY.name: self.signing_key.hex()})
        done = subprocess.run(command, env=env, input=stdin + "\n", capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"msatom user {' '.join(args)} failed: {done.stderr or done.stdout}")
        return done.stdout

    def start_service(self, name: str, **changes: str) -> Process:
        """(Re)start a service, or one replica of it (`order-1`), under gunicorn on its
        port and its service's database; `changes` to the stack's settings for it."""
        service = self.service_of[name]
        account = self.service_url("account")
        settings = {DATABASE_URL.name: self.databases[service], ORDER_FEED.url.name: self.order_feed_url,
                    POLL_INTERVAL_SECONDS.name: str(self.poll_interval), SECRET_KEY.name: self.secret_key,
                    ACCOUNT_SERVICE.url.name: account, TRUSTED_PROXIES.name: PROXY_SOURCE}
        if service != SIGNER:  # the others fetch the account service's public keys
            settings[SIGNING_PUBLIC_KEYS.name] = account + JWKS_PATH
        if self.poll_wait is not None:
            settings[POLL_WAIT_SECONDS.name] = str(self.poll_wait)
        self.processes[name] = start_gunicorn(service, self.ports[name], self.folder, self.workers,
                                              self.signing_key, **{**settings, **changes})
        return self.processes[name]

    def stop_replica(self, service: str, index: int, sig: int = signal.SIGTERM) -> int:
        """Stop one replica of a service, its workers with it: SIGTERM lets them finish
        what they are doing, SIGKILL ends them mid-request. Its exit code."""
        process = self.processes[replica(service, index)]
        return process.stop(sig, group=True)

    def wait_until_healthy(self, name: str, url: str | None = None) -> None:
        process = self.processes[name]
        url = url or f"{self.service_url(name)}/health"

        def healthy() -> bool:
            if not process.running():
                raise RuntimeError(f"{name} exited; its output:\n{process.output()[-3000:]}")
            return answers(url)

        wait_until(healthy, 30, f"{name} answering {url}")

    def stop(self) -> None:
        for process in self.processes.values():
            process.send(signal.SIGTERM)
        for process in self.processes.values():
            process.stop()
        self.postgres.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
