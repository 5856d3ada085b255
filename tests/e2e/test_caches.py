"""A standard cache between the consumers and the order service loses and corrupts
nothing: Varnish (default configuration) and Apache with mod_cache, each in turn.

Orders are placed and some cancelled while invoicing and shipping follow the feed
through the cache (waiting on it, their default, and polling every 0.2 s where the
wait is not held). At the end each consumer holds every order's last version exactly
once, and the full archive pages that one consumer brought into the cache reached
the order service once: the other consumer was served them from the cache's store.
"""
from __future__ import annotations

import re
from contextlib import suppress

import pytest

from msatom.stack import MissingProgram, free_port, wait_until
from tests.conftest import missing
from tests.support.orders import order_request
from tests.e2e.caches import CachingApache, Varnish
from tests.e2e.running import PATIENCE, every_item, gunicorn, http, trouble_in, wait_for_health

pytestmark = pytest.mark.e2e

PAGE_SIZE = 5
JSON = {"Accept": "application/json"}


@pytest.fixture(params=[Varnish, CachingApache], ids=lambda cache: cache.name)
def cached_order_service(request, postgres, tmp_path):
    """The order service under gunicorn and the cache in front of it: (order URL, cache)."""
    port = free_port()
    order = gunicorn("order", port, tmp_path, workers=2, FEED_PAGE_SIZE=str(PAGE_SIZE),
                           DATABASE_URL=postgres.create_database(f"order_{request.param.name.replace('-', '_')}"))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(order, url, "order")
        try:
            cache = request.param(url, tmp_path)
        except MissingProgram as error:
            missing(str(error))
        cache.start()
    except BaseException:
        order.stop()
        raise
    yield url, order, cache
    cache.stop()
    order.stop()


def start_consumer(service: str, postgres, tmp_path, feed_url: str):
    port = free_port()
    # By links: pages with the documents inline name people, so no shared cache keeps
    # them; the thin pages and the links are what a cache in between carries.
    process = gunicorn(service, port, tmp_path, workers=1, ORDER_FEED_URL=feed_url,
                             POLL_INTERVAL_SECONDS="0.2", EMBEDDED_DOCUMENTS="0",
                             DATABASE_URL=postgres.create_database(f"{service}_{free_port()}"))
    url = f"http://127.0.0.1:{port}"
    wait_for_health(process, url, service)
    return url, process


def copies(url: str) -> list[dict]:
    return every_item(http(), f"{url}/")


def holds(url: str, expected: dict[int, tuple[str, int]]) -> bool:
    return {copy["id"]: (copy["status"], copy["orderVersion"]) for copy in copies(url)} == expected


def test_consumers_behind_a_cache_import_every_change_once(cached_order_service, postgres, tmp_path):
    order_url, order, cache = cached_order_service
    client = http()

    def place() -> int:
        answer = client.post(f"{order_url}/", json=order_request(), timeout=10)
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    def cancel(order_id: int) -> None:
        assert client.post(f"{order_url}/{order_id}/cancel", headers=JSON, timeout=10).status_code == 200

    def final_versions() -> dict[int, tuple[str, int]]:
        return {o["id"]: (o["status"], o["version"]) for o in every_item(client, f"{order_url}/")}

    early = [place() for _ in range(30)]
    for order_id in early[2::9]:
        cancel(order_id)
    full_pages = (len(early) + len(early[2::9])) // PAGE_SIZE  # an entry for each order and each cancelling
    consumers = {}
    for service in ("invoicing", "shipping"):  # one after the other: the second reads what the first cached
        consumers[service] = start_consumer(service, postgres, tmp_path, f"{cache.url}/feed")
        expected = final_versions()
        wait_until(lambda: holds(consumers[service][0], expected), 2 * PATIENCE,
                   f"{service} catching up through {cache.name}")

    later = [place() for _ in range(20)]
    for order_id in [early[5], later[3], early[21], later[15]]:
        cancel(order_id)
    expected = final_versions()
    for service, (url, _) in consumers.items():
        wait_until(lambda: holds(url, expected), 2 * PATIENCE, f"{service} holding every order's last version")

    held = {service: copies(url) for service, (url, _) in consumers.items()}
    # A hit is counted after the answer went out (Apache logs it when the request is
    # done, a Varnish worker adds its counts to the shared ones in batches): wait for
    # the count, which only grows, before taking it.
    with suppress(TimeoutError):
        wait_until(lambda: cache.hits(r"/feed/archive/\d+") >= full_pages, PATIENCE, "the cache counting its hits")
    archive_hits = cache.hits(r"/feed/archive/\d+")
    for _, process in consumers.values():
        process.stop()
    order.stop()  # its access log is complete once it has exited

    for service, documents in held.items():
        ids = [document["id"] for document in documents]
        assert len(ids) == len(set(ids)) == len(expected), f"{service} holds {len(ids)} copies of {len(expected)}"
    asked = re.findall(r'"GET /feed/archive/(\d+) HTTP/1.1" 200', order.output())
    for page in range(1, full_pages + 1):
        assert asked.count(str(page)) == 1, f"archive page {page} reached the order service {asked.count(str(page))} times"
    assert archive_hits >= full_pages
    for name, process in {"order": order, **{s: p for s, (_, p) in consumers.items()}}.items():
        assert not trouble_in(process.output()), f"{name}'s log:\n" + "\n".join(trouble_in(process.output())[:20])
