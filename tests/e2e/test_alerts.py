"""The project's alerts on the production stack: Debian's Prometheus scrapes `msatom
stack` with the configuration the stack writes and the shipped rules
(monitoring/rules.yml). Invoicing restarted without following the feed is reported
behind within the rule's stated time, and no longer once it follows again."""
from __future__ import annotations

import subprocess

import pytest
import requests

from msatom.stack import Stack, free_port
from tests.conftest import require_program
from tests.e2e.running import anonymous
from tests.support.waiting import until

pytestmark = pytest.mark.e2e

# The rule's figures (monitoring/rules.yml): no poll ended for 90 s, held for 30 s;
# and the stack's scrape and evaluation every 5 s (msatom/monitoring.py).
STATED_SECONDS = 90 + 30 + 5 + 5


@pytest.fixture
def prometheus(own_stack: Stack, tmp_path):
    """Prometheus on a loopback port with the stack's configuration: its URL."""
    port = free_port()
    process = subprocess.Popen(
        [require_program("prometheus"), f"--config.file={own_stack.prometheus_file}",
         f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=open(tmp_path / "prometheus.log", "wb"))
    url = f"http://127.0.0.1:{port}"
    try:
        until(lambda: answers(f"{url}/-/ready"), "Prometheus ready", every=0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def answers(url: str) -> bool:
    try:
        return anonymous().get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


def behind(prometheus: str, state: str) -> bool:
    """Whether the alert that invoicing is behind is in `state` (pending, firing)."""
    alerts = anonymous().get(f"{prometheus}/api/v1/alerts", timeout=10).json()["data"]["alerts"]
    return any(alert["labels"] == {"alertname": "MsatomConsumerBehind", "job": "invoicing", "severity": "page"}
               and alert["state"] == state for alert in alerts)


def scraped(prometheus: str, job: str) -> bool:
    """Whether Prometheus has scraped `job` and found it up."""
    found = anonymous().get(f"{prometheus}/api/v1/query", params={"query": f'up{{job="{job}"}} == 1'},
                            timeout=10).json()["data"]["result"]
    return bool(found)


def test_a_consumer_that_stops_following_is_reported_behind_and_no_longer_once_it_follows(own_stack, prometheus):
    until(lambda: all(scraped(prometheus, job) for job in ("account", "order", "invoicing", "shipping")),
          "every service scraped", every=0.5)
    assert not behind(prometheus, "firing")

    own_stack.processes["invoicing"].stop()
    own_stack.start_service("invoicing", POLL_INTERVAL_SECONDS="0")  # it serves, and follows no more
    own_stack.wait_until_healthy("invoicing")
    until(lambda: behind(prometheus, "firing"), "invoicing reported behind", timeout=STATED_SECONDS + 20,
          every=1)

    own_stack.processes["invoicing"].stop()
    own_stack.start_service("invoicing")
    own_stack.wait_until_healthy("invoicing")
    until(lambda: not behind(prometheus, "firing") and not behind(prometheus, "pending"),
          "invoicing no longer reported behind", every=1)
