"""Publishing an Atom feed: building the document and answering conditional GETs."""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from werkzeug.http import is_resource_modified
from werkzeug.wrappers import Request, Response

from common.feed import HISTORY_NS, POSITION_NS

ATOM_MEDIA_TYPE = "application/atom+xml"


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    updated: datetime
    summary: str
    content_src: str
    content_type: str
    alternate_href: str
    alternate_type: str = "text/html"
    position: int | None = None
    # The version of the thing the entry tells of, which its document must show at least.
    version: int | None = None
    # The document itself, to carry inline instead of linking to it (then linked as related).
    inline: str | None = None


@dataclass(frozen=True)
class Feed:
    id: str
    title: str
    author: str
    self_url: str
    updated: datetime
    entries: list[Entry] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (rel, href), e.g. prev-archive
    archive: bool = False  # an RFC 5005 archive document: <fh:archive/>
    home: str | None = None  # the page for people the feed stands for: where a reader links its title


def render_atom(feed: Feed) -> bytes:
    generator = FeedGenerator()
    generator.id(feed.id)
    generator.title(feed.title)
    generator.author(name=feed.author)
    generator.link(href=feed.self_url, rel="self", type=ATOM_MEDIA_TYPE)
    if feed.home:
        generator.link(href=feed.home, rel="alternate", type="text/html")
    for rel, href in feed.links:
        if ":" not in rel:  # a registered relation; feedgen refuses any other
            generator.link(href=href, rel=rel, type=ATOM_MEDIA_TYPE)
    generator.updated(feed.updated)
    generator.register_extension("history", _History, _TypedLinks, rss=False)
    generator.history.archive = feed.archive
    generator.history.links = [(rel, href) for rel, href in feed.links if ":" in rel]
    for entry in feed.entries:
        item = generator.add_entry(order="append")
        item.id(entry.id)
        item.title(entry.title)
        item.updated(entry.updated)
        item.summary(entry.summary)
        item.content(src=entry.content_src)
        item.history.set(entry)
    return generator.atom_str(pretty=False)


class _History(BaseExtension):
    """Declares the namespaces, marks an archive document (RFC 5005) and writes the
    links whose relation is a URI of its own (RFC 4287 4.2.7.2)."""

    archive = False
    links: list[tuple[str, str]] = []

    def extend_ns(self):
        return {"fh": HISTORY_NS, "msatom": POSITION_NS}

    def extend_atom(self, feed):
        if self.archive:
            feed.append(feed.makeelement(f"{{{HISTORY_NS}}}archive", {}))
        for rel, href in self.links:
            # Built without a namespace, as feedgen builds its own, which it puts in Atom's later.
            feed.append(feed.makeelement("link", {"rel": rel, "href": href, "type": ATOM_MEDIA_TYPE}))
        return feed


class _TypedLinks(BaseEntryExtension):
    """Writes the entry's content type, alternate link, position and version itself:
    feedgen 1.0 drops `type` from `<content src>` and every attribute but
    `href` from an entry's `<link>`, and refuses inline content of a type that is
    neither text nor XML, which Atom carries in Base64 (RFC 4287 4.1.3.3)."""

    def set(self, entry: Entry) -> None:
        self._entry = entry

    def extend_atom(self, element):
        # feedgen builds entries without a namespace and puts them in Atom's later.
        content = element.find("content")
        content.set("type", self._entry.content_type)
        content.addnext(content.makeelement("link", {
            "rel": "alternate", "type": self._entry.alternate_type, "href": self._entry.alternate_href,
        }))
        if self._entry.inline is not None:
            del content.attrib["src"]
            content.text = base64.b64encode(self._entry.inline.encode()).decode("ascii")
            content.addnext(content.makeelement("link", {
                "rel": "related", "type": self._entry.content_type, "href": self._entry.content_src,
            }))
        for name in ("position", "version"):
            value = getattr(self._entry, name)
            if value is not None:
                element.append(element.makeelement(f"{{{POSITION_NS}}}{name}", {}))
                element[-1].text = str(value)
        return element


@dataclass(frozen=True)
class Validators:
    """The state a client may ask about with If-None-Match / If-Modified-Since."""

    etag: str
    changed_at: datetime | None  # exact time of the newest change; None: never changed
    writing: bool = False  # a change is being committed: its time is not known yet


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def last_modified_for(changed_at: datetime | None, now: datetime) -> tuple[datetime, bool]:
    """The Last-Modified to announce, and whether it can prove a copy current.

    HTTP dates have whole seconds. While the second of the newest change is still
    running another change can land in it, so until that second is over the
    previous second is announced and If-Modified-Since proves nothing.
    """
    if changed_at is None:
        return EPOCH, True
    second = changed_at.replace(microsecond=0)
    if now.replace(microsecond=0) > second:
        return second, True
    return second - timedelta(seconds=1), False


def asks_for_delta(request: Request) -> bool:
    """Whether the client takes the feed's news alone (RFC 3229, `A-IM: feed`)."""
    return "feed" in {token.split(";")[0].strip().lower() for token in request.headers.get("A-IM", "").split(",")}


def conditional_response(request: Request, validators: Validators, now: datetime, render,
                         cache_control: str = "no-cache", delta=None) -> Response:
    """200 with the rendered document, or 304 when the client's copy is current.

    `render` is called only for a 200: an idle poll costs no rendering. `delta`, where
    the client asked for it and the document can tell what its copy lacks, renders
    only that: the entries added since (RFC 3229's `feed` instance manipulation,
    `226 IM Used`), with the whole document's validators. No cache keeps a delta: it
    is an answer to one client's copy, not the document.
    """
    last_modified, settled = last_modified_for(validators.changed_at, now)
    settled = settled and not validators.writing
    response = Response(content_type=ATOM_MEDIA_TYPE)
    response.set_etag(validators.etag)
    response.headers["Cache-Control"] = cache_control
    if not is_resource_modified(request.environ, etag=validators.etag,
                                last_modified=last_modified if settled else None):
        response.status_code = 304
        return response
    if delta is not None:
        response.status_code = 226
        response.headers["IM"] = "feed"
        response.headers["Cache-Control"] = "no-store"
        response.set_data(delta())
        return response
    response.set_data(render())
    since = request.if_modified_since
    # libcurl (newsboat) drops a 200 whose Last-Modified is not newer than its
    # If-Modified-Since but keeps its ETag, and would never show what changed
    # within that second; without the header it takes the body.
    if since is None or last_modified > since:
        response.last_modified = last_modified
    return response
