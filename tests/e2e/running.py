"""Helpers for end-to-end tests: real `msatom` processes on loopback ports, and
an HTTP client that waits for eventual results."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import requests

from common.auth import tokens
from common.auth.keys import SigningKey
from common.auth.rules import ADMIN
from common.utc import utc_now
from msatom.stack import Process, free_port, start_gunicorn
from tests.support.waiting import PATIENCE, until

MSATOM = Path(sys.executable).with_name("msatom")

# What a browser sends, and what plain `curl URL` sends.
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CURL_ACCEPT = "*/*"

# Settings a developer's shell may carry that would point the processes elsewhere.
_SCRUBBED = ("PORT", "DATABASE_URL", "ORDER_FEED_URL", "FEED_PAGE_SIZE", "POLL_INTERVAL_SECONDS", "SECRET_KEY",
             "POLL_WAIT_SECONDS", "EMBEDDED_DOCUMENTS", "ACCESS_LOG", "SIGNING_KEY", "SIGNING_PUBLIC_KEYS", "ACCOUNT_URL",
             "ACCOUNT_CREDENTIAL", "ORDER_CREDENTIAL", "SESSION_IDLE_SECONDS", "OTEL_EXPORTER_OTLP_ENDPOINT",
             "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SERVICE_NAME", "OTEL_SDK_DISABLED",
             "TRUSTED_PROXIES", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def msatom_env(**settings: str) -> dict[str, str]:
    """The environment for an `msatom` process: ours without the project's own
    settings, plus `settings`."""
    env = {name: value for name, value in os.environ.items() if name not in _SCRUBBED}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update(settings)
    return env


# Every stack and service the tests start has its tokens signed with this key, so that
# a test can speak as any account to any of them.
SIGNING_KEY = SigningKey.new()


def token(*roles: str, name: str = "admin", lifetime: timedelta = timedelta(hours=2)) -> str:
    """A bearer token as the account service signs them: an admin's by default."""
    return tokens.issue(SIGNING_KEY, name, roles or (ADMIN,), lifetime, utc_now())


def http(*roles: str) -> requests.Session:
    """A client on loopback that speaks as an account with `roles` (an admin by default);
    `msatom run` (sign-in off) does not look."""
    session = anonymous()
    session.headers["Authorization"] = f"Bearer {token(*roles)}"
    return session


def anonymous() -> requests.Session:
    """A client on loopback with no credential: a feed reader, a cache, a stranger."""
    session = requests.Session()
    session.trust_env = False  # no proxy between the test and loopback
    return session


def gunicorn(service: str, port: int, folder: Path, workers: int = 2, **settings: str) -> Process:
    """msatom.stack's start_gunicorn, its tokens signed with the tests' SIGNING_KEY."""
    return start_gunicorn(service, port, folder, workers, SIGNING_KEY, **settings)



def wait_for_json(session: requests.Session, url: str, timeout: float = PATIENCE, interval: float = 0.2):
    """The JSON at `url` as soon as it answers 200; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = session.get(url, headers={"Accept": "application/json"}, timeout=30)
            if response.status_code == 200:
                return response.json()
            last = f"answers {response.status_code}: {response.text[:300]}"
        except requests.RequestException as error:  # not up yet, or busy: ask again
            last = f"does not answer: {error!r}"
        if time.monotonic() >= deadline:
            raise AssertionError(f"{url} still {last} after {timeout} s")
        time.sleep(interval)


def every_item(session: requests.Session, url: str) -> list:
    """Every item of a paged JSON list (`/order/`, `/invoicing/`, ...), following
    its `Link: <...>; rel="next"` headers; list it again if it may have grown meanwhile."""
    items = []
    while url:
        response = session.get(url, headers={"Accept": "application/json"}, timeout=30)
        response.raise_for_status()
        items += response.json()
        url = response.links.get("next", {}).get("url")
    return items


def wait_for_items(session: requests.Session, url: str, wanted: set[int], timeout: float = 2 * PATIENCE) -> list:
    """Every item of the paged list at `url` once their ids include `wanted`, listed
    once more then (while imports go on, an item can move to the next page as it is
    listed, and be seen twice or not at all); after `timeout` seconds the list as it
    is, for the test to judge. A service that does not answer yet is asked again."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            ids = {item["id"] for item in every_item(session, url)}
        except (requests.RequestException, ValueError):
            ids = set()
        if ids >= wanted or time.monotonic() > deadline:
            return every_item(session, url)
        time.sleep(0.3)


def ctrl_c_as_at_a_terminal() -> None:
    """In the child before it starts: SIGINT acts as a terminal's Ctrl-C does. A shell
    that runs the tests in the background (CI may) leaves it ignored, and inherited so,
    Python never raises KeyboardInterrupt: `msatom run` would not stop."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class MsatomRun:
    """`msatom run` as a real process in `folder` (its SQLite files go to
    `folder/var`), output in `folder/msatom.log`; started as `program` (a path
    relative to `folder`, as `make run` starts `.venv/bin/msatom`)."""

    def __init__(self, folder: Path, port: int | None = None, program: str = str(MSATOM), **settings: str):
        self.folder = Path(folder)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = self.folder / "msatom.log"
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [program, "run"], cwd=self.folder, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT,
                env=msatom_env(**{"PORT": str(self.port), "POLL_INTERVAL_SECONDS": "1", **settings}),
                preexec_fn=ctrl_c_as_at_a_terminal,
            )

    def output(self, last_lines: int | None = None) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        if last_lines is not None:
            text = "\n".join(text.splitlines()[-last_lines:])
        return text

    def wait_until_healthy(self, timeout: float = PATIENCE) -> None:
        session = http()
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"msatom run exited with code {self.process.returncode} before it "
                                   f"answered; its output:\n{self.output(100)}")
            try:
                response = session.get(f"{self.url}/order/health", timeout=2)
                if response.status_code == 200:
                    return
                last = f"HTTP {response.status_code}"
            except requests.RequestException as error:
                last = type(error).__name__
            time.sleep(0.1)
        raise RuntimeError(f"msatom run on {self.url} did not answer /order/health within {timeout} s "
                           f"({last}); its output:\n{self.output(100)}")

    def interrupt(self, timeout: float = 30.0) -> int | None:
        """Ctrl-C: SIGINT, then wait; the exit code, or None when it did not exit
        in time (it is killed then)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None


# What must not appear in a service's log: errors, crashes, failed polls
# ("poll of URL: why"), gunicorn's WORKER TIMEOUT.
TROUBLE = re.compile(r"\b(ERROR|CRITICAL)\b|Traceback|poll of \S+: ")


def trouble_in(log: str) -> list[str]:
    """The lines of a log that tell of an error."""
    return [line for line in log.splitlines() if TROUBLE.search(line)]


def kill_group(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """Signal a process started with start_new_session and every process of its
    group (gunicorn's master and workers), then reap it."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
    process.wait(timeout=10)


def wait_for_health(process, url: str, name: str, timeout: float = PATIENCE) -> None:
    """Wait until a msatom.stack.Process serving `url` answers /health; fails
    with its log when it exits or does not answer in time."""
    session = http()
    until(lambda: _answers(session, f"{url}/health"), f"{name} answering /health", timeout, process, every=0.1)


def _answers(session: requests.Session, url: str) -> bool:
    try:
        return session.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False
