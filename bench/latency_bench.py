"""Order to invoice and shipment: how long after an order is placed both its invoice
and its shipment exist, with the
consumers waiting on the feed (long-poll, the default) beside interval polling
(POLL_WAIT_SECONDS=0).

    .venv/bin/python bench/latency_bench.py [--setups run,stack] [--orders 50] [--interval 5] [--rounds 1]
                                            [--variants long-poll,interval] [--workers 2] [--settle 2]

Two systems of a setup run at once, one per variant (--variants), each on free
loopback ports in a temporary folder:

  run    `msatom run` (one process, waitress, SQLite), as `make run` starts it;
  stack  msatom.stack.Stack: PostgreSQL, the services under gunicorn (--workers
         each), Apache in front (needs Debian's postgresql and apache2).

Both have POLL_INTERVAL_SECONDS=--interval (5, the default setting). One thread per
variant places orders one at a time (POST /order/, through Apache for the stack) and
times from the 201 to the moment the invoice and the shipment are both there (looked
up every 2 ms: in the invoicing and shipping databases with --watch db, the default,
or GET /invoicing/<id> and GET /shipping/<id> answering 200 with --watch http), then pauses before the next order: a small random pause (50 to 300
ms) for long-poll; for interval polling a random pause up to the interval, so that
orders arrive at any point of the schedule, as they do in life (after a small pause
each order would wait for nearly a whole interval). The long-poll thread goes on
placing orders until the interval thread has placed its --orders, so both cover the
same time on the same machine. Prints each variant's percentiles and the ratios, and
the CPU time the system's processes spent per order meanwhile (`msatom run`; for the
stack its gunicorns, Apache and PostgreSQL), waiting included: what one order costs,
against the cores there are.
"""
from __future__ import annotations

import argparse
import random
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

import psycopg2
import requests
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import procstat  # noqa: E402
from msatom.stack import Stack, answers, free_port, service_environment, wait_until  # noqa: E402

MSATOM = Path(sys.executable).with_name("msatom")
ORDER = {"customerId": 1,
         "shippingAddress": {"street": "Ohlauer Str. 43", "zip": "10999", "city": "Berlin"},
         "billingAddress": {"street": "Krischerstr. 100", "zip": "40789", "city": "Monheim am Rhein"},
         "lines": [{"itemId": 1, "count": 2}]}
LOOK_EVERY = 0.002  # seconds between two looks for the documents
GIVE_UP = 60.0  # seconds after which documents that did not come fail the bench


class MsatomRun:
    """`msatom run` in a folder of its own (its SQLite files in folder/var)."""

    def __init__(self, interval: float, wait: float | None, workers: int):
        del workers  # `msatom run` is one process, whatever the stack's workers
        self.folder = Path(tempfile.mkdtemp(prefix="msatom-latency-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        settings = {"PORT": str(self.port), "POLL_INTERVAL_SECONDS": f"{interval:g}",
                    "SECRET_KEY": secrets.token_hex(32)}
        if wait is not None:
            settings["POLL_WAIT_SECONDS"] = f"{wait:g}"
        self.log = self.folder / "msatom.log"
        with open(self.log, "wb") as output:
            self.process = subprocess.Popen([str(MSATOM), "run"], cwd=self.folder, env=service_environment(**settings),
                                            stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)

    def credentials(self) -> dict:
        return {}  # `msatom run`: sign-in is off

    def cpu_seconds(self) -> float:
        return procstat.cpu_seconds(self.process.pid)

    def start(self) -> MsatomRun:
        def healthy() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"msatom run exited:\n{self.log.read_text()[-3000:]}")
            return answers(f"{self.url}/order/health") and answers(f"{self.url}/invoicing/health")
        wait_until(healthy, 60, "msatom run answering")
        return self

    def documents_exist(self) -> Callable[[int], bool]:
        def looker(database: str, table: str) -> Callable[[int], bool]:
            connection = sqlite3.connect(f"file:{self.folder / 'var' / database}?mode=ro", uri=True,
                                         check_same_thread=False)
            return lambda order_id: connection.execute(f"SELECT 1 FROM {table} WHERE id = ?",  # noqa: S608
                                                       (order_id,)).fetchone() is not None
        return both(looker("invoicing.db", "invoice"), looker("shipping.db", "shipment"))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


