"""Python scripts run as child processes side by side, a few at a time, driven from
the test's own thread while it waits for one of them. Past its deadline a script
gets Ctrl-C (SIGINT), as at a terminal, so that it stops what it started."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.running import ctrl_c_as_at_a_terminal, msatom_env

ROOT = Path(__file__).resolve().parents[2]
CLEAN_UP = 60.0  # seconds a script may take to stop what it started after Ctrl-C


@dataclass(frozen=True)
class Ran:
    """How a script ended: its exit code (None: stopped at its deadline) and what it printed."""

    command: tuple[str, ...]
    returncode: int | None
    output: str

    def summary(self, last_lines: int = 60) -> str:
        ended = f"exit code {self.returncode}" if self.returncode is not None else "stopped at its deadline"
        tail = "\n".join(self.output.splitlines()[-last_lines:])
        return f"{' '.join(self.command)}: {ended}; the end of its output:\n{tail}"


@dataclass
class _Running:
    command: tuple[str, ...]
    process: subprocess.Popen
    log: Path
    deadline: float


class Scripts:
    """Runs the scripts added to it, `at_once` at most at the same time, in the order
    added; each may take `patience` seconds. Its output goes to a file in `folder`."""

    def __init__(self, folder: Path, at_once: int, patience: float):
        self.folder, self.at_once, self.patience = folder, at_once, patience
        self._waiting: dict[str, tuple[str, ...]] = {}
        self._running: dict[str, _Running] = {}
        self._done: dict[str, Ran] = {}

    def add(self, name: str, script: Path, *args: str) -> None:
        self._waiting[name] = (sys.executable, str(script), *args)
        self._step()

    def result(self, name: str) -> Ran:
        """How the script `name` ended, once it has; the others go on meanwhile."""
        if name not in self._waiting and name not in self._running and name not in self._done:
            raise KeyError(f"no script named {name} was added")
        while name not in self._done:
            self._step()
            time.sleep(0.05)
        return self._done[name]

    def stop(self) -> None:
        """Interrupts every script still running, and starts no other."""
        self._waiting.clear()
        for name in list(self._running):
            self._finish(name, None)

    def _step(self) -> None:
        for name, running in list(self._running.items()):
            code = running.process.poll()
            if code is not None:
                self._finish(name, code)
            elif time.monotonic() > running.deadline:
                self._finish(name, None)
        while self._waiting and len(self._running) < self.at_once:
            name, command = next(iter(self._waiting.items()))
            del self._waiting[name]
            self._start(name, command)

    def _start(self, name: str, command: tuple[str, ...]) -> None:
        log = self.folder / f"{name}.log"
        with open(log, "wb") as output:
            # A session of its own: a Ctrl-C meant for the tests does not reach it. No proxy
            # and none of the project's settings from the shell: it talks to loopback.
            process = subprocess.Popen(command, cwd=ROOT, env=msatom_env(), stdin=subprocess.DEVNULL,
                                       stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
                                       preexec_fn=ctrl_c_as_at_a_terminal)
        self._running[name] = _Running(command, process, log, time.monotonic() + self.patience)

    def _finish(self, name: str, code: int | None) -> None:
        running = self._running.pop(name)
        if code is None:
            _interrupt(running.process)
        self._done[name] = Ran(running.command, code, running.log.read_text(errors="replace"))


def _interrupt(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(CLEAN_UP)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
