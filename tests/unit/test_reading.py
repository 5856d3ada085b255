"""Reading a feed from a position on, against a fake feed: no HTTP, no database."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timezone

import pytest

from common.feed import AFTER_REL, EMBEDDED_REL
from common.feed.client import CredentialRefused, FeedClient, FeedError, FeedResponse, UnusableDocument
from common.feed.parsing import ParsedEntry
from common.feed.publishing import Entry, Feed, render_atom
from common.feed.reading import FeedReader, Stopped

BASE = "http://feed.test"
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)


class FakeFeed(FeedClient):
    """An archived feed of `length` entries in pages of `size`, as the order service
    lays it out, served to the reader without HTTP. It notes every page asked for."""

    def __init__(self, length: int, size: int = 5, jump: bool = True, embedded: bool = False):
        self.length, self.size, self.jump, self.offers_embedded = length, size, jump, embedded
        self.feed_url = f"{BASE}/feed"
        self.asked: list[str] = []
        self.documents_asked: list[int] = []
        self.broken_documents: set[int] = set()
        self.unusable_documents: set[int] = set()
        self.page_entries: dict[int, list[int]] = {}  # page -> positions, to lay out wrong feeds

    # FeedClient's interface
    def check_origin(self, url: str) -> None:
        assert url.startswith(BASE), url

    def get_feed(self, etag, last_modified, url=None, wait=0) -> FeedResponse:
        url = url or self.feed_url
        self.asked.append(url)
        return FeedResponse(200, self._render(self._pages(), url, embedded=url.endswith("?embed=documents")), '"x"')

    def get_page(self, url: str, redirected: bool = False) -> tuple[str, bytes]:
        self.asked.append(url)
        embedded = url.endswith("?embed=documents")
        path = url.removeprefix(BASE).removesuffix("?embed=documents")
        if path.startswith("/feed/after/"):
            assert redirected, "the jump is asked for as a redirect"
            number = (int(path.rsplit("/", 1)[1])) // self.size + 1
            url = f"{BASE}/feed/archive/{number}" + ("?embed=documents" if embedded else "")
            path = f"/feed/archive/{number}"
        return url, self._render(int(path.rsplit("/", 1)[1]), url, embedded)

    def get_document(self, entry: ParsedEntry):
        self.documents_asked.append(entry.position)
        if entry.position in self.broken_documents:
            raise FeedError(f"{entry.content_src} answered HTTP 500.")
        if entry.position in self.unusable_documents:
            raise UnusableDocument(f"{entry.content_src} answered HTTP 404: the document is gone.")
        return {"id": entry.position, "version": 1}

    # the layout
    def _pages(self) -> int:
        return max(1, (self.length - 1) // self.size + 1)

    def _render(self, number: int, url: str, embedded: bool) -> bytes:
        suffix = "?embed=documents" if embedded else ""
        positions = self.page_entries.get(number) or list(
            range((number - 1) * self.size + 1, min(number * self.size, self.length) + 1))
        links = [("current", f"{BASE}/feed{suffix}")]
        if number > 1:
            links.append(("prev-archive", f"{BASE}/feed/archive/{number - 1}{suffix}"))
        if number * self.size <= self.length and "/archive/" in url:  # a full archive page
            links.append(("next-archive", f"{BASE}/feed/archive/{number + 1}{suffix}"))
        if self.jump:
            links.append((AFTER_REL, f"{BASE}/feed/after/{{position}}{suffix}"))
        if self.offers_embedded and not embedded:
            links.append((EMBEDDED_REL, f"{url}?embed=documents"))
        entries = [Entry(id=f"urn:entry:{p}", title=f"Entry {p}", updated=NOW, summary="", position=p, version=1,
                         content_src=f"{BASE}/documents/{p}", content_type="application/json",
                         alternate_href=f"{BASE}/documents/{p}",
                         inline=json.dumps({"id": p, "version": 1}) if embedded else None)
                   for p in reversed(positions)]
        return render_atom(Feed(id="urn:feed", title="Feed", author="Test", self_url=url, updated=NOW,
                                entries=entries, links=links))


def read_after(feed: FakeFeed, position: int, batch: int = 50, embedded: bool = False) -> list[list[int]]:
    reader = FeedReader(feed, embedded=embedded)
    subscription = reader.parse(reader.subscription(None, None).body)
    return [[change.entry.position for change in changes]
            for changes in reader.changes_after(position, subscription, batch)]


@pytest.mark.parametrize("length, position", [(12, 0), (100, 3), (1000, 0), (1000, 517), (100_000, 99_000)])
def test_the_page_after_a_position_is_reached_in_two_requests_whatever_the_history(length, position):
    feed = FakeFeed(length, size=20)
    reader = FeedReader(feed, embedded=False)
    subscription = reader.parse(reader.subscription(None, None).body)

    first = next(reader.changes_after(position, subscription, 50))

    assert first[0].entry.position == position + 1
    # The subscription document, then the page the jump leads to; the page after that
    # may be on its way already (read ahead while the first batch is applied).
    assert feed.asked[:2] in ([f"{BASE}/feed"], [f"{BASE}/feed", f"{BASE}/feed/after/{position}"])
    assert feed.asked[2:] in ([], [f"{BASE}/feed/archive/{position // 20 + 2}"])


def test_the_next_page_is_read_while_a_batch_is_applied_and_no_further():
    feed = FakeFeed(100, size=20)
    reader = FeedReader(feed, embedded=False)
    subscription = reader.parse(reader.subscription(None, None).body)
    changes = reader.changes_after(0, subscription, 50)
    read_ahead = threading.Event()
    get_page = feed.get_page

    def noted(url, redirected=False):
        answer = get_page(url, redirected)
        if url.endswith("/archive/2"):
            read_ahead.set()
        return answer

    feed.get_page = noted
    first = next(changes)  # page 1, while it is applied

    assert [change.entry.position for change in first] == list(range(1, 21))
    assert read_ahead.wait(5)
    assert feed.asked == [f"{BASE}/feed", f"{BASE}/feed/after/0", f"{BASE}/feed/archive/2"]
    assert [change.entry.position for batch in changes for change in batch] == list(range(21, 101))


def test_it_walks_forward_page_by_page_in_batches_without_gaps():
    batches = read_after(FakeFeed(23, size=5), 2, batch=2)

    assert [p for batch in batches for p in batch] == list(range(3, 24))
    assert max(len(batch) for batch in batches) == 2


def test_a_consumer_on_the_newest_page_reads_that_page_alone():
    feed = FakeFeed(23, size=5)

    assert read_after(feed, 21) == [[22, 23]]
    assert feed.asked == [f"{BASE}/feed"]


def test_without_the_jump_it_walks_back_first():
    feed = FakeFeed(23, size=5, jump=False)

    assert [p for batch in read_after(feed, 7) for p in batch] == list(range(8, 24))
    assert feed.asked == [f"{BASE}/feed", f"{BASE}/feed/archive/4", f"{BASE}/feed/archive/3",
                          f"{BASE}/feed/archive/2"]


def test_a_gap_in_a_page_is_refused():
    feed = FakeFeed(10, size=5)
    feed.page_entries[1] = [1, 2, 4, 5]

    with pytest.raises(FeedError, match="skips from position 2 to 4"):
        read_after(feed, 0)


def test_embedded_documents_need_no_request_of_their_own():
    feed = FakeFeed(12, size=5, embedded=True)
    reader = FeedReader(feed, embedded=True)
    subscription = reader.parse(reader.subscription(None, None).body)

    changes = [change for batch in reader.changes_after(0, subscription, 50) for change in batch]

    assert [change.document for change in changes] == [{"id": p, "version": 1} for p in range(1, 13)]
    assert feed.documents_asked == []
    assert reader.subscription_url == f"{BASE}/feed?embed=documents"  # and so the next polls


def test_a_feed_without_embedded_pages_is_read_by_links():
    feed = FakeFeed(7, size=5, embedded=False)

    assert [p for batch in read_after(feed, 0, embedded=True) for p in batch] == list(range(1, 8))
    assert feed.documents_asked == list(range(1, 8))


def test_a_document_that_cannot_be_had_now_stops_after_the_changes_before_it():
    feed = FakeFeed(12, size=5)
    feed.broken_documents = {8}
    feed.unusable_documents = {4}
    reader = FeedReader(feed, embedded=False)
    subscription = reader.parse(reader.subscription(None, None).body)
    handed_out = []

    with pytest.raises(Stopped, match="HTTP 500"):
        for changes in reader.changes_after(0, subscription, 50):
            handed_out += changes

    assert [change.entry.position for change in handed_out] == [1, 2, 3, 4, 5, 6, 7]
    assert isinstance(handed_out[3].document, UnusableDocument)  # kept as a rejection, not a stop


def test_a_reader_that_passes_unavailable_documents_hands_them_out_as_rejected_and_goes_on():
    feed = FakeFeed(12, size=5)
    feed.broken_documents = {8}
    reader = FeedReader(feed, embedded=False, passes_unavailable=True)
    subscription = reader.parse(reader.subscription(None, None).body)

    changes = [change for batch in reader.changes_after(0, subscription, 50) for change in batch]

    assert [change.entry.position for change in changes] == list(range(1, 13))
    assert isinstance(changes[7].document, FeedError) and "could not be had" in str(changes[7].document)


def test_a_refused_credential_stops_even_a_reader_that_passes_unavailable_documents():
    feed = FakeFeed(12, size=5)
    reader = FeedReader(feed, embedded=False, passes_unavailable=True)
    subscription = reader.parse(reader.subscription(None, None).body)

    def refused(entry):
        raise CredentialRefused("The feed refused this service's credential (401).")

    feed.get_document = refused
    with pytest.raises(Stopped, match="credential"):
        list(reader.changes_after(0, subscription, 50))


def test_next_archive_links_that_lead_nowhere_new_are_refused():
    feed = FakeFeed(20, size=5)
    feed.page_entries[2] = [1, 2, 3, 4, 5]  # page 2 repeats page 1: walking on would never end

    with pytest.raises(FeedError, match="do not lead forward"):
        read_after(feed, 0)
