"""Slow clients against the production stack: 64 connections at once, half of them
sending a body a byte at a time and half their headers, through Apache or straight to
a service's gunicorn. Meanwhile the service answers /health within a
second and takes orders, and the slow connections are closed within the bounds of
apache/httpd.conf and msatom/gunicorn_worker.py."""
from __future__ import annotations

import pytest

from msatom.gunicorn_worker import READ_SECONDS
from tests.support.orders import order_request
from tests.e2e.slow_clients import BODY, HEADERS, SlowClients, probe

pytestmark = pytest.mark.e2e

ATTACKERS = 64  # half of each kind
# Apache's RequestReadTimeout: 20 s at most for the headers, and as much for a body.
APACHE_CUTS_WITHIN = 20
TIMED_OUT = "HTTP/1.1 408 Request Timeout"


def assert_served(probes) -> None:
    assert probes.health, "the attack ended before the service was asked anything"
    failures = probes.failures(within=1.0)
    assert not failures, (f"{len(failures)} failures in {len(probes.health)} rounds while slow clients were "
                          f"connected: {failures[:10]}")


def test_slow_clients_through_apache_leave_the_service_answering_and_are_cut_off(stack):
    # A byte every 2-5 s, after 20 KB of a body announced as 100 KB, or in the headers;
    # both kinds at once.
    address = ("127.0.0.1", stack.ports["apache"])
    with SlowClients(address, ATTACKERS // 2, BODY, "/order/") as bodies, \
            SlowClients(address, ATTACKERS // 2, HEADERS, "/order/health") as headers:
        probes = probe(f"{stack.url}/order/health", f"{stack.url}/order/", order_request(),
                       until=lambda: not bodies.open() and not headers.open(), timeout=APACHE_CUTS_WITHIN + 8)
        still_open = {kind: len(attack.open()) for kind, attack in ((BODY, bodies), (HEADERS, headers))}
        statuses = {kind: set(attack.statuses()) for kind, attack in ((BODY, bodies), (HEADERS, headers))}

    assert_served(probes)
    assert still_open == {BODY: 0, HEADERS: 0}, f"slow clients still connected after {APACHE_CUTS_WITHIN + 8} s"
    # Apache's own answer: the service never saw them.
    assert statuses == {BODY: {TIMED_OUT}, HEADERS: {TIMED_OUT}}, statuses


def test_slow_clients_straight_to_gunicorn_hold_no_thread_and_are_cut_off(stack):
    # A byte every 0.5-1 s: within gunicorn's keep-alive of 2 s, so only the deadline
    # ends them; both kinds at once.
    address, interval = ("127.0.0.1", stack.ports["order"]), (0.5, 1.0)
    with SlowClients(address, ATTACKERS // 2, BODY, "/", interval=interval) as bodies, \
            SlowClients(address, ATTACKERS // 2, HEADERS, "/health", interval=interval) as headers:
        probes = probe(f"{stack.service_url('order')}/health", f"{stack.service_url('order')}/", order_request(),
                       until=lambda: not bodies.open() and not headers.open(), timeout=READ_SECONDS + 15)
        still_open = {kind: len(attack.open()) for kind, attack in ((BODY, bodies), (HEADERS, headers))}
        lasted = max((c.dropped - c.opened for c in bodies.dropped() + headers.dropped()), default=0)

    assert_served(probes)
    assert still_open == {BODY: 0, HEADERS: 0}, f"slow clients still connected after {READ_SECONDS + 15} s"
    assert lasted < READ_SECONDS + 5, lasted
