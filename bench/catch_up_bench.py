"""A new consumer catching up: time to its first import and orders imported per second,
against the size of the history.

    .venv/bin/python bench/catch_up_bench.py [--sizes 1000,10000,100000] [--runs 3] [--window 20]
                                             [--variants links,embedded,walk-back] [--profile DIR]

Needs PostgreSQL's binaries (Debian package postgresql). Starts a throwaway cluster,
fills one order database per size (bench/filling.py) and serves it with gunicorn as
production does (two gthread workers of 16 threads). For each run and variant a new
consumer, invoicing's Consumer on an empty PostgreSQL database of its own, polls once
in this process, with a feed reader's token for the order documents as a stack's
consumers have one:

  links      follows each entry's link to its document (EMBEDDED_DOCUMENTS=0), one
             request an entry, four at a time;
  embedded   reads the pages with each document inline (?embed=documents), one
             request a page (the default);
  walk-back  the old way to its place: ignores the jump link (/feed/after/<position>)
             and walks back along prev-archive from the newest page, then follows
             links as `links` does.

"first import" is the time from the start of the poll to the commit of its first
batch; "orders/s" counts the orders imported after that batch over the time to the
last batch. A poll is stopped `--window` seconds after its first import, so at large
sizes the rate is that of a fixed window. The CPU columns give the CPU seconds used
meanwhile by the consumer (this process), the order service (gunicorn, all workers)
and PostgreSQL (both databases), per second of the poll: 2.0 is both cores of a
2-core machine. Runs of the variants alternate, so that each run sees the same
machine. --profile DIR records the largest size's first run of each variant with
py-spy (the consumer, and the order service's workers) and prints where the time went.
"""
from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

from sqlalchemy import event

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import procstat  # noqa: E402
from common.auth.keys import SigningKey  # noqa: E402
from filling import PAGE_SIZE, fill  # noqa: E402
from common.db import Database  # noqa: E402
from common.feed import reading  # noqa: E402
from common.feed.client import FeedClient, FeedError  # noqa: E402
from common.feed.parsing import FeedPage  # noqa: E402
from common.feed.running import Consumer  # noqa: E402
from common.schema import upgrade  # noqa: E402
from common.utc import utc_now  # noqa: E402
from invoicing import models  # noqa: E402
from invoicing.importer import import_order  # noqa: E402
from msatom.stack import PostgresCluster, answers, feed_credential, free_port, start_gunicorn, wait_until  # noqa: E402

VARIANTS = ("links", "embedded", "walk-back")


