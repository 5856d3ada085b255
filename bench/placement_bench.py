"""How fast orders are placed through Apache on PostgreSQL, beside what the same stack
answers for GET /order/health: the cost of placing an order above a request's.

    .venv/bin/python bench/placement_bench.py [--replicas 1 2] [--clients 8] [--seconds 5] [--rounds 5] [--quick]
                                              [--warm-up 1] [--workers 2]

Starts msatom.stack.Stack (PostgreSQL, the services under gunicorn, Apache balancing
over the order replicas; needs Debian's postgresql and apache2) once per number of
order replicas, then lets --clients threads, each with a keep-alive session of its
own, send as many requests as they can for --seconds: GET /order/health, then POST
/order/ (JSON, a sales token, an order of two lines, an Idempotency-Key of its own
as the web form and a careful client send), then POST /order/ again with the consumers
paused (SIGSTOP), alternating for --rounds rounds, so that all see the same machine.
Prints, per number of replicas, the median requests per second of each and their
ratio, and the CPU milliseconds each part of the stack spent per request (the clients
are this process; the consumers' reading of the feed counts in the order service's
share, their importing in their own). How much the consumers' reading takes depends
on the rate (a woken consumer reads one page for all the orders placed since its
last), so a second table gives the orders placed while the consumers were paused and
the CPU the order service and PostgreSQL spent on each: the cost of placing alone.
The consumers then go on, and the next measurement starts once they have caught up.
"""
from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from procstat import cpu_seconds, postmaster_pid  # noqa: E402
from msatom.bootstrap import CONSUMERS  # noqa: E402
from msatom.stack import Stack, wait_until  # noqa: E402
from order.access import SALES  # noqa: E402

ORDER = {"customerId": 1,
         "shippingAddress": {"street": "Ohlauer Str. 43", "zip": "10999", "city": "Berlin"},
         "billingAddress": {"street": "Krischerstr. 100", "zip": "40789", "city": "Monheim am Rhein"},
         "lines": [{"itemId": 1, "count": 2}, {"itemId": 2, "count": 1}]}
KINDS = ("health", "place", "alone")  # alone: placing while the consumers are paused
CATCH_UP_SECONDS = 120
PARTS = ("order", "consumers", "apache", "postgres", "clients")
CORES = os.cpu_count() or 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2], help="numbers of order replicas")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each measurement")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of health then place (medians are printed)")
    parser.add_argument("--quick", action="store_true", help="2 rounds of 2 seconds")
    parser.add_argument("--warm-up", type=float, default=1.0, help="seconds of each kind of request before the rounds")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of each service")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.seconds = 2, 2.0
    results = [measure(replicas, args) for replicas in args.replicas]
    print_table(results, args)


def measure(replicas: int, args) -> dict:
    stack = Stack(order_replicas=replicas, workers=args.workers)
    stack.start()
    try:
        bench = Bench(stack, args.clients)
        for kind in KINDS:
            bench.run(kind, args.warm_up)
        rounds = []
        for number in range(args.rounds):
            rounds.append({kind: bench.run(kind, args.seconds) for kind in KINDS})
            print(f"# {replicas} replica(s), round {number + 1}: " + ", ".join(
                f"{kind} {rounds[-1][kind]['rate']:.0f}/s" for kind in KINDS), flush=True)
        return {"replicas": replicas, "rounds": rounds}
    finally:
        stack.stop()


