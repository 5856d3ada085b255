"""HTTP access to a feed: the conditional fetch of its pages, the documents its
entries link to, and the errors that tell why one cannot be had now."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from common import json_body, request_id

if TYPE_CHECKING:  # the parser raises this module's errors: no import back at run time
    from common.feed.parsing import ParsedEntry

ATOM_ACCEPT = "application/atom+xml, application/xml;q=0.9"
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
IM_USED = 226  # RFC 3229: the answer is the news since the client's copy


class _RetryDroppedConnection(Retry):
    """A GET is idempotent: one more try when a kept-alive connection turns out to
    have been closed or reset by the server, or a connection fails. A service that is
    really down fails the second try as well and is reported. One that does not
    answer in time is not asked twice: that would only double the wait."""

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        if isinstance(error, ReadTimeoutError):
            raise error.with_traceback(_stacktrace)
        return super().increment(method, url, response, error, _pool, _stacktrace)


RETRY_ONCE = _RetryDroppedConnection(total=1, connect=1, read=1, status=0, other=0, redirect=0,
                                     allowed_methods=frozenset({"GET"}), raise_on_status=False)


class FeedError(Exception):
    """The feed or a document it links to cannot be had now; the message says why."""


class CredentialRefused(FeedError):
    """The feed refused the credential sent, or asked for one: no document is at fault,
    so no entry is rejected; the poll fails until the credential is mended."""


class UnusableDocument(FeedError):
    """A linked document that asking again will not mend: gone, not JSON, too large."""


class StaleDocument(FeedError):
    """A document older than the entry that links to it: a cache kept an old copy."""


@dataclass(frozen=True)
class FeedResponse:
    status: int
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    waited: bool = False  # the server held the request as asked (Preference-Applied: wait)


REFUSED = "The feed refused this service's credential ({status})."


class FeedClient:
    """HTTP access to one feed and the documents its entries link to. With a
    `credential` (a bearer token) it shows it where personal data is: on the documents
    and on the pages that carry them inline (`?embed=`), never on the thin pages, so
    that shared caches keep serving those. `refused` tells what to do when the feed
    refuses it ({status}: 401 or 403)."""

    def __init__(self, feed_url: str, http: requests.Session | None = None,
                 timeout: tuple[float, float] = (3.05, 10.0), credential: str | None = None,
                 refused: str = REFUSED):
        self.feed_url = feed_url
        self.credential, self.refused = credential, refused
        self.http = http or requests.Session()
        self.http.headers["User-Agent"] = "microservice-atom feed follower"
        for scheme in ("http://", "https://"):
            self.http.mount(scheme, HTTPAdapter(max_retries=RETRY_ONCE))
        self.timeout = timeout

    def close(self) -> None:
        """Close the connections it keeps open to the feed's server."""
        self.http.close()

    def get_feed(self, etag: str | None, last_modified: str | None, url: str | None = None,
                 wait: int = 0) -> FeedResponse:
        """The subscription document, conditionally; with `wait`, held by the server
        until something is new or the wait is over (RFC 7240 `Prefer: wait`). With the
        ETag of its copy it takes the entries added since alone, where the feed offers
        them (RFC 3229, `A-IM: feed`, `226 IM Used`): a page that holds them reads as
        one that holds more, and the whole document's validators come with it."""
        headers = {"Accept": ATOM_ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
            headers["A-IM"] = "feed"
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if wait:
            headers["Prefer"] = f"wait={wait}"
        with self._get(url or self.feed_url, headers, longer=wait) as response:
            waited = "wait" in response.headers.get("Preference-Applied", "")
            if response.status_code == 304:
                return FeedResponse(304, waited=waited)
            if response.status_code != IM_USED or response.headers.get("IM", "").strip().lower() != "feed":
                self._expect_ok(response, "The feed")
            return FeedResponse(200, _read_limited(response), response.headers.get("ETag"),
                                response.headers.get("Last-Modified"), waited)

    def get_page(self, url: str, redirected: bool = False) -> tuple[str, bytes]:
        """A page the feed links to, and its URL; `redirected`: the link may lead
        there by one redirect on the feed's origin (the page after a position)."""
        self.check_origin(url)
        with self._get(url, {"Accept": ATOM_ACCEPT}) as response:
            if redirected and response.is_redirect:
                return self.get_page(urljoin(url, response.headers.get("Location", "")))
            self._expect_ok(response, url)
            return url, _read_limited(response)

    def get_document(self, entry: ParsedEntry) -> Any:
        """The JSON document of `entry`, at least at the entry's version (a document
        carries its `version`; a newer one includes the entry's change). An older
        one came from a cache: it is asked for again past the caches, and if it is
        still older, StaleDocument: the poll stops before this entry."""
        document = self.get_json(entry.content_src)
        if older(document, entry.version):
            document = self.get_json(entry.content_src, {"Cache-Control": "no-cache", "Pragma": "no-cache"})
        if older(document, entry.version):
            raise StaleDocument(f"{entry.content_src} shows version {document['version']}, older than the "
                                f"entry's version {entry.version}: a cache in between keeps an old copy.")
        return document

    def get_json(self, url: str, headers: dict | None = None) -> Any:
        self.check_origin(url)
        with self._get(url, {"Accept": "application/json", **(headers or {})}, private=True) as response:
            if response.status_code in (404, 410):
                raise UnusableDocument(f"{url} answered HTTP {response.status_code}: the document is gone.")
            self._expect_ok(response, url, private=True)
            body = _read_limited(response, UnusableDocument)
        try:
            return json_body.loads(body)
        except json_body.TooDeep as error:
            raise UnusableDocument(f"{url} answered {error}") from None
        except ValueError:
            raise UnusableDocument(f"{url} did not answer with JSON.") from None

    def check_origin(self, url: str) -> None:
        if not same_origin(url, self.feed_url):
            raise FeedError(f"Refused to follow {url}: it is not on the feed's origin.")

    def _expect_ok(self, response: requests.Response, what: str, private: bool = False) -> None:
        if response.status_code in (401, 403) and (private or _carries_documents(response.url)):
            raise CredentialRefused(self.refused.format(status=response.status_code))
        _expect_ok(response, what)

    def _get(self, url: str, headers: dict, longer: float = 0, private: bool = False) -> requests.Response:
        if self.credential and (private or _carries_documents(url)):
            headers["Authorization"] = f"Bearer {self.credential}"
        if request_id.current():  # one id per poll, so the feed's log shows which poll asked
            headers[request_id.HEADER] = request_id.current()
        try:
            # No redirects: one could lead off the feed's origin, past the check in get_json.
            connect, read = self.timeout
            return self.http.get(url, headers=headers, timeout=(connect, read + longer), stream=True,
                                 allow_redirects=False)
        except requests.Timeout:
            raise FeedError(f"{url} did not answer in time.") from None
        except requests.RequestException as error:
            raise FeedError(f"{url} cannot be reached ({type(error).__name__}).") from None


def _carries_documents(url: str) -> bool:
    """Whether `url` is a page of the feed with the documents inline (`?embed=`)."""
    return "embed" in parse_qs(urlsplit(url).query, keep_blank_values=True)


def older(document: Any, version: int | None) -> bool:
    shown = document.get("version") if isinstance(document, dict) else None
    return version is not None and isinstance(shown, int) and shown < version


def same_origin(url: str, other: str) -> bool:
    return _origin(url) == _origin(other)


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, parts.hostname, parts.port or default_port


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
