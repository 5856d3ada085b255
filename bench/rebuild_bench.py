"""Rebuilding invoicing from the feed: how many orders a second a rebuild reads, beside
the same service's own catch-up from an empty database.

    .venv/bin/python bench/rebuild_bench.py [--orders 5000] [--runs 3] [--workers 2]

Needs PostgreSQL's binaries (Debian package postgresql). Starts a throwaway cluster,
fills an order database with --orders orders (bench/filling.py) and serves it with
gunicorn as production does; then, for each run, a new invoicing service under
gunicorn on an empty database of its own, following the feed as it does by default
(waiting on it, the documents inline). It times:

  catch-up  from the service's start to its position at the newest entry (GET /status);
  rebuild   `POST /rebuild` (an operator's token), then to its mark's status `done`
            (the service's table `rebuild`, read by the bench).

Rates are orders a second over the whole of each; medians of the runs, each run
beside them.
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

import psycopg2
import requests
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common.auth.keys import SigningKey  # noqa: E402
from filling import PAGE_SIZE, fill  # noqa: E402
from common.auth import tokens  # noqa: E402
from common.utc import utc_now  # noqa: E402
from invoicing.access import ACCOUNTING  # noqa: E402
from msatom.stack import PostgresCluster, answers, free_port, start_gunicorn, wait_until  # noqa: E402

GIVE_UP = 600.0  # seconds after which a catch-up or rebuild that did not end fails the bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of each service")
    args = parser.parse_args()
    cluster = PostgresCluster().start()
    folder = Path(tempfile.mkdtemp(prefix="msatom-rebuild-"))
    signing_key = SigningKey.new()
    try:
        url = fill(cluster, args.orders, extra=0)
        port = free_port()
        order = start_gunicorn("order", port, folder, args.workers, DATABASE_URL=url,
                               FEED_PAGE_SIZE=str(PAGE_SIZE), signing_key=signing_key)
        try:
            wait_until(lambda: answers(f"http://127.0.0.1:{port}/health"), 60, "the order service answering")
            runs = [measure(cluster, folder, signing_key, f"http://127.0.0.1:{port}", args, run)
                    for run in range(args.runs)]
        finally:
            order.stop()
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print_table(runs, args.orders)


def measure(cluster: PostgresCluster, folder: Path, signing_key: SigningKey, order_url: str, args, run: int) -> dict:
    port, database = free_port(), cluster.create_database(f"invoicing_{run}")
    service = start_gunicorn("invoicing", port, folder, args.workers, signing_key=signing_key, DATABASE_URL=database,
                             ORDER_FEED_URL=f"{order_url}/feed")
    base = f"http://127.0.0.1:{port}"
    http = requests.Session()
    http.trust_env = False
    http.headers["Authorization"] = "Bearer " + tokens.issue(signing_key, "operator", (ACCOUNTING,),
                                                             timedelta(hours=1), utc_now())
    try:
        started = time.perf_counter()
        wait_until(lambda: answers(f"{base}/health"), 60, "invoicing answering")
        status = lambda: http.get(f"{base}/status", timeout=10).json()  # noqa: E731
        wait_until(lambda: status()["position"] == args.orders, GIVE_UP, "invoicing caught up")
        caught_up = time.perf_counter() - started
        started = time.perf_counter()
        answer = http.post(f"{base}/rebuild", headers={"Accept": "application/json"}, timeout=10)
        if answer.status_code != 202:
            raise RuntimeError(f"POST /rebuild answered {answer.status_code}: {answer.text[:300]}")
        wait_until(lambda: finished(database), GIVE_UP, "the rebuild done")
        rebuilt = time.perf_counter() - started
    finally:
        service.stop()
    result = {"catch-up": args.orders / caught_up, "rebuild": args.orders / rebuilt}
    print(f"# run {run + 1}: catch-up {caught_up:.1f} s ({result['catch-up']:.0f} orders/s), "
          f"rebuild {rebuilt:.1f} s ({result['rebuild']:.0f} orders/s)", flush=True)
    return result


def finished(database: str) -> bool:
    """Whether the rebuild's mark says it is done; raises when it says it failed."""
    url = make_url(database)
    connection = psycopg2.connect(host=url.host, port=url.port, user=url.username, dbname=url.database)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute("SELECT status, message FROM rebuild WHERE id = 1")
            status, message = cursor.fetchone() or ("none", "")
    finally:
        connection.close()
    if status == "failed":
        raise RuntimeError(f"the rebuild failed: {message}")
    return status == "done"


def print_table(runs: list[dict], orders: int) -> None:
    print()
    print(f"{'orders':>7}  {'what':<9} {'orders/s':>9}  runs")
    for what in ("catch-up", "rebuild"):
        rates = [run[what] for run in runs]
        print(f"{orders:>7}  {what:<9} {statistics.median(rates):>9.0f}  {', '.join(f'{rate:.0f}' for rate in rates)}")


if __name__ == "__main__":
    main()