class Bench:
    """Clients of one stack; `run` measures one kind of request."""

    def __init__(self, stack: Stack, clients: int):
        self.stack = stack
        self.token = stack.token(SALES, name="bench")
        self.sessions = [self._session() for _ in range(clients)]

    def _session(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False
        return session

    def run(self, kind: str, seconds: float) -> dict:
        """Requests of `kind` answered per second by all clients together, and the CPU
        seconds per 1000 requests of each part of the stack."""
        send = {"health": self._health, "place": self._place, "alone": self._place}[kind]
        counts = [0] * len(self.sessions)
        errors: list[BaseException] = []
        if kind == "alone":
            self._signal_consumers(signal.SIGSTOP)
        cpu_before = self.cpu()
        started = time.perf_counter()
        deadline = started + seconds
        threads = [threading.Thread(target=self._client, args=(send, session, deadline, counts, index, errors))
                   for index, session in enumerate(self.sessions)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        cpu_after = self.cpu()  # before the consumers catch up
        if kind == "alone":
            self._signal_consumers(signal.SIGCONT)
            wait_until(self._caught_up, CATCH_UP_SECONDS, "the consumers catching up with the feed")
            for session in self.sessions:  # Apache may close a connection idle that long just as it is used
                session.close()
        if errors:
            raise errors[0]
        done = sum(counts)
        return {"rate": done / elapsed,
                "cpu": {part: (cpu_after[part] - cpu_before[part]) * 1000 / max(done, 1) for part in PARTS}}

    @staticmethod
    def _client(send, session, deadline: float, counts: list[int], index: int, errors: list) -> None:
        try:
            while True:  # one request at least, however late the thread starts: no rate is ever 0
                send(session)
                counts[index] += 1
                if time.perf_counter() >= deadline:
                    break
        except BaseException as error:  # noqa: BLE001 - handed to the main thread
            errors.append(error)

    def _health(self, session: requests.Session) -> None:
        expect(session.get(f"{self.stack.url}/order/health", timeout=30), 200)

    def _place(self, session: requests.Session) -> None:
        headers = {"Authorization": f"Bearer {self.token}", "Idempotency-Key": f'"{uuid.uuid4()}"'}
        expect(session.post(f"{self.stack.url}/order/", json=ORDER, headers=headers, timeout=30), 201)

    def _signal_consumers(self, sig: int) -> None:
        for name in (name for consumer in CONSUMERS for name in self.stack.replicas(consumer)):
            self.stack.processes[name].send(sig, group=True)

    def _caught_up(self) -> bool:
        """Whether every consumer has taken the feed's newest position."""
        newest = self._status("order")["position"]
        return all(self._status(consumer)["position"] == newest for consumer in CONSUMERS)

    def _status(self, service: str) -> dict:
        response = self.sessions[0].get(f"{self.stack.url}/{service}/status", timeout=30)
        expect(response, 200)
        return response.json()

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far of the order service's processes, the consumers' (invoicing
        and shipping, which import each order on the same cores), Apache, PostgreSQL and
        this process (the clients)."""
        processes = self.stack.processes
        times = os.times()
        return {
            "order": sum(cpu_seconds(process.process.pid) for name, process in processes.items()
                         if name.startswith("order")),
            "consumers": sum(cpu_seconds(processes[name].process.pid)
                             for consumer in CONSUMERS for name in self.stack.replicas(consumer)),
            "apache": cpu_seconds(processes["apache"].process.pid),
            "postgres": cpu_seconds(postmaster_pid(self.stack.postgres.data)),
            "clients": times.user + times.system,
        }


def expect(response: requests.Response, status: int) -> None:
    if response.status_code != status:
        raise RuntimeError(f"{response.request.method} {response.url} answered {response.status_code}, not {status}: "
                           f"{response.text[:300]}")


def print_table(results: list[dict], args) -> None:
    print()
    print(f"{args.clients} clients, {len(results[0]['rounds']) if results else 0} rounds of {args.seconds:g} s "
          f"each (medians):")
    print(f"{'replicas':>8} {'health/s':>9} {'orders/s':>9} {'ratio':>6}   "
          + "  ".join(f"{part + ' cpu ms':>16}" for part in PARTS) + f"  {'all cpu ms':>10} {'cores allow':>11}")
    for result in results:
        rounds = result["rounds"]
        rate = {kind: statistics.median(r[kind]["rate"] for r in rounds) for kind in KINDS}
        ratio = statistics.median(r["place"]["rate"] / r["health"]["rate"] for r in rounds)
        cpu = {part: {kind: statistics.median(r[kind]["cpu"][part] for r in rounds) for kind in KINDS}
               for part in PARTS}
        placing = sum(cpu[part]["place"] for part in PARTS)
        allow = f"{CORES * 1000 / placing:.0f}/s" if placing else "-"  # CPU counts in ticks: a short round may see none
        print(f"{result['replicas']:>8} {rate['health']:>9.0f} {rate['place']:>9.0f} {ratio:>6.2f}   "
              + "  ".join(f"{cpu[part]['health']:>7.2f} / {cpu[part]['place']:<6.2f}" for part in PARTS)
              + f"  {placing:>10.2f} {allow:>11}")
    print("(ratio: orders/s over health/s, the median of the rounds' ratios; cpu ms: CPU milliseconds per request "
          f"of health / of a placed order; cores allow: orders per second that all {CORES} cores would carry at "
          "that cost, with nothing else running)")
    print()
    print("Placing alone, the consumers paused (medians):")
    print(f"{'replicas':>8} {'orders/s':>9} {'order cpu ms':>13} {'postgres cpu ms':>16}")
    for result in results:
        rounds = result["rounds"]
        print(f"{result['replicas']:>8} {statistics.median(r['alone']['rate'] for r in rounds):>9.0f} "
              f"{statistics.median(r['alone']['cpu']['order'] for r in rounds):>13.2f} "
              f"{statistics.median(r['alone']['cpu']['postgres'] for r in rounds):>16.2f}")
    print("(cpu ms: CPU milliseconds per order placed)")


if __name__ == "__main__":
    main()
