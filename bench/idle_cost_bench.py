"""What consumers cost the order service while nothing happens: CPU seconds over a
quiet window with two consumers waiting on the feed (long-poll) beside two polling
every second (POLL_WAIT_SECONDS=0, POLL_INTERVAL_SECONDS=1), and beside no consumer.

    .venv/bin/python bench/idle_cost_bench.py [--seconds 60] [--runs 3] [--workers 2] [--consumer-workers 1]
                                              [--settle 5] [--variants none,waiting,polling]

Needs PostgreSQL's binaries (Debian package postgresql). The three variants (or
those --variants names) run at the same time, each with a PostgreSQL cluster of its
own holding its databases, its order service under gunicorn (--workers gthread
workers of 16 threads, as production) and its consumers, invoicing and shipping,
under gunicorn too (--consumer-workers each; every worker of a consumer follows the
feed). One order is placed and imported first, then the windows follow one after
another. For each window it prints the CPU seconds of the order service (the
gunicorn master and its workers), of the consumers and of PostgreSQL, and the
requests the order service answered (its access log).
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import procstat  # noqa: E402
from common.auth.keys import SigningKey  # noqa: E402
from latency_bench import ORDER  # noqa: E402
from common.auth import tokens  # noqa: E402
from common.auth.rules import ADMIN  # noqa: E402
from common.utc import utc_now  # noqa: E402
from msatom.stack import PostgresCluster, Process, answers, free_port, start_gunicorn, wait_until  # noqa: E402

VARIANTS = {  # as --variants names them: as the table names them, the consumers' settings (None: no consumer)
    "none": ("no consumer", None),
    "waiting": ("2 waiting (long-poll)", {"POLL_INTERVAL_SECONDS": "1"}),
    "polling": ("2 polling every 1 s", {"POLL_INTERVAL_SECONDS": "1", "POLL_WAIT_SECONDS": "0"}),
}


class System:
    """A cluster, an order service and the consumers of one variant."""

    def __init__(self, name: str, consumers: dict | None, workers: int, consumer_workers: int):
        self.name = name
        self.folder = Path(tempfile.mkdtemp(prefix="msatom-idle-"))
        self.cluster = PostgresCluster().start()
        port = free_port()
        self.order_url = f"http://127.0.0.1:{port}"
        self.signing_key = SigningKey.new()  # signs the tokens; every process checks them with its public half
        self.order = start_gunicorn("order", port, self.folder, workers, signing_key=self.signing_key,
                                    DATABASE_URL=self.cluster.create_database("orders"))
        wait_until(lambda: answers(f"{self.order_url}/health"), 60, "the order service answering")
        self.consumers: list[Process] = []
        self.consumer_urls = []
        for service in ("invoicing", "shipping") if consumers is not None else ():
            consumer_port = free_port()
            self.consumers.append(start_gunicorn(
                service, consumer_port, self.folder, consumer_workers, ORDER_FEED_URL=f"{self.order_url}/feed",
                signing_key=self.signing_key,
                DATABASE_URL=self.cluster.create_database(service), **consumers))
            self.consumer_urls.append(f"http://127.0.0.1:{consumer_port}")
        for url in self.consumer_urls:
            wait_until(lambda url=url: answers(f"{url}/health"), 60, "a consumer answering")

    def place_one_order(self) -> None:
        """An order, and wait until every consumer has it: then nothing is left to do."""
        signed = tokens.issue(self.signing_key, "bench", [ADMIN], timedelta(minutes=5), utc_now())
        response = requests.post(f"{self.order_url}/", json=ORDER, timeout=30,
                                 headers={"Authorization": f"Bearer {signed}"})
        response.raise_for_status()
        order_id = response.json()["id"]
        for url, consumer in zip(self.consumer_urls, self.consumers, strict=True):
            try:
                wait_until(lambda url=url: answers(f"{url}/{order_id}", headers={"Authorization": f"Bearer {signed}"}),
                           60, "the consumer importing the order")
            except TimeoutError as error:
                raise TimeoutError(f"{error}; the consumer's log ends:\n{consumer.output()[-4000:]}\n"
                                   f"the order service's log ends:\n{self.order.output()[-4000:]}") from None

    def cpu(self) -> tuple[float, float, float]:
        """CPU seconds so far: the order service, the consumers, PostgreSQL."""
        return (procstat.cpu_seconds(self.order.process.pid),
                sum(procstat.cpu_seconds(consumer.process.pid) for consumer in self.consumers),
                procstat.cpu_seconds(procstat.postmaster_pid(self.cluster.data)))

    def requests_answered(self) -> int:
        """Lines of the order service's access log so far."""
        return sum(1 for line in self.order.output().splitlines() if '"GET ' in line or '"POST ' in line)

    def feed_requests(self) -> int:
        return sum(1 for line in self.order.output().splitlines() if '"GET /feed' in line)

    def stop(self) -> None:
        for process in (*self.consumers, self.order):
            process.stop()
        self.cluster.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60, help="length of a window")
    parser.add_argument("--runs", type=int, default=3, help="windows, one after another")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of the order service")
    parser.add_argument("--consumer-workers", type=int, default=1, help="gunicorn workers of each consumer")
    parser.add_argument("--settle", type=float, default=5.0,
                        help="seconds after the order's import before the first window: its polls end")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    variants = args.variants.split(",")
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variants {', '.join(sorted(unknown))}; choose from {', '.join(VARIANTS)}")
    systems = []
    rows = []
    try:
        for variant in variants:
            name, consumers = VARIANTS[variant]
            systems.append(System(name, consumers, args.workers, args.consumer_workers))
        for system in systems:
            system.place_one_order()
        time.sleep(args.settle)
        for run in range(args.runs):
            before = {system.name: (system.cpu(), system.requests_answered()) for system in systems}
            time.sleep(args.seconds)
            for system in systems:
                (order0, consumers0, postgres0), requests0 = before[system.name]
                order1, consumers1, postgres1 = system.cpu()
                rows.append({"variant": system.name, "run": run, "order": order1 - order0,
                             "consumers": consumers1 - consumers0, "postgres": postgres1 - postgres0,
                             "requests": system.requests_answered() - requests0})
                print(f"# window {run + 1}: {describe(rows[-1])}", flush=True)
    finally:
        for system in systems:
            system.stop()
    print_table(rows, args)


