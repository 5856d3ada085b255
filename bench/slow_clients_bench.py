"""Slow clients against the production stack: how /health answers and whether orders
are placed while --clients connections send a request a byte at a time.

    .venv/bin/python bench/slow_clients_bench.py [--clients 64] [--seconds 20] [--interval 2,5] [--workers 2]

Needs PostgreSQL's binaries and Apache (Debian packages postgresql, apache2). Starts
the stack as `msatom stack` does (msatom/stack.py: the services under gunicorn, two
workers of 16 threads unless --workers says otherwise, Apache in front) and runs four attacks one after another, each
for --seconds: slow bodies (a JSON POST announcing 100 KB, 20 KB sent at once, then a
byte every --interval seconds) and slow headers (a byte every --interval seconds),
through Apache and straight to the order service's gunicorn. Meanwhile, every 0.25 s,
it asks for /health and places an order, each on a new connection (a timeout of 5 s:
a health check that gets no answer counts 5 s). It prints, per attack, the time to
answer /health (median, 95th percentile, most), how often it took a second or more or
failed, the orders placed, and how many slow clients the server cut off meanwhile
(after how long, and with what answer).
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from msatom.stack import Stack, answers, wait_until  # noqa: E402
from tests.support.orders import order_request  # noqa: E402
from tests.e2e.running import SIGNING_KEY  # noqa: E402
from tests.e2e.slow_clients import BODY, HEADERS, SlowClients, probe  # noqa: E402


def attacks(stack: Stack) -> list[tuple[str, tuple[str, int], str, str, str]]:
    """(name, address attacked, kind, path, base URL of the probes)."""
    apache = ("127.0.0.1", stack.ports["apache"])
    order = ("127.0.0.1", stack.ports["order"])
    return [("slow bodies through Apache", apache, BODY, "/order/", f"{stack.url}/order"),
            ("slow headers through Apache", apache, HEADERS, "/order/health", f"{stack.url}/order"),
            ("slow bodies to gunicorn", order, BODY, "/", stack.service_url("order")),
            ("slow headers to gunicorn", order, HEADERS, "/health", stack.service_url("order"))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--interval", default="2,5", help="seconds between two bytes of a slow client: low,high")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of each service")
    args = parser.parse_args()
    low, high = (float(part) for part in args.interval.split(","))
    interval = (low, high)

    stack = Stack(poll_interval=1.0, signing_key=SIGNING_KEY, workers=args.workers).start()  # the probes sign in with the tests' key
    rows = []
    try:
        for name, address, kind, path, base in attacks(stack):
            with SlowClients(address, args.clients, kind, path, interval) as attack:
                probes = probe(f"{base}/health", f"{base}/", order_request(), until=lambda: False,
                               timeout=args.seconds)
                cut = [c.dropped - c.opened for c in attack.dropped()]
                statuses = sorted(set(attack.statuses()))
            rows.append((name, probes, cut, statuses))
            print(f"# {name}: done", flush=True)
            # The next attack starts on a service that answers again.
            wait_until(lambda: answers(f"{base}/health"), 60, f"{base}/health answering")
    finally:
        stack.stop()

    print()
    print(f"{args.clients} slow clients for {args.seconds:g} s each, a byte every {args.interval} s; "
          f"/health and an order every 0.25 s on new connections")
    print(f"{'attack':<28} {'rounds':>6} {'health median':>13} {'p95':>7} {'most':>7} {'>=1s/failed':>11} "
          f"{'orders 201':>10} {'cut off':>7} {'after (median)':>14}  answer")
    for name, probes, cut, statuses in rows:
        seconds = sorted(min(s, 5.0) if answer == 200 else 5.0 for s, answer in probes.health)
        p95 = seconds[min(len(seconds) - 1, int(0.95 * len(seconds)))]
        bad = sum(1 for s, answer in probes.health if answer != 200 or s >= 1.0)
        placed = sum(1 for status in probes.orders if status == 201)
        after = f"{statistics.median(cut):.1f} s" if cut else "-"
        answer = ", ".join(status or "closed" for status in statuses) or "-"
        print(f"{name:<28} {len(seconds):>6} {statistics.median(seconds) * 1000:>10.0f} ms {p95 * 1000:>4.0f} ms "
              f"{seconds[-1] * 1000:>4.0f} ms {bad:>11} {f'{placed}/{len(probes.orders)}':>10} {len(cut):>7} "
              f"{after:>14}  {answer}")


if __name__ == "__main__":
    main()
