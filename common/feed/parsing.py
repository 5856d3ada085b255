"""Reading a page of a feed: guards against hostile documents, then its entries and
links as a consumer uses them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin
from xml.parsers import expat
from xml.sax import SAXException

import feedparser

from common.feed import AFTER_REL, EMBEDDED_REL, POSITION_NS
from common.feed.client import FeedError
from common.numbers import whole_number


@dataclass(frozen=True)
class ParsedEntry:
    id: str
    content_src: str  # the document's own URL, also when the page carries it inline
    position: int
    version: int | None = None  # the document must show at least this version
    inline: str | None = None  # the document as the page embeds it (JSON text)
    updated: datetime | None = None  # when the entry was written, as the feed says


@dataclass(frozen=True)
class FeedPage:
    entries: list[ParsedEntry]  # oldest first
    prev_archive: str | None = None  # the page before, RFC 5005
    next_archive: str | None = None  # the page after, RFC 5005; None on the newest
    after: str | None = None  # a template: {position} -> the page holding the entry after it
    embedded: str | None = None  # this page with the documents inline

    @property
    def newest(self) -> int:
        """The position of the page's newest entry; 0 when it has none."""
        return self.entries[-1].position if self.entries else 0

    def page_after(self, position: int) -> str | None:
        return self.after.replace("{position}", str(position)) if self.after else None

    def reaches_back_to(self, position: int) -> bool:
        """Whether this page holds `position` or one before it."""
        return bool(self.entries) and self.entries[0].position <= position


def parse_page(body: bytes, url: str) -> FeedPage:
    """A page of the feed: its entries oldest first (it lists the newest first)."""
    _refuse_dtd(body)
    # Nothing of a feed is shown as HTML: no sanitizing, no resolving inside content.
    parsed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
    if parsed.bozo and (isinstance(parsed.bozo_exception, SAXException) or not parsed.entries):
        raise FeedError(f"The feed is not well-formed XML ({parsed.bozo_exception}).")
    prefix = _prefix(parsed.namespaces)
    entries = sorted((_entry(item, prefix, url) for item in parsed.entries), key=lambda entry: entry.position)
    links = {link.get("rel"): urljoin(url, link.href) for link in parsed.feed.get("links", []) if link.get("href")}
    after = links.get(AFTER_REL)
    return FeedPage(entries, links.get("prev-archive"), links.get("next-archive"),
                    after.replace("%7Bposition%7D", "{position}") if after else None, links.get(EMBEDDED_REL))


def _entry(item, prefix: str | None, url: str) -> ParsedEntry:
    content: dict = next(iter(item.get("content", [])), {})
    inline = None if content.get("src") else content.get("value")
    src = content.get("src") or next((link.href for link in item.get("links", [])
                                      if link.get("rel") == "related" and inline is not None), None)
    position, written_version = whole_number(item.get(f"{prefix}_position", "")), item.get(f"{prefix}_version")
    version = None if written_version is None else whole_number(written_version)
    if not item.get("id") or not src or position is None:
        raise FeedError("The feed has an entry without an id, a content link or a position.")
    if written_version is not None and version is None:
        raise FeedError(f"The feed's entry at position {position} has a version that is not a number.")
    return ParsedEntry(item.id, urljoin(url, src), position, version, inline, _updated(item))


def _updated(item) -> datetime | None:
    """The entry's `updated` (RFC 3339) to the microsecond, which feedparser's own
    parse drops; None when it has none with a time zone."""
    try:
        moment = datetime.fromisoformat(item.get("updated", ""))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _prefix(namespaces: dict[str, str]) -> str | None:
    # feedparser names a foreign element after the prefix the document chose.
    return next((prefix for prefix, uri in namespaces.items() if uri == POSITION_NS), None)


def _refuse_dtd(body: bytes) -> None:
    """feedparser expands the internal entities a document type declares, without
    limit: a document type has no place in an Atom feed, so none reaches it. Only the
    prolog is read here, up to the root element (where XML allows a document type),
    so that the page is parsed in full once, by feedparser."""
    reader = expat.ParserCreate()
    reader.StartDoctypeDeclHandler = _declares_doctype
    reader.StartElementHandler = _prolog_over
    try:
        reader.Parse(body, True)
    except _PrologOver:
        return
    except _DeclaresDoctype:
        raise FeedError("The feed declares a document type; it is refused.") from None
    except expat.ExpatError as error:
        raise FeedError(f"The feed is not well-formed XML ({error}).") from None
    raise FeedError("The feed is not well-formed XML (no root element).")


class _PrologOver(Exception):
    pass


class _DeclaresDoctype(Exception):
    pass


def _prolog_over(*_) -> None:
    raise _PrologOver


def _declares_doctype(*_) -> None:
    raise _DeclaresDoctype