class Enough(FeedError):
    """Raised by the bench inside a poll once its window is over: the poll ends there."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--runs", type=int, default=3, help="runs of each variant per size (medians are printed)")
    parser.add_argument("--window", type=float, default=20, help="seconds after the first import a poll may go on")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of the order service")
    parser.add_argument("--profile", type=Path, help="folder for py-spy profiles of the largest size's first run")
    args = parser.parse_args()
    variants = args.variants.split(",")
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variants {', '.join(sorted(unknown))}; choose from {', '.join(VARIANTS)}")
    sizes = [int(size) for size in args.sizes.split(",")]
    logging.basicConfig(level=logging.ERROR)  # the rejected or stopped polls' warnings are the bench's own doing
    cluster = PostgresCluster().start()
    folder = Path(tempfile.mkdtemp(prefix="msatom-catch-up-"))
    signing_key = SigningKey.new()  # the order service checks the consumers' credentials with it
    rows = []
    try:
        for size in sizes:
            started = time.perf_counter()
            url = fill(cluster, size)
            print(f"# {size} orders filled in {time.perf_counter() - started:.1f} s", flush=True)
            port = free_port()
            server = start_gunicorn("order", port, folder, args.workers, DATABASE_URL=url,
                                    FEED_PAGE_SIZE=str(PAGE_SIZE), signing_key=signing_key)
            order_url = f"http://127.0.0.1:{port}"
            try:
                wait_until(lambda: answers(f"{order_url}/health"), 60, "the order service answering")
                for run in range(args.runs):
                    for variant in variants:
                        profile = args.profile if (args.profile and run == 0 and size == sizes[-1]) else None
                        client = FeedClient(f"{order_url}/feed", credential=feed_credential(signing_key, "invoicing"))
                        result = catch_up(cluster, client, server.process.pid, size, variant, run, args.window,
                                          profile)
                        rows.append(result)
                        print("# " + describe(result), flush=True)
            finally:
                server.stop()
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print_table(rows, variants)


def catch_up(cluster: PostgresCluster, client: FeedClient, server_pid: int, size: int, variant: str, run: int,
             window: float, profile: Path | None) -> dict:
    db = Database(cluster.create_database(f"consumer_{size}_{variant.replace('-', '_')}_{run}"))
    upgrade(db, models.MIGRATIONS)
    consumer = Consumer(db, models.Tracking, models.PollStatus, models.RejectedEntry, import_order, client, utc_now,
                        embedded=variant == "embedded")
    spent = {"pages": 0.0, "parse": 0.0, "apply": 0.0, "sql": 0.0}  # seconds of the poll's own thread in each
    batches = time_batches(consumer, spent, window)
    statements = count_statements(db, spent)
    consumer.reader.client.get_page = stopwatch(consumer.reader.client.get_page, spent, "pages")
    postgres = procstat.postmaster_pid(cluster.data)
    cpu = lambda: (procstat.cpu_seconds(os.getpid(), descendants=False),  # noqa: E731
                   procstat.cpu_seconds(server_pid), procstat.cpu_seconds(postgres))
    with walking_back(variant == "walk-back"), profiled(profile, variant, server_pid), \
            mock.patch.object(reading, "parse_page", stopwatch(reading.parse_page, spent, "parse")):
        cpu_before, started = cpu(), time.perf_counter()
        result = consumer.poll()
        ended, cpu_after = time.perf_counter(), cpu()
    db.dispose()
    if not batches:
        raise RuntimeError(f"{variant} at {size}: nothing imported ({result})")
    first_at, first_count = batches[0]
    imported = sum(count for _, count in batches)
    last_at = batches[-1][0]
    return {
        "orders": size, "variant": variant, "run": run,
        "first": first_at - started,
        "rate": (imported - first_count) / (last_at - first_at) if last_at > first_at else float("nan"),
        "imported": imported, "caught_up": result.status == 200, "seconds": ended - started,
        "cpu": [(after - before) / (ended - started) for before, after in zip(cpu_before, cpu_after, strict=True)],
        "statements": statements[0] / imported,
        # Of the poll's time, the shares: fetching pages (HTTP and the server), parsing them, applying
        # (ORM and database; of that, the time inside the driver's calls: the statements' round trips);
        # the rest is the documents (fetched by link, or read inline) and the start.
        "shares": {name: seconds / (ended - started) for name, seconds in spent.items()},
    }


def time_batches(consumer: Consumer, spent: dict, window: float) -> list[tuple[float, int]]:
    """The batches `consumer` commits from now on, as (when it committed, orders it
    imported), each call's seconds added to spent["apply"]; past `window` seconds after
    the first batch the poll ends. The one place that knows how the consumer applies a
    batch: where that changes, this changes with it."""
    batches: list[tuple[float, int]] = []
    apply = consumer.applier.apply

    def timed_apply(changes):
        tally = apply(changes)
        batches.append((time.perf_counter(), tally.imported))
        if time.perf_counter() - batches[0][0] > window:
            raise Enough("window over")
        return tally

    consumer.applier.apply = stopwatch(timed_apply, spent, "apply")
    return batches


def stopwatch(function, spent: dict, name: str):
    """`function`, adding the seconds each call takes to spent[name]."""
    def timed(*args, **kwargs):
        begin = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name] += time.perf_counter() - begin
    return timed


def count_statements(db: Database, spent: dict) -> list[int]:
    """A counter of the statements the consumer sends to its own database; the seconds
    they take from the driver's call to its return add up in spent["sql"]."""
    counted = [0]

    def before(connection, *_):
        counted[0] += 1
        connection.info["bench.started"] = time.perf_counter()

    def after(connection, *_):
        spent["sql"] += time.perf_counter() - connection.info.pop("bench.started")

    event.listen(db.engine, "before_cursor_execute", before)
    event.listen(db.engine, "after_cursor_execute", after)
    return counted


@contextmanager
def walking_back(active: bool):
    """The consumer of this process sees no jump link, as feeds before it had none."""
    if not active:
        yield
        return
    with mock.patch.object(FeedPage, "page_after", lambda self, position: None):
        yield