class ApacheStack:
    """msatom.stack.Stack, with the same interface as MsatomRun."""

    def __init__(self, interval: float, wait: float | None, workers: int):
        self.stack = Stack(poll_interval=interval, poll_wait=wait, workers=workers)
        self.url = self.stack.url

    def credentials(self) -> dict:
        return {"Authorization": f"Bearer {self.stack.token()}"}

    def cpu_seconds(self) -> float:
        roots = [process.process.pid for process in self.stack.processes.values()]
        return sum(procstat.cpu_seconds(pid) for pid in [*roots, procstat.postmaster_pid(self.stack.postgres.data)])

    def start(self) -> ApacheStack:
        self.stack.start()
        return self

    def documents_exist(self) -> Callable[[int], bool]:
        def looker(service: str, table: str) -> Callable[[int], bool]:
            url = make_url(self.stack.databases[service])
            connection = psycopg2.connect(host=url.host, port=url.port, user=url.username, dbname=url.database)
            connection.autocommit = True
            cursor = connection.cursor()

            def exists(order_id: int) -> bool:
                cursor.execute(f"SELECT 1 FROM {table} WHERE id = %s", (order_id,))  # noqa: S608
                return cursor.fetchone() is not None
            return exists
        return both(looker("invoicing", "invoice"), looker("shipping", "shipment"))

    def stop(self) -> None:
        self.stack.stop()


def both(first: Callable[[int], bool], second: Callable[[int], bool]) -> Callable[[int], bool]:
    """Both documents there; each is looked up again only until it has come."""
    seen: dict[int, set] = {}

    def exist(order_id: int) -> bool:
        found = seen.setdefault(order_id, set())
        for look in (first, second):
            if look not in found and look(order_id):
                found.add(look)
        return len(found) == 2
    return exist


