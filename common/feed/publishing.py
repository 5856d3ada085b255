"""Publishing an Atom feed: building the document and answering conditional GETs."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from werkzeug.http import is_resource_modified
from werkzeug.wrappers import Request, Response

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


@dataclass(frozen=True)
class Feed:
    id: str
    title: str
    author: str
    self_url: str
    updated: datetime
    entries: list[Entry] = field(default_factory=list)


def render_atom(feed: Feed) -> bytes:
    generator = FeedGenerator()
    generator.id(feed.id)
    generator.title(feed.title)
    generator.author(name=feed.author)
    generator.link(href=feed.self_url, rel="self", type=ATOM_MEDIA_TYPE)
    generator.updated(feed.updated)
    generator.register_extension("typedlinks", BaseExtension, _TypedLinks, rss=False)
    for entry in feed.entries:
        item = generator.add_entry(order="append")
        item.id(entry.id)
        item.title(entry.title)
        item.updated(entry.updated)
        item.summary(entry.summary)
        item.content(src=entry.content_src)
        item.typedlinks.set(entry)
    return generator.atom_str(pretty=False)


class _TypedLinks(BaseEntryExtension):
    """Writes the entry's content type and alternate link itself: feedgen 1.0
    drops `type` from `<content src>` and every attribute but `href` from an
    entry's `<link>`."""

    def set(self, entry: Entry) -> None:
        self._entry = entry

    def extend_atom(self, element):
        # feedgen builds entries without a namespace and puts them in Atom's later.
        content = element.find("content")
        content.set("type", self._entry.content_type)
        content.addnext(content.makeelement("link", {
            "rel": "alternate", "type": self._entry.alternate_type, "href": self._entry.alternate_href,
        }))
        return element


@dataclass(frozen=True)
class Validators:
    """What a client may send back to ask "anything new?"."""

    etag: str
    last_modified: datetime | None


def last_modified_for(newest_change: datetime, now: datetime) -> datetime:
    """The Last-Modified to announce for a resource last changed at `newest_change`.

    HTTP dates have whole seconds. While the second of the newest change is still
    running, another change can land in that same second; announcing that second
    would make a client's If-Modified-Since hide it. So the previous second is
    announced until the newest change's second is over.
    """
    second = newest_change.replace(microsecond=0)
    if now.replace(microsecond=0) <= second:
        return second - timedelta(seconds=1)
    return second


def conditional_response(request: Request, validators: Validators, render) -> Response:
    """200 with the rendered feed, or 304 when the client's copy is current.

    `render` is called only for a 200: an idle poll costs no rendering.
    """
    response = Response(content_type=ATOM_MEDIA_TYPE)
    response.set_etag(validators.etag)
    response.last_modified = validators.last_modified
    response.cache_control.no_cache = True
    if not is_resource_modified(
        request.environ, etag=validators.etag, last_modified=validators.last_modified
    ):
        response.status_code = 304
        return response
    response.set_data(render())
    return response
