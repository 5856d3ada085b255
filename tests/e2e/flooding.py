"""A flood of sign-ins with a right password, as an attacker with many clients would
send them: threads in a process of its own, so that a test or a benchmark that times
other requests meanwhile does not wait for the flood's threads to let it run. Each
client keeps its connections and comes from one of a few loopback addresses.

    with SignInFlood(f"{stack.url}/account/token", "flooder", PASSWORD, 128, ADDRESSES) as flood:
        ...  # the flood is under way
    flood.answers  # Counter of the statuses it got ("closed": a connection closed as it was used)

Run as `python -m tests.e2e.flooding URL NAME CLIENTS ADDRESS...` with the password
on stdin's first line, it floods until stdin ends, prints `under way` once every
client has had an answer, and the answers' counts as JSON at the end.
"""
from __future__ import annotations

import json
import select
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import requests

from msatom.stack import Stack
from tests.support.addresses import from_address

ROOT = Path(__file__).resolve().parents[2]
UNDER_WAY = "under way"


class SignInFlood:
    def __init__(self, url: str, name: str, password: str, clients: int, addresses: list[str],
                 timeout: float = 60.0):
        self.command = [sys.executable, "-m", "tests.e2e.flooding", url, name, str(clients), *addresses]
        self.password, self.timeout = password, timeout
        self.answers: Counter[int | str] = Counter()

    def __enter__(self) -> SignInFlood:
        self.process = subprocess.Popen(self.command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True)
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(self.password + "\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], self.timeout)
        if not ready or self.process.stdout.readline().strip() != UNDER_WAY:
            self.process.kill()
            raise AssertionError(f"the flood was not under way within {self.timeout} s")
        return self

    def __exit__(self, *exc) -> None:
        output, _ = self.process.communicate(timeout=self.timeout)  # closes stdin: the flood ends
        self.answers = Counter({int(key) if key.isdigit() else key: count
                                for key, count in json.loads(output).items()})


def flood(url: str, name: str, password: str, clients: int, addresses: list[str]) -> None:
    stop, lock = threading.Event(), threading.Lock()
    answers: Counter[int | str] = Counter()

    def client(address: str) -> None:
        session = from_address(address)
        while not stop.is_set():
            try:
                answer = session.post(url, json={"name": name, "password": password}, timeout=60)
                status: int | str = answer.status_code
                if status in (429, 503) and "Retry-After" not in answer.headers:
                    status = f"{status} without Retry-After"
            except requests.ConnectionError:  # a busy server closed a kept-alive connection as it was used
                status = "closed"
            with lock:
                answers[status] += 1
                if sum(answers.values()) == clients:
                    print(UNDER_WAY, flush=True)

    threads = [threading.Thread(target=client, args=(addresses[n % len(addresses)],)) for n in range(clients)]
    for thread in threads:
        thread.start()
    sys.stdin.read()
    stop.set()
    for thread in threads:
        thread.join()
    print(json.dumps({str(key): count for key, count in answers.items()}), flush=True)


def workers_memory(stack: Stack, service: str) -> int:
    """The resident memory of the largest worker of `service` (a child of its gunicorn)."""
    master = stack.processes[service].process.pid
    largest = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:  # gone meanwhile
            continue
        if int(fields.get("PPid", "0")) == master:
            largest = max(largest, int(fields["VmRSS"].split()[0]) * 1024)
    return largest


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of `values` lie (the 99th percentile: 0.99)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


if __name__ == "__main__":
    flood(sys.argv[1], sys.argv[2], sys.stdin.readline().rstrip("\n"), int(sys.argv[3]), sys.argv[4:])