SETUPS: dict[str, type[MsatomRun] | type[ApacheStack]] = {"run": MsatomRun, "stack": ApacheStack}
VARIANTS = {"long-poll": None, "interval": 0}  # their POLL_WAIT_SECONDS; None: the default, waiting on the feed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setups", default="run,stack")
    parser.add_argument("--orders", type=int, default=50, help="orders placed with interval polling (at least as "
                                                               "many with long-poll)")
    parser.add_argument("--interval", type=float, default=5.0, help="POLL_INTERVAL_SECONDS")
    parser.add_argument("--rounds", type=int, default=1, help="rounds with new systems (medians are printed)")
    parser.add_argument("--watch", choices=("db", "http"), default="db")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="the systems of each setup")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of each service of the stack")
    parser.add_argument("--settle", type=float, default=2.0,
                        help="seconds between the start and the first order, for the consumers' first polls")
    args = parser.parse_args()
    args.variants = args.variants.split(",")
    unknown = set(args.variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variants {', '.join(sorted(unknown))}; choose from {', '.join(VARIANTS)}")
    results = []
    for round_number in range(args.rounds):
        for setup in args.setups.split(","):
            results.append(measure(setup, round_number, args))
            print_round(results[-1], flush=True)
    print_summary(results)


def measure(setup: str, round_number: int, args) -> dict:
    systems = {variant: SETUPS[setup](args.interval, VARIANTS[variant], args.workers) for variant in args.variants}
    try:
        for system in systems.values():
            system.start()
        time.sleep(args.settle)
        samples: dict[str, list[float]] = {variant: [] for variant in systems}
        cpu = {variant: system.cpu_seconds() for variant, system in systems.items()}
        interval_done = threading.Event()
        threads = []
        if "long-poll" in systems:
            others_done = interval_done.is_set if "interval" in systems else lambda: True
            threads.append(threading.Thread(target=place_orders, args=(
                systems["long-poll"], samples["long-poll"], args.orders, lambda: 0.05 + 0.25 * random.random(),
                others_done, args.watch)))
        if "interval" in systems:
            threads.append(threading.Thread(target=place_orders, args=(
                systems["interval"], samples["interval"], args.orders, lambda: args.interval * random.random(),
                lambda: True, args.watch, interval_done.set)))
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        cpu = {variant: (system.cpu_seconds() - cpu[variant]) / len(samples[variant])
               for variant, system in systems.items()}
        return {"setup": setup, "round": round_number, "samples": samples, "cpu": cpu,
                "seconds": time.perf_counter() - started}
    finally:
        for system in systems.values():
            system.stop()


def place_orders(system, samples: list[float], at_least: int, pause: Callable[[], float],
                 others_done: Callable[[], bool], watch: str, when_done: Callable[[], None] = lambda: None) -> None:
    """Orders one at a time, each timed from its 201 to its invoice and shipment, until `at_least`
    are placed and `others_done()`."""
    try:
        session = requests.Session()
        session.trust_env = False
        session.headers.update(system.credentials())
        if watch == "db":
            exists = system.documents_exist()
        else:
            exists = both(*(lambda order_id, service=service: session.get(
                f"{system.url}/{service}/{order_id}", headers={"Accept": "application/json"}, timeout=10
            ).status_code == 200 for service in ("invoicing", "shipping")))
        while len(samples) < at_least or not others_done():
            time.sleep(pause())
            response = session.post(f"{system.url}/order/", json=ORDER, timeout=30)
            placed = time.perf_counter()
            if response.status_code != 201:
                raise RuntimeError(f"POST /order/ answered {response.status_code}: {response.text[:300]}")
            order_id = response.json()["id"]
            while not exists(order_id):
                if time.perf_counter() - placed > GIVE_UP:
                    raise RuntimeError(f"no invoice and shipment for order {order_id} after {GIVE_UP} s")
                time.sleep(LOOK_EVERY)
            samples.append(time.perf_counter() - placed)
    finally:
        when_done()


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest rank: with 50 samples the 99th percentile is the largest."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))]


def figures(samples: list[float], cpu: float) -> dict:
    return {"n": len(samples), "p50": percentile(samples, 0.5), "p90": percentile(samples, 0.9),
            "p99": percentile(samples, 0.99), "max": max(samples), "mean": statistics.mean(samples), "cpu": cpu}


def print_round(result: dict, flush: bool = False) -> None:
    print(f"# {result['setup']}, round {result['round'] + 1} ({result['seconds']:.0f} s):", flush=flush)
    for variant, samples in result["samples"].items():
        f = figures(samples, result["cpu"][variant])
        print(f"#   {variant:<10} n={f['n']:<4} p50 {f['p50'] * 1000:8.1f} ms  p90 {f['p90'] * 1000:8.1f} ms  "
              f"p99 {f['p99'] * 1000:8.1f} ms  max {f['max'] * 1000:8.1f} ms  mean {f['mean'] * 1000:8.1f} ms  "
              f"CPU {f['cpu'] * 1000:6.1f} ms an order", flush=flush)


def print_summary(results: list[dict]) -> None:
    print()
    print(f"{'setup':<6} {'variant':<10} {'orders':>7} {'p50 ms':>9} {'p90 ms':>9} {'p99 ms':>9} {'max ms':>9} "
          f"{'CPU ms/order':>13}  rounds (p50 / p99 ms)")
    for setup in dict.fromkeys(result["setup"] for result in results):
        rounds = [result for result in results if result["setup"] == setup]
        medians = {}
        for variant in rounds[0]["samples"]:
            per_round = [figures(result["samples"][variant], result["cpu"][variant]) for result in rounds]
            medians[variant] = {key: statistics.median(f[key] for f in per_round) for key in per_round[0]}
            m = medians[variant]
            listed = ", ".join(f"{f['p50'] * 1000:.0f} / {f['p99'] * 1000:.0f}" for f in per_round)
            print(f"{setup:<6} {variant:<10} {sum(f['n'] for f in per_round):>7} {m['p50'] * 1000:>9.1f} "
                  f"{m['p90'] * 1000:>9.1f} {m['p99'] * 1000:>9.1f} {m['max'] * 1000:>9.1f} "
                  f"{m['cpu'] * 1000:>13.1f}  {listed}")
        if len(medians) == 2:
            print(f"{setup:<6} interval / long-poll: p50 {medians['interval']['p50'] / medians['long-poll']['p50']:.0f}x, "
                  f"p99 {medians['interval']['p99'] / medians['long-poll']['p99']:.0f}x")
    if len(results) > len({result["setup"] for result in results}):
        print("(medians over the rounds of each round's percentiles)")


if __name__ == "__main__":
    main()
