"""How the order feed's cost grows with history: the paged feed (RFC 5005 archive)
against the classic design that lists every order in /feed.

    .venv/bin/python bench/feed_bench.py [--sizes 1000,10000,100000] [--requests 200] [--warm-up 1]

Needs PostgreSQL's binaries (Debian package postgresql); starts a throwaway cluster,
fills one order database per size (bench/filling.py), serves it with gunicorn (the
paged feed, and the classic one beside it) and measures over HTTP on loopback: an idle
poll (304), the subscription document (200), an archive page, thin and with each
document inline (?embed=documents). Prints one table. A new consumer catching up is
measured by bench/catch_up_bench.py.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common.auth.keys import SigningKey  # noqa: E402
from filling import PAGE_SIZE, fill  # noqa: E402
from msatom.stack import (PostgresCluster, Process, answers, feed_credential, free_port,  # noqa: E402
                          service_environment, start_gunicorn, wait_until)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--requests", type=int, default=200, help="requests per measurement (fewer when slow)")
    parser.add_argument("--warm-up", type=float, default=1.0, help="seconds of requests before each measurement")
    args = parser.parse_args()
    cluster = PostgresCluster().start()
    folder = Path(tempfile.mkdtemp(prefix="msatom-bench-"))
    rows = []
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            url = fill(cluster, size)
            rows += measure(size, url, folder, args)
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print_table(rows)


def measure(size: int, url: str, folder: Path, args) -> list[dict]:
    paged_port, classic_port = free_port(), free_port()
    signing_key = SigningKey.new()
    # The documents inline are for the consumers' accounts alone: the bench reads them as one.
    reader = {"Authorization": f"Bearer {feed_credential(signing_key, 'invoicing')}"}
    paged = start_gunicorn("order", paged_port, folder, 1, DATABASE_URL=url, FEED_PAGE_SIZE=str(PAGE_SIZE),
                           signing_key=signing_key)
    classic = Process([sys.executable, "-m", "gunicorn", "--workers", "1", "--worker-class", "gthread",
                       "--threads", "4", "--bind", f"127.0.0.1:{classic_port}", "--no-control-socket",
                       "--pythonpath", str(ROOT / "bench"), "--timeout", "300", "classic:create_app()"],
                      service_environment(DATABASE_URL=url), folder / f"classic-{classic_port}.log")
    try:
        paged_url, classic_url = f"http://127.0.0.1:{paged_port}", f"http://127.0.0.1:{classic_port}"
        # Not the feeds: the classic one takes longer than a probe waits once it is large.
        for probe in (f"{paged_url}/health", f"{classic_url}/1"):
            wait_until(lambda probe=probe: answers(probe), 60, f"{probe} answering")
        middle = size // PAGE_SIZE // 2 or 1
        count, warm_up = args.requests, args.warm_up
        return [
            {"orders": size, "design": "paged (RFC 5005)",
             "idle": timed(f"{paged_url}/feed", count, warm_up, conditional=True),
             "subscription": timed(f"{paged_url}/feed", count, warm_up),
             "archive": timed(f"{paged_url}/feed/archive/{middle}", count, warm_up),
             "embedded": timed(f"{paged_url}/feed/archive/{middle}?embed=documents", count, warm_up, headers=reader)},
            {"orders": size, "design": "classic (every order)",
             "idle": timed(f"{classic_url}/feed", count, warm_up, conditional=True),
             "subscription": timed(f"{classic_url}/feed", count, warm_up, budget=60),
             "archive": None, "embedded": None},
        ]
    finally:
        paged.stop()
        classic.stop()


def timed(url: str, count: int, warm_up: float, conditional: bool = False, budget: float = 30,
          headers: dict | None = None) -> list[float]:
    """Seconds per request, after `warm_up` seconds of requests; stops early past `budget` seconds."""
    session = requests.Session()
    session.headers.update(headers or {})
    first = session.get(url, timeout=600)
    first.raise_for_status()
    validators = {"If-None-Match": first.headers["ETag"]} if conditional else {}
    warmed = time.perf_counter() + warm_up
    while time.perf_counter() < warmed:
        session.get(url, headers=validators, timeout=600)
    samples, started = list[float](), time.perf_counter()
    while len(samples) < count and (len(samples) < 5 or time.perf_counter() - started < budget):
        begin = time.perf_counter()
        response = session.get(url, headers=validators, timeout=600)
        samples.append(time.perf_counter() - begin)
        assert response.status_code == (304 if conditional else 200), response.status_code
    return samples


def print_table(rows: list[dict]) -> None:
    columns = (("idle", "idle 304 ms"), ("subscription", "subscription ms"), ("archive", "archive page ms"),
               ("embedded", "embedded page ms"))
    print(f"{'orders':>8}  {'design':<22} " + " ".join(f"{title:>18}" for _, title in columns))
    print(f"{'':>8}  {'':<22} " + " ".join(f"{'median / p99':>18}" for _ in columns))
    for row in rows:
        print(f"{row['orders']:>8}  {row['design']:<22} " + " ".join(f"{fmt(row[name]):>18}" for name, _ in columns))
    paged = [row for row in rows if row["design"].startswith("paged")]
    if len(paged) > 1:
        small, large = paged[0], paged[-1]
        for name in ("subscription", "idle", "embedded"):
            ratio = statistics.median(large[name]) / statistics.median(small[name])
            print(f"paged {name} median at {large['orders']} / at {small['orders']} orders: {ratio:.2f}x")


def fmt(samples: list[float] | None) -> str:
    if not samples:
        return "-"
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered) * 1000:.2f} / {p99 * 1000:.2f}"


if __name__ == "__main__":
    main()
