"""How the order feed's cost grows with history: the paged feed (RFC 5005 archive)
against the classic design that lists every order in /feed.

    .venv/bin/python bench/feed_bench.py [--sizes 1000,10000,100000] [--requests 200]

Needs PostgreSQL's binaries (Debian package postgresql); starts a throwaway cluster,
fills one order database per size, serves it with gunicorn (the paged feed, and the
classic one beside it) and measures over HTTP on loopback. Prints one table.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common.db import Database  # noqa: E402
from alembic import command  # noqa: E402
from common.schema import alembic_config, upgrade  # noqa: E402
from msatom.stack import PostgresCluster, Process, answers, free_port, service_environment, start_gunicorn, wait_until  # noqa: E402
from order.models import MIGRATIONS  # noqa: E402

PAGE_SIZE = 20
FILL = """
INSERT INTO purchase_order (id, placed_at, updated, customer_id, shipping_street, shipping_zip, shipping_city,
                            billing_street, billing_zip, billing_city, status, version)
SELECT g, TIMESTAMPTZ '2026-01-01 00:00:00+00' + g * INTERVAL '1 second', TIMESTAMPTZ '2026-01-01 00:00:00+00' + g * INTERVAL '1 second', 1 + g %% 2,
       'Ohlauer Str. 43', '10999', 'Berlin', 'Krischerstr. 100', '40789', 'Monheim am Rhein', 'accepted', 1
FROM generate_series(1, %(n)s) AS g;
INSERT INTO order_line (order_id, item_id, count, price)
SELECT g, item.id, 1 + g %% 3, item.price FROM generate_series(1, %(n)s) AS g JOIN item ON item.id = 1 + g %% 4;
INSERT INTO feed_entry (position, order_id, order_version, event, recorded_at)
SELECT id, id, 1, 'placed', updated FROM purchase_order;
SELECT setval('purchase_order_id_seq', %(n)s), setval('order_line_id_seq', %(n)s);
ANALYZE;
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--requests", type=int, default=200, help="requests per measurement (fewer when slow)")
    parser.add_argument("--catch-up-seconds", type=float, default=60)
    args = parser.parse_args()
    cluster = PostgresCluster().start()
    folder = Path(tempfile.mkdtemp(prefix="msatom-bench-"))
    rows = []
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            url = fill(cluster, size)
            rows += measure(size, url, cluster, folder, args)
    finally:
        cluster.stop()
    print_table(rows)


