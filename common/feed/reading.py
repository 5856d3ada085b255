"""Reading a feed from a position on: the subscription document, the jump to the page
that holds the next entry, the walk forward along next-archive, the gap checks, and
each entry's document, inline or by its link."""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Iterator

from common import json_body, request_id
from common.feed.client import CredentialRefused, FeedClient, FeedError, FeedResponse, UnusableDocument, older
from common.feed.parsing import FeedPage, ParsedEntry, parse_page

# Catching up by links, documents are fetched a few at a time.
FETCHES_AT_ONCE = 4


@dataclass(frozen=True)
class Change:
    """An entry and its document, or why the document will never do."""

    entry: ParsedEntry
    document: Any  # the parsed JSON, or the FeedError that says why it is not to be had


class Stopped(Exception):
    """Reading stopped at `entry`, whose document cannot be had now; the changes
    before it were handed out."""

    def __init__(self, error: Exception, entry: ParsedEntry):
        super().__init__(str(error))
        self.error, self.entry = error, entry


class FeedReader:
    """Reads one feed for one consumer. With `embedded`, it reads the pages that carry
    each entry's document inline where the feed offers them (one request a page
    instead of one an entry), and follows links where it does not."""

    def __init__(self, client: FeedClient, embedded: bool = True, passes_unavailable: bool = False):
        self.client = client
        self.embedded = embedded
        # A document that cannot be had now ends the reading (a poll goes on from it
        # later), or with `passes_unavailable` it is handed out as rejected with the
        # reason and reading goes on (a rebuild). A refused credential always ends it:
        # then no document is at fault.
        self.passes_unavailable = passes_unavailable
        self.subscription_url = client.feed_url  # the embedded variant, once the feed named it

    def subscription(self, etag: str | None, last_modified: str | None, wait: int = 0) -> FeedResponse:
        """The subscription document if it changed since the validators (else a 304)."""
        response = self.client.get_feed(etag, last_modified, self.subscription_url, wait)
        if response.status == 200 and self.embedded and self.subscription_url == self.client.feed_url:
            embedded = parse_page(response.body, self.subscription_url).embedded
            if embedded:  # the feed offers documents inline: from now on, read that
                self.client.check_origin(embedded)
                self.subscription_url = embedded
                return self.client.get_feed(None, None, embedded)
        return response

    def parse(self, subscription: bytes) -> FeedPage:
        return parse_page(subscription, self.subscription_url)

    def changes_after(self, position: int, subscription: FeedPage, batch: int) -> Iterator[list[Change]]:
        """The changes after `position` in order, at most `batch` at a time, page by
        page. While the caller applies one batch, what follows is on its way: the next
        batch's linked documents and the next page (one batch and one page ahead, no
        more). A page that cannot be had ends it with that error, after every batch
        before it; a document that cannot be had now ends it with Stopped, after the
        changes before it."""
        with ThreadPoolExecutor(FETCHES_AT_ONCE, initializer=request_id.adopt,
                                initargs=(request_id.current(),)) as fetcher:  # the poll's id in every fetch
            for entries in self._new_entries_after(position, subscription):
                chunks = [entries[start:start + batch] for start in range(0, len(entries), batch)]
                ahead: _Batch | None = None
                try:
                    for index, chunk in enumerate(chunks):
                        current = ahead or _Batch(self, fetcher, chunk)
                        ahead = _Batch(self, fetcher, chunks[index + 1]) if index + 1 < len(chunks) else None
                        yield from current.changes()
                finally:
                    if ahead is not None:  # stopped, or the caller stopped asking
                        ahead.cancel()

    def _new_entries_after(self, position: int, subscription: FeedPage) -> Iterator[list[ParsedEntry]]:
        """Page by page, the entries after `position`, checked to follow it."""
        expected = position + 1
        for page in self._pages_from(position, subscription):
            entries = _new_entries(page, expected)
            if not entries and page.next_archive:  # a page after the first always brings news
                raise FeedError(f"The feed's page before {page.next_archive} has nothing after "
                                f"position {expected - 1}; its next-archive links do not lead forward.")
            yield entries
            expected += len(entries)

    def _pages_from(self, position: int, subscription: FeedPage) -> Iterator[FeedPage]:
        """The page that holds the entry after `position`, and those after it, each
        asked for while the one before is in use."""
        if subscription.reaches_back_to(position + 1) or not subscription.entries:
            yield subscription
            return
        jump = subscription.page_after(position)
        if jump is None:  # a feed without the jump: walk back to the position first
            yield from self._walked_back_to(position, subscription)
            return
        with ThreadPoolExecutor(1, initializer=request_id.adopt, initargs=(request_id.current(),)) as reader:
            page = self._read(jump, redirected=True)
            while True:
                following = reader.submit(self._read, page.next_archive) if page.next_archive else None
                yield page
                if following is None:
                    return
                page = following.result()

    def _walked_back_to(self, position: int, page: FeedPage) -> list[FeedPage]:
        pages = [page]
        while not pages[-1].reaches_back_to(position + 1) and pages[-1].prev_archive:
            pages.append(self._read(pages[-1].prev_archive))
        return pages[::-1]

    def _read(self, url: str, redirected: bool = False) -> FeedPage:
        url, body = self.client.get_page(url, redirected)
        return parse_page(body, url)


