"""A flood of sign-ins against the production stack: how fast the account service
serves the list of revoked tokens meanwhile, and how soon a token signed out during the
flood is refused everywhere.

    .venv/bin/python bench/sign_in_flood_bench.py [--clients 128] [--seconds 20] [--runs 3] [--workers 2]

Needs PostgreSQL's binaries and Apache (Debian packages postgresql, apache2). Starts
the stack as `msatom stack` does (msatom/stack.py: the services under gunicorn, Apache
in front). Each run has two phases of --seconds: at rest, then with --clients clients
(a process of their own, tests/e2e/flooding.py) posting the right password to
`/account/token` through Apache from 16 loopback addresses (new ones each run). In both, a service's own
client asks the account service for `/revoked` every 0.1 s on a new connection, as the
services do; at the flood's start an account signs out and each service is asked every
0.1 s until all three refuse its token. It prints each phase's /revoked times (median,
99th percentile, most), the flood's answers, the seconds until the token was refused
and the largest account worker, then the medians over the runs and the flood's
percentiles against those at rest.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common.auth.revoked import SERVICE_ROLE  # noqa: E402
from msatom.stack import Stack  # noqa: E402
from tests.e2e.flooding import SignInFlood, percentile, workers_memory  # noqa: E402
from tests.e2e.running import SIGNING_KEY, anonymous, token  # noqa: E402
from tests.support.addresses import from_address  # noqa: E402



def addresses(run_number: int) -> list[str]:
    """16 loopback addresses of the run's own: the limits per address begin anew."""
    return [f"127.0.{run_number + 1}.{100 + n}" for n in range(16)]

PASSWORD = "a password of the flood"
SERVICES = ("order", "invoicing", "shipping")


def revoked_times(stack: Stack, seconds: float, largest: list[int]) -> list[float]:
    """Seconds each GET /revoked took, asked every 0.1 s for `seconds`."""
    client = anonymous()
    client.headers.update({"Authorization": f"Bearer {token(SERVICE_ROLE, name='order')}", "Connection": "close"})
    took: list[float] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.monotonic()
        assert client.get(f"{stack.service_url('account')}/revoked", timeout=60).status_code == 200
        took.append(time.monotonic() - started)
        largest[0] = max(largest[0], workers_memory(stack, "account"))
        time.sleep(0.1)
    return took


def refused_after(stack: Stack, name: str, password: str) -> float:
    """Seconds from signing `name` out until every service refuses its token."""
    person = from_address("127.0.0.90")
    person.headers["Connection"] = "close"
    while (signed_in := person.post(f"{stack.url}/account/token", json={"name": name, "password": password},
                                    timeout=60)).status_code != 200:
        time.sleep(float(signed_in.headers.get("Retry-After", "1")))  # its sign-in turned away by the flood
    person.headers.update({"Authorization": f"Bearer {signed_in.json()['token']}", "Accept": "application/json"})
    assert person.post(f"{stack.url}/account/sign-out", timeout=60).status_code == 204
    signed_out = time.monotonic()
    while not all(person.get(f"{stack.url}/{service}/", timeout=60).status_code == 401 for service in SERVICES):
        time.sleep(0.1)
    return time.monotonic() - signed_out


Row = tuple[str, list[float], "dict[int | str, int] | None", "float | None", int]


def run(stack: Stack, args, number: int) -> list[Row]:
    """The run's two phases: (phase, /revoked times, the flood's answers, seconds until
    the token was refused, the largest account worker)."""
    rows: list[Row] = []
    largest = [0]
    rows.append(("at rest", revoked_times(stack, args.seconds, largest), None, None, largest[0]))
    largest = [0]
    with SignInFlood(f"{stack.url}/account/token", "flooder", PASSWORD, args.clients, addresses(number)) as flood:
        refusal: list[float] = []
        signing_out = threading.Thread(target=lambda: refusal.append(refused_after(stack, "dana", "danas-password")))
        signing_out.start()
        took = revoked_times(stack, args.seconds, largest)
        signing_out.join()
    rows.append((f"{args.clients} clients", took, dict(flood.answers), refusal[0], largest[0]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=128)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of each service")
    args = parser.parse_args()

    stack = Stack(poll_interval=1.0, signing_key=SIGNING_KEY, workers=args.workers).start()
    try:
        stack.users("add", "flooder", "--role", "sales", "--password-stdin", stdin=PASSWORD)
        stack.users("add", "dana", "--role", "sales", "--password-stdin", stdin="danas-password")
        runs = []
        for number in range(args.runs):
            runs.append(run(stack, args, number))
            print(f"# run {number + 1}: done", flush=True)
    finally:
        stack.stop()

    print()
    print(f"/account/revoked asked every 0.1 s for {args.seconds:g} s, at rest and under {args.clients} clients "
          f"signing in with the right password; {args.workers} gunicorn workers a service")
    print(f"{'run phase':<16} {'asked':>5} {'p50 ms':>7} {'p99 ms':>7} {'most ms':>8} {'refused after':>13} "
          f"{'worker MiB':>10}  flood's answers")
    for number, rows in enumerate(runs, 1):
        for phase, took, answers, refusal, largest in rows:
            refused = f"{refusal:.1f} s" if refusal is not None else "-"
            print(f"{f'{number} {phase}':<16} {len(took):>5} {percentile(took, 0.5) * 1000:>7.0f} "
                  f"{percentile(took, 0.99) * 1000:>7.0f} {max(took) * 1000:>8.0f} {refused:>13} "
                  f"{largest / 2 ** 20:>10.0f}  {answers or '-'}")
    for at, phase in enumerate(("at rest", f"{args.clients} clients")):
        p50 = statistics.median(percentile(rows[at][1], 0.5) for rows in runs)
        p99 = statistics.median(percentile(rows[at][1], 0.99) for rows in runs)
        print(f"{f'median {phase}':<22} {p50 * 1000:>7.0f} {p99 * 1000:>7.0f}")
    rest = statistics.median(percentile(rows[0][1], 0.99) for rows in runs)
    flooded = statistics.median(percentile(rows[1][1], 0.99) for rows in runs)
    print(f"p99 under the flood / at rest: {flooded / rest:.1f}×; token refused everywhere after "
          f"{statistics.median(rows[1][3] or 0.0 for rows in runs):.1f} s (median)")


if __name__ == "__main__":
    main()
