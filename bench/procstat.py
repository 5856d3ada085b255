"""CPU seconds of processes and their descendants, from /proc (Linux)."""
from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()  # the fields after the command name, from field 3 on


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields and int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def tree(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        queue += children(current)
    return pids


def cpu_seconds(pid: int, descendants: bool = True) -> float:
    """User and system CPU seconds of `pid`, and with `descendants` of every process below
    it, living or ended (an ended one counts in its parent's cutime/cstime once reaped)."""
    total = 0
    for current in tree(pid) if descendants else [pid]:
        fields = _stat(current)
        if fields:
            utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
            total += utime + stime + ((cutime + cstime) if descendants else 0)
    return total / TICKS


def postmaster_pid(data: Path) -> int:
    """The PID of the PostgreSQL server of the cluster in `data`."""
    return int((data / "postmaster.pid").read_text().split()[0])