def describe(row: dict) -> str:
    return (f"{row['variant']:<22} order service {row['order']:6.2f} s CPU, consumers {row['consumers']:6.2f} s, "
            f"PostgreSQL {row['postgres']:6.2f} s, {row['requests']} requests to the order service")


def print_table(rows: list[dict], args) -> None:
    print()
    print(f"CPU seconds over {args.seconds:g} s of nothing happening; medians of {args.runs} windows "
          f"(each window's figures after the bar)")
    print(f"{'consumers':<22} {'order service':>13} {'consumers':>10} {'PostgreSQL':>10} {'requests':>9}  "
          f"windows (order service s)")
    medians = {}
    for variant, _ in VARIANTS.values():
        group = [row for row in rows if row["variant"] == variant]
        if not group:
            continue
        m = {key: statistics.median(row[key] for row in group) for key in ("order", "consumers", "postgres",
                                                                          "requests")}
        medians[variant] = m
        print(f"{variant:<22} {m['order']:>13.2f} {m['consumers']:>10.2f} {m['postgres']:>10.2f} "
              f"{m['requests']:>9.0f}  | " + ", ".join(f"{row['order']:.2f}" for row in group))
    base, waiting, polling = (medians.get(name) for name, _ in VARIANTS.values())
    if base and waiting and polling:
        extra_waiting, extra_polling = waiting["order"] - base["order"], polling["order"] - base["order"]
        print(f"the order service's CPU beyond no consumer: waiting {extra_waiting:.2f} s, polling "
              f"{extra_polling:.2f} s" + (f" ({extra_polling / extra_waiting:.0f}x)" if extra_waiting > 0.005 else ""))


if __name__ == "__main__":
    main()
