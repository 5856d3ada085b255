"""Following an Atom feed: conditional fetch, guards against hostile documents, parsing."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import requests
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import ParseError, fromstring

from common import request_id
from common.feed import POSITION_NS

ATOM_ACCEPT = "application/atom+xml, application/xml;q=0.9"
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


class FeedError(Exception):
    """The feed or a document it links to cannot be had now; the message says why."""


class UnusableDocument(FeedError):
    """A linked document that asking again will not mend: gone, not JSON, too large."""


@dataclass(frozen=True)
class FeedEntry:
    id: str
    content_src: str
    position: int


@dataclass(frozen=True)
class FeedPage:
    entries: list[FeedEntry]  # oldest first
    prev_archive: str | None  # the page before, RFC 5005

    def reaches_back_to(self, position: int) -> bool:
        """Whether this page holds `position` or one before it."""
        return bool(self.entries) and self.entries[0].position <= position


@dataclass(frozen=True)
class FeedResponse:
    status: int
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None


class FeedClient:
    """HTTP access to one feed and the documents its entries link to."""

    def __init__(self, feed_url: str, http: requests.Session | None = None,
                 timeout: tuple[float, float] = (3.05, 10.0)):
        self.feed_url = feed_url
        self.http = http or requests.Session()
        self.http.headers["User-Agent"] = "microservice-atom feed follower"
        self.timeout = timeout

    def get_feed(self, etag: str | None, last_modified: str | None) -> FeedResponse:
        headers = {"Accept": ATOM_ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        with self._get(self.feed_url, headers) as response:
            if response.status_code == 304:
                return FeedResponse(304)
            _expect_ok(response, "The feed")
            return FeedResponse(200, _read_limited(response), response.headers.get("ETag"),
                                response.headers.get("Last-Modified"))

    def get_page(self, url: str) -> bytes:
        """An archive page the feed links to."""
        self._check_origin(url)
        with self._get(url, {"Accept": ATOM_ACCEPT}) as response:
            _expect_ok(response, url)
            return _read_limited(response)

    def get_json(self, url: str) -> Any:
        self._check_origin(url)
        with self._get(url, {"Accept": "application/json"}) as response:
            if response.status_code in (404, 410):
                raise UnusableDocument(f"{url} answered HTTP {response.status_code}: the document is gone.")
            _expect_ok(response, url)
            body = _read_limited(response, UnusableDocument)
        try:
            return json.loads(body)
        except ValueError:
            raise UnusableDocument(f"{url} did not answer with JSON.") from None

    def _check_origin(self, url: str) -> None:
        if not same_origin(url, self.feed_url):
            raise FeedError(f"Refused to follow {url}: it is not on the feed's origin.")

    def _get(self, url: str, headers: dict) -> requests.Response:
        if request_id.current():  # one id per poll, so the feed's log shows which poll asked
            headers[request_id.HEADER] = request_id.current()
        try:
            # No redirects: one could lead off the feed's origin, past the check in get_json.
            return self.http.get(url, headers=headers, timeout=self.timeout, stream=True,
                                 allow_redirects=False)
        except requests.Timeout:
            raise FeedError(f"{url} did not answer in time.") from None
        except requests.RequestException as error:
            raise FeedError(f"{url} cannot be reached ({type(error).__name__}).") from None


def parse_page(body: bytes, url: str) -> FeedPage:
    """A page of the feed: its entries oldest first (it lists the newest first)."""
    _refuse_dtd(body)
    parsed = feedparser.parse(body)
    if parsed.bozo and not parsed.entries:
        raise FeedError(f"The feed is not well-formed XML ({parsed.bozo_exception}).")
    position_key = _position_key(parsed.namespaces)
    entries = []
    for item in parsed.entries:
        src = next((c.get("src") for c in item.get("content", []) if c.get("src")), None)
        position = item.get(position_key, "")
        if not item.get("id") or not src or not position.isdigit():
            raise FeedError("The feed has an entry without an id, a content link or a position.")
        entries.append(FeedEntry(item.id, urljoin(url, src), int(position)))
    entries.sort(key=lambda entry: entry.position)
    prev_archive = next((link.href for link in parsed.feed.get("links", []) if link.get("rel") == "prev-archive"), None)
    return FeedPage(entries, urljoin(url, prev_archive) if prev_archive else None)


def _position_key(namespaces: dict[str, str]) -> str | None:
    # feedparser names a foreign element after the prefix the document chose.
    prefix = next((prefix for prefix, uri in namespaces.items() if uri == POSITION_NS), None)
    return prefix and f"{prefix}_position"


def same_origin(url: str, other: str) -> bool:
    return _origin(url) == _origin(other)


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, parts.hostname, parts.port or default_port


def _refuse_dtd(body: bytes) -> None:
    # feedparser expands internal entities without limit: a document type
    # declaration has no place in an Atom feed, so none reaches it.
    try:
        fromstring(body, forbid_dtd=True)
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden):
        raise FeedError("The feed declares a document type; it is refused.") from None
    except ParseError as error:
        raise FeedError(f"The feed is not well-formed XML ({error}).") from None


def _expect_ok(response: requests.Response, what: str) -> None:
    if response.is_redirect:
        raise FeedError(f"{what} answered HTTP {response.status_code}, a redirect to "
                        f"{response.headers.get('Location')}; redirects are not followed.")
    if response.status_code != 200:
        raise FeedError(f"{what} answered HTTP {response.status_code}.")


def _read_limited(response: requests.Response, error: type[FeedError] = FeedError) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_content(64 * 1024):
        size += len(chunk)
        if size > MAX_DOCUMENT_BYTES:
            raise error(f"{response.url} is larger than {MAX_DOCUMENT_BYTES // 2**20} MiB; refused.")
        chunks.append(chunk)
    return b"".join(chunks)
