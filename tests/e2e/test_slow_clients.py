"""Slow clients against the production stack: 64 connections that send a request a
byte at a time, through Apache or straight to a service's gunicorn. Meanwhile the
service answers /health within a second and takes orders, and the slow connections
are closed within the bounds of apache/httpd.conf and msatom/gunicorn_worker.py."""
from __future__ import annotations

import pytest

from msatom.gunicorn_worker import READ_SECONDS
from tests.support.orders import order_request
from tests.e2e.slow_clients import BODY, HEADERS, SlowClients, probe

pytestmark = pytest.mark.e2e

ATTACKERS = 64
# Apache's RequestReadTimeout: 20 s at most for the headers, and as much for a body.
APACHE_CUTS_WITHIN = 20
TIMED_OUT = "HTTP/1.1 408 Request Timeout"


def assert_served(probes) -> None:
    assert probes.health, "the attack ended before the service was asked anything"
    failures = probes.failures(within=1.0)
    assert not failures, (f"{len(failures)} failures in {len(probes.health)} rounds while slow clients were "
                          f"connected: {failures[:10]}")


@pytest.mark.parametrize(("kind", "path"), [(BODY, "/order/"), (HEADERS, "/order/health")])
def test_slow_clients_through_apache_leave_the_service_answering_and_are_cut_off(stack, kind, path):
    # A byte every 2-5 s, after 20 KB of a body announced as 100 KB, or in the headers.
    with SlowClients(("127.0.0.1", stack.ports["apache"]), ATTACKERS, kind, path) as attack:
        probes = probe(f"{stack.url}/order/health", f"{stack.url}/order/", order_request(),
                       until=lambda: not attack.open(), timeout=APACHE_CUTS_WITHIN + 8)
        still_open, statuses = len(attack.open()), set(attack.statuses())

    assert_served(probes)
    assert still_open == 0, f"{still_open} slow clients still connected after {APACHE_CUTS_WITHIN + 8} s"
    assert statuses == {TIMED_OUT}, statuses  # Apache's own answer: the service never saw them


@pytest.mark.parametrize(("kind", "path"), [(BODY, "/"), (HEADERS, "/health")])
def test_slow_clients_straight_to_gunicorn_hold_no_thread_and_are_cut_off(stack, kind, path):
    # A byte every 0.5-1 s: within gunicorn's keep-alive of 2 s, so only the deadline ends them.
    with SlowClients(("127.0.0.1", stack.ports["order"]), ATTACKERS, kind, path, interval=(0.5, 1.0)) as attack:
        probes = probe(f"{stack.service_url('order')}/health", f"{stack.service_url('order')}/", order_request(),
                       until=lambda: not attack.open(), timeout=READ_SECONDS + 15)
        still_open = len(attack.open())
        lasted = max((c.dropped - c.opened for c in attack.dropped()), default=0)

    assert_served(probes)
    assert still_open == 0, f"{still_open} slow clients still connected after {READ_SECONDS + 15} s"
    assert lasted < READ_SECONDS + 5, lasted
