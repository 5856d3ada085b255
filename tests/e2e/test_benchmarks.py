"""Every benchmark under bench/ still runs: each, at a tiny size, starts what it needs,
measures and prints its whole table. The figures are not judged (a shared 2-core
machine measures nothing); that each row is there is. The benchmarks run a few at a
time, each on its own ports and in its own folders."""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from typing import Callable

import pytest

from msatom.stack import MissingProgram, apache_binary, postgres_bin
from tests.conftest import missing
from tests.e2e.scripts import ROOT, Scripts

pytestmark = pytest.mark.e2e

BENCH = ROOT / "bench"
# Two cores: three at once keep both busy while one waits for a server to stop.
AT_ONCE = 3
PATIENCE = 300.0  # seconds one benchmark may take on a loaded machine; a few suffice on an idle one


@dataclass(frozen=True)
class Benchmark:
    script: str
    args: tuple[str, ...]  # its tiny size
    needs: tuple[Callable[[], object], ...]  # each raises MissingProgram when its program is missing
    header: str  # the first words of its table's header row
    rows: tuple[str, ...]  # the first words of each row its table must have


# The longest first, so that the short ones fill the time they take.
BENCHMARKS = (
    Benchmark("latency_bench.py", ("--setups", "run,stack", "--variants", "long-poll", "--orders", "1",
                                   "--settle", "0", "--workers", "1"),
              (postgres_bin, apache_binary), "setup variant orders", ("run long-poll", "stack long-poll")),
    Benchmark("placement_bench.py", ("--replicas", "1", "--clients", "2", "--seconds", "0.2", "--rounds", "1",
                                     "--warm-up", "0", "--workers", "1"),
              (postgres_bin, apache_binary), "replicas health/s orders/s", ("1",)),
    Benchmark("idle_cost_bench.py", ("--variants", "waiting", "--seconds", "0.5", "--runs", "1", "--workers", "1",
                                     "--settle", "0"),
              (postgres_bin,), "consumers order service", ("2 waiting (long-poll)",)),
    Benchmark("slow_clients_bench.py", ("--clients", "2", "--seconds", "1", "--interval", "0.1,0.2", "--workers", "1"),
              (postgres_bin, apache_binary), "attack rounds",
              ("slow bodies through Apache", "slow headers through Apache", "slow bodies to gunicorn",
               "slow headers to gunicorn")),
    Benchmark("sign_in_flood_bench.py", ("--clients", "4", "--seconds", "0.5", "--runs", "1", "--workers", "1"),
              (postgres_bin, apache_binary), "run phase asked", ("1 at rest", "1 4 clients")),
    Benchmark("rebuild_bench.py", ("--orders", "20", "--runs", "1", "--workers", "1"),
              (postgres_bin,), "orders what orders/s", ("20 catch-up", "20 rebuild")),
    Benchmark("catch_up_bench.py", ("--sizes", "20", "--runs", "1", "--window", "5", "--workers", "1"),
              (postgres_bin,), "orders variant first import", ("20 links", "20 embedded", "20 walk-back")),
    Benchmark("feed_bench.py", ("--sizes", "20", "--requests", "3", "--warm-up", "0"),
              (postgres_bin,), "orders design", ("20 paged (RFC 5005)", "20 classic (every order)")),
)


def missing_program(benchmark: Benchmark) -> str | None:
    """Why `benchmark` cannot run on this machine, or None when it can."""
    for need in benchmark.needs:
        try:
            need()
        except MissingProgram as error:
            return str(error)
    return None


@pytest.fixture(scope="module")
def benchmarks(request, tmp_path_factory):
    """The benchmarks of the tests selected in this module, started side by side."""
    # Those of the tests pytest runs: `-k` may leave some out.
    chosen = [item.callspec.params["benchmark"] for item in request.session.items
              if item.module is request.module and hasattr(item, "callspec")]
    scripts = Scripts(tmp_path_factory.mktemp("benchmarks"), AT_ONCE, PATIENCE)
    for benchmark in chosen:
        if missing_program(benchmark) is None:
            scripts.add(benchmark.script, BENCH / benchmark.script, *benchmark.args)
    yield scripts
    scripts.stop()


def table(output: str, header: str) -> list[list[str]] | None:
    """The words of each line after the table's header row (the first line that begins
    with the words of `header`), None when there is no such row."""
    lines = [line.split() for line in output.splitlines()]
    wanted = header.split()
    for index, words in enumerate(lines):
        if words[:len(wanted)] == wanted:
            return lines[index + 1:]
    return None


def has_row(rows: list[list[str]], label: str) -> bool:
    """A row begins with the words of `label`, and figures follow them."""
    words = label.split()
    return any(row[:len(words)] == words and len(row) > len(words) for row in rows)


@pytest.mark.parametrize("benchmark", BENCHMARKS, ids=lambda benchmark: benchmark.script.removesuffix(".py"))
def test_a_benchmark_runs_at_a_tiny_size_and_prints_its_table(benchmark, benchmarks):
    reason = missing_program(benchmark)
    if reason:
        missing(reason)
    ran = benchmarks.result(benchmark.script)
    assert ran.returncode == 0, ran.summary()
    rows = table(ran.output, benchmark.header)
    assert rows is not None, f"no header row beginning {benchmark.header!r}\n{ran.summary()}"
    absent = [label for label in benchmark.rows if not has_row(rows, label)]
    assert not absent, f"rows missing from its table: {absent}\n{ran.summary()}"


def test_profile_shares_tells_what_the_sampled_thread_was_doing(tmp_path):
    # A profile as py-spy writes it (speedscope, a stack is frame indices from the
    # outermost in): the poll's thread waits twice on the database and parses once
    # inside Consumer.poll, once outside it; another thread parses.
    frames = [{"name": "<module>", "file": "/srv/bench/catch_up_bench.py", "line": 1},
              {"name": "Consumer.poll", "file": "/srv/common/feed/running.py", "line": 89},
              {"name": "DefaultDialect.do_execute", "file": "/venv/site-packages/sqlalchemy/engine/default.py",
               "line": 941},
              {"name": "parse", "file": "/venv/site-packages/feedparser/api.py", "line": 216},
              {"name": "Thread.run", "file": "/usr/lib/python3.11/threading.py", "line": 982}]
    main = [[0, 1, 2], [0, 1, 2], [0, 1, 3], [0, 3]]
    other = [[4, 3]]
    profile = tmp_path / "consumer-wall.json"
    profile.write_text(json.dumps({
        "$schema": "https://www.speedscope.app/file-format-schema.json", "shared": {"frames": frames},
        "profiles": [{"type": "sampled", "name": f"Process 7 Thread {name}", "unit": "none", "startValue": 0,
                      "endValue": len(samples), "samples": samples, "weights": [1] * len(samples)}
                     for name, samples in (('1 "MainThread"', main), ('2 "pages"', other))],
        "name": "py-spy profile", "exporter": "py-spy@0.4.2"}))

    done = subprocess.run([sys.executable, str(BENCH / "profile_shares.py"), str(profile), "--main-thread",
                           "--within", "Consumer.poll", "--functions", "0"],
                          capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    heading, *shares = done.stdout.splitlines()
    assert heading == "consumer-wall.json (main thread, within Consumer.poll, 3 samples):"
    assert [line.split(None, 1) for line in shares] == [["66.7%", "database round trip (driver)"],
                                                       ["33.3%", "parsing the feed (feedparser, defusedxml)"]]


def test_every_benchmark_is_run_here():
    assert {benchmark.script for benchmark in BENCHMARKS} == {path.name for path in BENCH.glob("*_bench.py")}
