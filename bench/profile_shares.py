"""Where the time went in a py-spy profile (speedscope format): the share of samples
by what the sampled code was doing, taken from the innermost frame that tells.

    .venv/bin/python bench/profile_shares.py PROFILE.json [--main-thread] [--functions 15]

A sample counts once, for the first of its frames, from the innermost out, that
belongs to a known part: the feed parser, the HTTP client, the ORM, a round trip to
the database, the page rendering, the web framework, the server, the project's code.
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Callable

# (what, test on (file, function)); the first match from the innermost frame out wins.
DB_CALLS = {"do_execute", "do_executemany", "do_execute_no_params", "do_commit", "do_rollback", "do_begin",
            "do_ping", "connect", "_exec_single_context", "_exec_insertmany_context"}
PARTS: list[tuple[str, Callable[[str, str], bool]]] = [
    ("waiting: held request, idle thread", lambda f, fn: fn in ("wait", "_next", "select", "poll", "accept", "sleep")
     and ("threading.py" in f or "waiting.py" in f or "selectors.py" in f or "gunicorn" in f or "queue.py" in f)),
    ("database round trip (driver)", lambda f, fn: "psycopg2" in f
     or ("sqlalchemy/engine/default.py" in f and fn in DB_CALLS) or ("sqlalchemy/pool" in f and fn in DB_CALLS)),
    ("parsing the feed (feedparser, defusedxml)", lambda f, fn: any(p in f for p in (
        "feedparser", "defusedxml", "xml/etree", "xml/sax", "xml/dom", "sgmllib", "expatreader"))),
    ("HTTP client (requests, urllib3)", lambda f, fn: any(p in f for p in (
        "/requests/", "/urllib3/", "http/client.py", "/socket.py", "/ssl.py", "http/cookiejar", "email/"))),
    ("waiting for document fetches", lambda f, fn: "concurrent/futures" in f),
    ("rendering the page (feedgen, lxml)", lambda f, fn: any(p in f for p in ("feedgen", "lxml"))
     or "publishing.py" in f),
    ("ORM and SQL compilation (SQLAlchemy)", lambda f, fn: "sqlalchemy" in f),
    ("JSON", lambda f, fn: "/json/" in f),
    ("templates (Jinja)", lambda f, fn: "jinja2" in f),
    ("web framework (Flask, Werkzeug)", lambda f, fn: "/flask/" in f or "/werkzeug/" in f),
    ("metrics (prometheus_client)", lambda f, fn: "prometheus_client" in f),
    ("server (gunicorn)", lambda f, fn: "gunicorn" in f),
    ("logging", lambda f, fn: "logging/" in f),
    ("project code", lambda f, fn: any(f"/{p}/" in f for p in ("common", "order", "invoicing", "shipping",
                                                               "msatom", "bench"))),
]


def classify(stack: list[tuple[str, str]]) -> str:
    """`stack`: (file, function) from the innermost frame out."""
    for file, qualified in stack:
        function = qualified.rsplit(".", 1)[-1]  # py-spy names methods Class.method
        for name, test in PARTS:
            if test(file, function):
                return name
    return "other"


def load(path: Path, main_thread_only: bool = False, within: str | None = None
         ) -> tuple[list[list[tuple[str, str]]], list[float], list[str]]:
    data = json.loads(path.read_text())
    frames = [(frame.get("file") or "", frame.get("name") or "") for frame in data["shared"]["frames"]]
    stacks, weights, names = [], [], []
    for profile in data["profiles"]:
        names.append(profile.get("name", ""))
        if main_thread_only and "MainThread" not in profile.get("name", ""):
            continue
        for sample, weight in zip(profile["samples"], profile["weights"], strict=True):
            stack = [frames[index] for index in reversed(sample)]  # innermost first
            if within and not any(function.endswith(within) for _, function in stack):
                continue
            stacks.append(stack)
            weights.append(weight)
    return stacks, weights, names


def report(path: Path, main_thread_only: bool = False, functions: int = 0, within: str | None = None) -> str:
    """The shares of `path`'s samples; of its main thread's alone, of those within a
    function named `within` alone; with the `functions` innermost functions that took most."""
    stacks, weights, _ = load(path, main_thread_only, within)
    total = sum(weights)
    if not total:
        return f"{path.name}: no samples"
    parts: defaultdict[str, float] = defaultdict(float)
    leaves: defaultdict[str, float] = defaultdict(float)
    for stack, weight in zip(stacks, weights, strict=True):
        parts[classify(stack)] += weight
        if stack:
            file, function = stack[0]
            leaves[f"{function} ({shorten(file)})"] += weight
    scope = ("main thread" if main_thread_only else "all threads") + (f", within {within}" if within else "")
    lines = [f"{path.name} ({scope}, {len(stacks)} samples):"]
    lines += [f"  {share / total:6.1%}  {name}" for name, share in _largest_first(parts)]
    if functions:
        lines.append("  innermost functions:")
        lines += [f"  {share / total:6.1%}  {name}" for name, share in _largest_first(leaves)[:functions]]
    return "\n".join(lines)


def _largest_first(shares: dict[str, float]) -> list[tuple[str, float]]:
    return sorted(shares.items(), key=lambda item: item[1], reverse=True)


def shorten(file: str) -> str:
    for marker in ("site-packages/", "python3.11/", "/work/main/"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("profile", type=Path, nargs="+")
    parser.add_argument("--main-thread", action="store_true", help="only the threads named MainThread")
    parser.add_argument("--within", help="only samples inside a function of this name (e.g. Consumer.poll)")
    parser.add_argument("--functions", type=int, default=15, help="also the N innermost functions that took most")
    args = parser.parse_args()
    for path in args.profile:
        print(report(path, args.main_thread, args.functions, args.within))


if __name__ == "__main__":
    main()