class _Batch:
    """Entries whose linked documents are being fetched, a few at a time."""

    def __init__(self, reader: FeedReader, fetcher: ThreadPoolExecutor, entries: list[ParsedEntry]):
        self.reader, self.entries = reader, entries
        self.fetched = {entry.position: fetcher.submit(reader.client.get_document, entry)
                        for entry in entries if entry.inline is None}

    def changes(self) -> Iterator[list[Change]]:
        """The batch's changes; on the first document that cannot be had now, those
        before it, then Stopped."""
        changes = []
        for entry in self.entries:
            try:
                changes.append(Change(entry, self._document(entry, self.fetched.get(entry.position))))
            except Exception as failure:  # noqa: BLE001 - reported with what was done
                if changes:
                    yield changes
                raise Stopped(failure, entry) from failure
        if changes:
            yield changes

    def cancel(self) -> None:
        for future in self.fetched.values():
            future.cancel()

    def _document(self, entry: ParsedEntry, fetched: Future | None) -> Any:
        """The entry's document: inline, or as fetched; a FeedError in place of one that
        cannot be had now, where this reader passes those on."""
        try:
            return fetched.result() if fetched is not None else _inline(entry, entry.inline or "")
        except UnusableDocument as unusable:
            return unusable
        except CredentialRefused:
            raise
        except Exception as failure:
            if not self.reader.passes_unavailable:
                raise
            return FeedError(f"{entry.content_src} could not be had: {failure}")


def _new_entries(page: FeedPage, expected: int) -> list[ParsedEntry]:
    """The page's entries from position `expected` on, refusing gaps and two
    different entries at one position; an entry repeated as it was is taken once."""
    entries: list[ParsedEntry] = []
    for entry in page.entries:
        if entry.position < expected + len(entries):
            if entry.position >= expected and entry != entries[entry.position - expected]:
                raise FeedError(f"The feed has two different entries at position {entry.position}.")
            continue
        if entry.position > expected + len(entries):
            raise FeedError(f"The feed skips from position {expected + len(entries) - 1} to {entry.position}.")
        entries.append(entry)
    return entries


def _inline(entry: ParsedEntry, text: str) -> Any:
    try:
        document = json_body.loads(text)
    except ValueError:
        raise UnusableDocument(f"The document of entry {entry.position} in the feed is not JSON.") from None
    if older(document, entry.version):
        raise FeedError(f"The document of entry {entry.position} in the feed is older than the entry.")
    return document
