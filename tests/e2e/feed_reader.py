"""A reader that watches the order feed keep its promise while it grows: positions
1..n without a hole, each always showing the same entry (append-only)."""
from __future__ import annotations

import threading
import time

import requests
from requests.adapters import HTTPAdapter

from common.feed.client import RETRY_ONCE
from common.feed.parsing import parse_page
from tests.e2e.running import PATIENCE, http


class FeedReader:
    """Reads `/feed` of each order process in turn, over and over, as a follower
    would: when the page does not go back to the next position it needs, it
    walks prev-archive links. It records every break of the feed's promise: the
    positions seen so far are always 1..n without a hole, and a position always
    shows the same entry."""

    # What a proxy answers when the replica behind it died with the request.
    UNANSWERED = (502, 503)

    def __init__(self, feed_urls: list[str], through_replicas: bool = False):
        """With `through_replicas` (the URLs lead to a balancer), a read that gets no
        answer, or a proxy's UNANSWERED, is counted in `unanswered` and made again
        later: a replica died, which breaks no promise of the feed."""
        self.feed_urls = feed_urls
        self.through_replicas = through_replicas
        self.unanswered = 0
        self.session = http()
        # As the services' feed client does: a kept-alive connection the server closed
        # as a request went out (a busy machine stretches the pause past its keep-alive) is tried once more.
        self.session.mount("http://", HTTPAdapter(max_retries=RETRY_ONCE))
        self.entries: dict[int, tuple[str, str]] = {}  # position -> (entry id, content src)
        self.known = 0  # positions 1..known have all been seen
        self.reads = 0
        self.problems: list[str] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=PATIENCE)
        assert not self.thread.is_alive(), "the feed reader is still reading"

    def _run(self) -> None:
        while not self.stopping.is_set():
            for url in self.feed_urls:
                self.read(url)
            time.sleep(0.02)

    def read(self, feed_url: str) -> None:
        try:
            self._read(feed_url)
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as error:
            if not self.through_replicas:
                self._problem(f"reading {feed_url} failed: {error!r}")
            self.unanswered += 1
        except Exception as error:  # noqa: BLE001 - reported by the test
            self._problem(f"reading {feed_url} failed: {error!r}")

    def _read(self, feed_url: str) -> None:
        url, pages = feed_url, []
        while url:
            response = self.session.get(url, headers={"Accept": "application/atom+xml"}, timeout=30)
            if self.through_replicas and response.status_code in self.UNANSWERED:
                self.unanswered += 1
                return None
            if response.status_code != 200:
                return self._problem(f"{url} answered {response.status_code}")
            page = parse_page(response.content, url)
            pages.append((url, page))
            url = None if page.reaches_back_to(self.known + 1) else page.prev_archive
        self.reads += 1
        for url, page in pages:
            for entry in page.entries:
                # The links differ between the two processes (their own host); the id may not.
                first_seen = self.entries.setdefault(entry.position, (entry.id, entry.content_src))
                if first_seen[0] != entry.id:
                    self._problem(f"{url}: position {entry.position} showed {first_seen[0]}, now {entry.id}")
        while self.known + 1 in self.entries:
            self.known += 1
        newest = max(self.entries, default=0)
        if newest != self.known:
            missing = sorted(set(range(1, newest + 1)) - set(self.entries))
            self._problem(f"after reading {feed_url} (pages {[u for u, _ in pages]}) positions up to "
                          f"{newest} were seen but {missing[:10]} ({len(missing)} in all) never")

    def _problem(self, text: str) -> None:
        if len(self.problems) < 20:
            self.problems.append(text)


def order_id_of(content_src: str) -> int:
    """The order of an entry's document: /<order id>/versions/<version>."""
    return int(content_src.rstrip("/").rsplit("/", 3)[1])
