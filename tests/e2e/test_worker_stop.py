"""A consumer under gunicorn stops cleanly: its workers end their poll schedule
before the interpreter winds down, so a stop leaves no error in the log."""
from __future__ import annotations

import signal
import time

import pytest

from msatom.stack import free_port
from tests.e2e.running import PATIENCE, gunicorn, trouble_in, wait_for_health

pytestmark = pytest.mark.e2e
SECRET = "e2e-test-secret-0123456789abcdef"
ATTEMPTS = 5


def test_stopping_a_consumer_with_a_busy_schedule_logs_no_error(tmp_path):
    # A 2 ms schedule (a consumer that polls, not one waiting on the feed) keeps a poll
    # always about to start, the moment a worker exits with its schedule still running
    # (without the stop hook: 9 stops in 15 logged it).
    # Five consumers, started and stopped side by side.
    consumers = []
    try:
        for attempt in range(ATTEMPTS):
            folder = tmp_path / str(attempt)
            folder.mkdir()
            port = free_port()
            process = gunicorn("invoicing", port, folder, 2, DATABASE_URL=f"sqlite:///{folder / 'invoicing.db'}",
                               ORDER_FEED_URL=f"http://127.0.0.1:{free_port()}/feed",
                               POLL_INTERVAL_SECONDS="0.002", POLL_WAIT_SECONDS="0", SECRET_KEY=SECRET)
            consumers.append((process, f"http://127.0.0.1:{port}"))
        for process, url in consumers:
            wait_for_health(process, url, "the consumer")
        time.sleep(0.3)  # the schedules run a while: the stop must meet them running (the behaviour under test)
    finally:
        for process, _ in consumers:
            process.send(signal.SIGTERM)
        for process, _ in consumers:
            process.stop(timeout=PATIENCE)  # returns when gunicorn has exited, its workers' last lines written
    for process, _ in consumers:
        log = process.output()
        assert "Worker exiting" in log, log[-2000:]
        assert not [line for line in trouble_in(log) if "poll of" not in line], log[-3000:]