def fill(cluster: PostgresCluster, size: int) -> str:
    url = cluster.create_database(f"orders_{size}")
    db = Database(url)
    command.upgrade(alembic_config(db, MIGRATIONS), "0002")  # the tables FILL writes
    connection = psycopg2.connect(host="127.0.0.1", port=cluster.port, user=f"orders_{size}", dbname=f"orders_{size}")
    with connection, connection.cursor() as cursor:
        # Half a page more, so that /feed, the page still filling, holds entries.
        cursor.execute(FILL, {"n": size + PAGE_SIZE // 2})
    connection.close()
    upgrade(db, MIGRATIONS)  # the rest, as an existing deployment gets it: each entry's document
    db.dispose()
    return url


def measure(size: int, url: str, cluster: PostgresCluster, folder: Path, args) -> list[dict]:
    paged_port, classic_port = free_port(), free_port()
    paged = start_gunicorn("order", paged_port, folder, 1, DATABASE_URL=url, FEED_PAGE_SIZE=str(PAGE_SIZE))
    classic = Process([sys.executable, "-m", "gunicorn", "--workers", "1", "--worker-class", "gthread",
                       "--threads", "4", "--bind", f"127.0.0.1:{classic_port}", "--no-control-socket",
                       "--pythonpath", str(ROOT / "bench"), "--timeout", "300", "classic:create_app()"],
                      service_environment(DATABASE_URL=url), folder / f"classic-{classic_port}.log")
    try:
        for port in (paged_port, classic_port):
            wait_until(lambda port=port: answers(f"http://127.0.0.1:{port}/1"), 60, "the service answering")
        paged_url, classic_url = f"http://127.0.0.1:{paged_port}", f"http://127.0.0.1:{classic_port}"
        middle = size // PAGE_SIZE // 2 or 1
        return [
            {"orders": size, "design": "paged (RFC 5005)",
             "idle": timed(f"{paged_url}/feed", args.requests, conditional=True),
             "subscription": timed(f"{paged_url}/feed", args.requests),
             "archive": timed(f"{paged_url}/feed/archive/{middle}", args.requests),
             "catch_up": catch_up(paged_url, cluster.create_database(f"consumer_{size}"), args.catch_up_seconds)},
            {"orders": size, "design": "classic (every order)",
             "idle": timed(f"{classic_url}/feed", args.requests, conditional=True),
             "subscription": timed(f"{classic_url}/feed", args.requests, budget=60),
             "archive": None, "catch_up": None},
        ]
    finally:
        paged.stop()
        classic.stop()


def timed(url: str, count: int, conditional: bool = False, budget: float = 30) -> list[float]:
    """Seconds per request, after warm-up requests; stops early past `budget` seconds."""
    session = requests.Session()
    first = session.get(url, timeout=600)
    first.raise_for_status()
    headers = {"If-None-Match": first.headers["ETag"]} if conditional else {}
    warm_up = time.perf_counter() + 1
    while time.perf_counter() < warm_up:
        session.get(url, headers=headers, timeout=600)
    samples, started = [], time.perf_counter()
    while len(samples) < count and (len(samples) < 5 or time.perf_counter() - started < budget):
        begin = time.perf_counter()
        response = session.get(url, headers=headers, timeout=600)
        samples.append(time.perf_counter() - begin)
        assert response.status_code == (304 if conditional else 200), response.status_code
    return samples


def catch_up(order_url: str, database: str, seconds: float) -> tuple[float, float]:
    """A new consumer (invoicing, on PostgreSQL) catching up from an empty database:
    seconds until its first import (start-up and the walk back through the archive),
    then orders imported per second; stopped after `seconds`."""
    script = ("import sys; from msatom.services import create_app; from common.settings import Settings; "
              "s = Settings.from_env('invoicing', {}).but(database_url=sys.argv[1], order_feed_url=sys.argv[2], "
              "poll_interval_seconds=0); create_app('invoicing', s).extensions['consumer'].poll()")
    consumer = subprocess.Popen([sys.executable, "-c", script, database, f"{order_url}/feed"],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = Database(database)
    started = time.perf_counter()
    first = imported = None
    while consumer.poll() is None and time.perf_counter() - started < seconds:
        time.sleep(0.25)
        imported = invoices(db)
        if imported and first is None:
            first = time.perf_counter() - started
    consumer.kill()
    consumer.wait()
    elapsed = time.perf_counter() - started
    imported = invoices(db)
    db.dispose()
    if not imported:
        return elapsed, 0.0
    return first, imported / (elapsed - first)


def invoices(db: Database) -> int:
    try:
        with db.engine.connect() as connection:
            return connection.exec_driver_sql("SELECT count(*) FROM invoice").scalar()
    except Exception:  # noqa: BLE001 - the consumer has not made its tables yet
        return 0


def print_table(rows: list[dict]) -> None:
    print(f"{'orders':>8}  {'design':<22} {'idle 304 ms':>18} {'subscription ms':>18} {'archive page ms':>18} "
          f"{'catch-up: first':>16} {'then':>10}")
    print(f"{'':>8}  {'':<22} {'median / p99':>18} {'median / p99':>18} {'median / p99':>18} "
          f"{'import after s':>16} {'orders/s':>10}")
    for row in rows:
        print(f"{row['orders']:>8}  {row['design']:<22} {fmt(row['idle']):>18} {fmt(row['subscription']):>18} "
              f"{fmt(row['archive']):>18} {catch_up_cells(row['catch_up'])}")
    paged = [row for row in rows if row["design"].startswith("paged")]
    if len(paged) > 1:
        small, large = paged[0], paged[-1]
        for name in ("subscription", "idle"):
            ratio = statistics.median(large[name]) / statistics.median(small[name])
            print(f"paged {name} median at {large['orders']} / at {small['orders']} orders: {ratio:.2f}x")


def catch_up_cells(value: tuple[float, float] | None) -> str:
    if value is None:
        return f"{'-':>16} {'-':>10}"
    return f"{value[0]:>16.1f} {value[1]:>10.0f}"


def fmt(samples: list[float] | None) -> str:
    if not samples:
        return "-"
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered) * 1000:.2f} / {p99 * 1000:.2f}"


if __name__ == "__main__":
    main()
