"""Waiting for a state of the system, never for a time."""
from __future__ import annotations

import time

# How long a test waits for something the system does by itself (a poll importing an
# order, a process starting or stopping). CI runs the whole suite on a loaded 2-core
# machine; a wait that succeeds returns at once, so a long deadline costs nothing.
PATIENCE = 60.0


def until(condition, what: str, timeout: float = PATIENCE, process=None, every: float = 0.02) -> None:
    """Until `condition()` holds; fails after `timeout` seconds, or at once when
    `process` (a msatom.stack.Process the state depends on) has exited, with the end
    of its log."""
    deadline = time.monotonic() + timeout
    while not condition():
        log = f"; its log:\n{process.output()[-3000:]}" if process is not None else ""
        assert process is None or process.running(), f"{what}: the process exited{log}"
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s{log}"
        time.sleep(every)
