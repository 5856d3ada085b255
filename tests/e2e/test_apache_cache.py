"""The shipped Apache keeps the feed's full archive pages (mod_cache) and compresses
what it passes on (mod_deflate): a consumer catching up is served from Apache's
store, nothing private or still changing is kept, and gzip reaches feed readers
and consumers alike without breaking conditional requests."""
from __future__ import annotations

import gzip
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from common.feed.parsing import parse_page
from msatom.stack import free_port
from tests.support.orders import order_request
from tests.support.waiting import until
from tests.e2e.running import anonymous, gunicorn, http, wait_for_health, wait_for_items

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(own_stack):
    """A stack of the module's own: its tests count on the pages of the feed that only they fill."""
    return own_stack

PAGE_SIZE = 20  # the services' default, which the stack keeps
FULL_PAGES = 10  # 200 orders: pages 1-10 full, the 11th still open
GZIP = {"Accept-Encoding": "gzip", "Accept": "application/atom+xml"}
# Apache's access log: the request line, then after the request id what its cache did.
ARCHIVE_LINE = re.compile(r'"GET /order/feed/archive/\d+ HTTP/1\.1" 200 .* cache="([^"]*)" encoding=(\S*)')
ARCHIVE_PAGE = re.compile(r'"GET /order/feed/archive/(\d+) HTTP/1\.1" 200 ')


@pytest.fixture(scope="module")
def filled(stack) -> list[int]:
    """The stack with FULL_PAGES archive pages of orders; their ids."""
    session = http()

    def place(_) -> int:
        response = session.post(f"{stack.url}/order/", json=order_request(), timeout=30)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(place, range(FULL_PAGES * PAGE_SIZE)))


def new_consumer(stack, service: str):
    """A consumer with a database of its own reading the thin pages (the kind a shared
    cache keeps) through Apache, as a new replica or a rebuild does: (URL, process)."""
    port = free_port()
    process = gunicorn(service, port, stack.folder, 1, DATABASE_URL=stack.postgres.create_database(f"{service}_{port}"),
                       ORDER_FEED_URL=f"{stack.url}/order/feed", EMBEDDED_DOCUMENTS="0", POLL_INTERVAL_SECONDS="0.2")
    url = f"http://127.0.0.1:{port}"
    wait_for_health(process, url, service)
    return url, process


def archive_answers(stack, since: int) -> list[tuple[str, str]]:
    """(cache status, content coding) of each full archive page Apache served after
    `since` characters of its log."""
    return ARCHIVE_LINE.findall(stack.processes["apache"].output()[since:])


def logged_pages(stack, since: int) -> set[int]:
    """The numbers of the archive pages Apache has logged answering after `since` characters of its log."""
    return {int(number) for number in ARCHIVE_PAGE.findall(stack.processes["apache"].output()[since:])}


def test_a_new_consumer_catching_up_is_served_the_archive_from_apaches_cache(stack, filled):
    warming, warming_process = new_consumer(stack, "invoicing")
    try:
        wait_for_items(http(), f"{warming}/", set(filled))
    finally:
        warming_process.stop()
    since = len(stack.processes["apache"].output())
    order_log_since = len(stack.processes["order"].output())

    catching_up, process = new_consumer(stack, "shipping")
    try:
        shipments = wait_for_items(http(), f"{catching_up}/", set(filled))
    finally:
        process.stop()

    assert {shipment["id"] for shipment in shipments} >= set(filled)
    # Apache logs an answer once it has sent it: the consumer may hold the last page first.
    until(lambda: logged_pages(stack, since) >= set(range(1, FULL_PAGES + 1)), "Apache logging every archive page")
    answers = archive_answers(stack, since)
    hits = [status for status, _ in answers if status == "cache hit"]
    assert len(answers) >= FULL_PAGES - 1
    assert len(hits) >= 0.9 * len(answers), f"{len(hits)} of {len(answers)} archive pages came from the cache"
    reached = re.findall(r'"GET /feed/archive/\d+ HTTP', stack.processes["order"].output()[order_log_since:])
    assert len(reached) <= 0.1 * len(answers), f"{len(reached)} archive pages reached the order service"
    assert {coding for _, coding in answers} == {"gzip"}, "the consumer reads the feed compressed"
    print(f"archive pages: {len(answers)}, from the cache: {len(hits)}")


def test_pages_with_documents_and_the_subscription_document_are_never_kept(stack, filled):
    consumer = http()  # sends a credential, as a consumer does for the pages with documents
    for path in ("/order/feed/archive/1?embed=documents", "/order/feed", "/order/feed?embed=documents"):
        answers = [consumer.get(f"{stack.url}{path}", timeout=30) for _ in range(2)]
        assert [answer.status_code for answer in answers] == [200, 200]
        assert all(not answer.headers.get("X-Cache", "").startswith("HIT") for answer in answers), path

    thin = [anonymous().get(f"{stack.url}/order/feed/archive/2", timeout=30) for _ in range(2)]
    assert thin[-1].headers["X-Cache"].startswith("HIT")
    assert thin[-1].headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert thin[0].headers["X-Request-Id"] != thin[1].headers["X-Request-Id"], "each answer its own request id"


def test_a_feed_reader_asking_for_gzip_gets_the_feed_compressed_and_304_when_it_has_it(stack, filled):
    reader = anonymous()
    for path in ("/order/feed", "/order/feed/archive/3"):
        compressed = reader.get(f"{stack.url}{path}", headers=GZIP, stream=True, timeout=30)
        body = compressed.raw.read(decode_content=False)
        plain = reader.get(f"{stack.url}{path}", headers={**GZIP, "Accept-Encoding": "identity"}, timeout=30)

        assert compressed.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in compressed.headers["Vary"]
        assert "Content-Encoding" not in plain.headers
        assert len(body) < len(plain.content) / 3
        assert gzip.decompress(body) == plain.content
        assert len(parse_page(gzip.decompress(body), f"{stack.url}{path}").entries) == PAGE_SIZE
        again = reader.get(f"{stack.url}{path}", headers={**GZIP, "If-None-Match": compressed.headers["ETag"]},
                           timeout=30)
        assert again.status_code == 304, f"{path}: {again.status_code}"


def test_json_and_html_go_compressed_too(stack, filled):
    session = http()
    for accept in ("application/json", "text/html"):
        answer = session.get(f"{stack.url}/order/", headers={"Accept": accept, "Accept-Encoding": "gzip"},
                             timeout=30)
        assert answer.status_code == 200
        assert answer.headers["Content-Encoding"] == "gzip", accept
