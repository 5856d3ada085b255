"""free_port hands a port to one caller at a time, across processes: tests, benchmarks
and stacks start servers side by side, and two of them given one port would have one
server answer for the other."""
from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor

from msatom import stack


def ports(count: int) -> list[int]:
    return [stack.free_port() for _ in range(count)]


def test_processes_asking_at_once_are_never_handed_the_same_port():
    with ProcessPoolExecutor(4) as pool:
        handed = [port for batch in pool.map(ports, [300] * 4) for port in batch]

    assert len(handed) == len(set(handed)) == 1200


def test_a_claim_older_than_its_time_is_given_up(tmp_path, monkeypatch):
    monkeypatch.setattr(stack, "PORT_CLAIMS", tmp_path)
    claim = tmp_path / "4711"
    claim.touch()
    assert not stack._claim(claim)  # taken

    old = time.time() - stack.PORT_CLAIM_SECONDS - 1
    os.utime(claim, (old, old))
    assert not stack._claim(claim) and not claim.exists()  # given up: the next pick may take it
    assert stack._claim(claim)