@contextmanager
def profiled(folder: Path | None, variant: str, server_pid: int):
    """py-spy on this process (wall time of its threads, idle too; and CPU time) and
    on the order service's workers (CPU time), while the block runs."""
    if folder is None:
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    spy = Path(sys.executable).with_name("py-spy")
    common = ["--rate", "250", "--format", "speedscope", "--nonblocking"]
    spies = [subprocess.Popen([str(spy), "record", "--pid", str(os.getpid()), "--idle", "--threads", *common,
                               "-o", str(folder / f"{variant}-consumer-wall.json")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
             subprocess.Popen([str(spy), "record", "--pid", str(os.getpid()), *common,
                               "-o", str(folder / f"{variant}-consumer-cpu.json")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
             subprocess.Popen([str(spy), "record", "--pid", str(server_pid), "--subprocesses", *common,
                               "-o", str(folder / f"{variant}-order.json")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    time.sleep(1)  # py-spy attaches
    try:
        yield
    finally:
        for process in spies:
            process.send_signal(signal.SIGINT)
        for process in spies:
            process.wait(60)
        from profile_shares import report
        print(f"# profile of {variant}:")
        print(report(folder / f"{variant}-consumer-wall.json", main_thread_only=True, within="Consumer.poll",
                     functions=8), flush=True)
        print(report(folder / f"{variant}-consumer-cpu.json", functions=8), flush=True)
        print(report(folder / f"{variant}-order.json", functions=8), flush=True)


def describe(row: dict) -> str:
    consumer, order, postgres = row["cpu"]
    return (f"{row['orders']:>7} {row['variant']:<10} run {row['run'] + 1}: first import after "
            f"{row['first'] * 1000:8.1f} ms, then {row['rate']:6.0f} orders/s ({row['imported']} imported in "
            f"{row['seconds']:.1f} s{', caught up' if row['caught_up'] else ', stopped'}, "
            f"{row['statements']:.1f} statements an order); time in pages {row['shares']['pages']:.0%}, parsing "
            f"{row['shares']['parse']:.0%}, applying {row['shares']['apply']:.0%} (of which SQL statements "
            f"{row['shares']['sql']:.0%}); CPU/s consumer "
            f"{consumer:.2f}, order {order:.2f}, PostgreSQL {postgres:.2f}")


def print_table(rows: list[dict], variants: list[str]) -> None:
    print()
    print("Medians of the runs. Time shares are of the poll's wall time, CPU in seconds per second of it.")
    print(f"{'orders':>8}  {'variant':<10} {'first import':>12} {'orders/s':>9} {'window':>7} {'SQL/order':>9}  "
          f"{'pages':>5} {'parse':>5} {'apply':>5} {'(SQL)':>5}  {'CPU: consumer':>13} {'order':>5} {'PG':>5}  "
          f"runs (first ms / orders/s)")
    for size in sorted({row["orders"] for row in rows}):
        for variant in variants:
            group = [row for row in rows if row["orders"] == size and row["variant"] == variant]
            if not group:
                continue
            median = lambda values: statistics.median(values)  # noqa: E731
            cpu = [median([row["cpu"][i] for row in group]) for i in range(3)]
            shares = {name: median([row["shares"][name] for row in group]) for name in group[0]["shares"]}
            window = "all" if all(row["caught_up"] for row in group) else "fixed"
            runs = ", ".join(f"{row['first'] * 1000:.0f} / {row['rate']:.0f}" for row in group)
            print(f"{size:>8}  {variant:<10} {median([r['first'] for r in group]) * 1000:>9.0f} ms "
                  f"{median([r['rate'] for r in group]):>9.0f} {window:>7} {median([r['statements'] for r in group]):>9.1f}  "
                  f"{shares['pages']:>5.0%} {shares['parse']:>5.0%} {shares['apply']:>5.0%} {shares['sql']:>5.0%}  "
                  f"{cpu[0]:>13.2f} {cpu[1]:>5.2f} {cpu[2]:>5.2f}  {runs}")
    print("window: all = caught up within it, the rate is the whole catch-up's; fixed = the rate of the "
          "window after the first import")
    sizes = sorted({row["orders"] for row in rows})
    if len(sizes) > 1:
        for variant in variants:
            small = [r["first"] for r in rows if r["orders"] == sizes[0] and r["variant"] == variant]
            large = [r["first"] for r in rows if r["orders"] == sizes[-1] and r["variant"] == variant]
            if small and large:
                print(f"{variant}: first import at {sizes[-1]} / at {sizes[0]} orders: "
                      f"{statistics.median(large) / statistics.median(small):.2f}x")
    for size in sizes:
        rate = {variant: statistics.median([r["rate"] for r in rows if r["orders"] == size and r["variant"] == variant])
                for variant in variants if any(r["orders"] == size and r["variant"] == variant for r in rows)}
        if "links" in rate and "embedded" in rate:
            print(f"{size}: embedded / links orders/s: {rate['embedded'] / rate['links']:.2f}x")


if __name__ == "__main__":
    main()
