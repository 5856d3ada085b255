"""The order feed: an archived feed (RFC 5005) of the order log's entries.

Page n holds positions (n-1)*size+1 .. n*size, newest first. `/feed`, the
subscription document, is the newest page (so never empty once there are orders);
once a page is full it never changes and is served as an archive document, and the
page after it, empty until the next order, is already there for its next-archive link. Every lookup goes by position, the
log's primary key, so no request reads more than one page, however long the history.

Every page links to the page that holds the entry after any position (a template),
so that a consumer reaches its place in one request whatever the history, and comes
in two variants: thin, for feed readers and shared caches, with each entry's
document linked; embedded, for consumers, with each document inline (one request a
page instead of one an entry), which names people and so is private.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Callable, Iterable, Sequence

from sqlalchemy import Row, func, select, tuple_
from sqlalchemy.orm import Session

from common.feed import AFTER_REL, EMBEDDED_REL, outbox
from common.feed.pace import WINDOW, per_minute
from common.feed.publishing import EPOCH, Entry, Feed, Validators
from common.money import money_text
from order.models import CURRENCY, FeedEntry, OrderLine, OrderVersion

TAG = "tag:microservice-atom,2026"
FEED_ID = f"{TAG}:orders"


@dataclass(frozen=True)
class FeedUrls:
    """Where the pages of one variant (thin or embedded) and the documents are."""

    subscription: str
    home: str  # the list of orders, for people
    archive: Callable[[int], str]
    after: str  # a template: {position} -> the page that holds the entry after it
    order: Callable[[int], str]  # the order as it is now, for people
    version: Callable[[int, int], str]  # the order as it was at a version, never changing
    embedded: bool = False  # pages of this variant carry each entry's document inline
    embedded_variant: Callable[[str], str] = str  # a thin page's URL -> its embedded one


@dataclass(frozen=True)
class Page:
    feed: Feed
    validators: Validators
    complete: bool


def head(session: Session):
    """(position, recorded_at) of the newest entry, or None for an empty log."""
    return session.execute(
        select(FeedEntry.position, FeedEntry.recorded_at).order_by(FeedEntry.position.desc()).limit(1)
    ).first()


def placed_per_minute(session: Session, now: datetime) -> float:
    """Orders placed per minute over the last pace.WINDOW: the log's entries that
    placed one since then. Times follow positions (common/feed/outbox.py), so those
    entries lie after the newest one written before; it is found walking the primary
    key back from the newest entry, so the cost is that of the window, not the history."""
    before = (select(FeedEntry.position).where(FeedEntry.recorded_at < now - WINDOW)
              .order_by(FeedEntry.position.desc()).limit(1).scalar_subquery())
    placed = session.scalar(select(func.count()).select_from(FeedEntry)
                            .where(FeedEntry.position > func.coalesce(before, 0), FeedEntry.event == "placed"))
    return per_minute(placed or 0)


@dataclass(frozen=True)
class Subscription:
    """The subscription document's state: its validators, and the newest position
    its body is to show (read once, so that body and ETag agree)."""

    validators: Validators
    last: int


def subscription_state(session: Session, size: int) -> Subscription:
    """Asked after the caller read the clock: an entry being written when the
    clock was read may yet commit with a time in a second already over. The ETag
    names the feed's state, the same for both variants (an ETag is scoped to its
    URL), so validators saved from one still answer 304 at the other."""
    writing = outbox.writing(session, FeedEntry.__table__)
    newest = head(session)
    last = newest.position if newest else 0
    return Subscription(_current(size, last, newest.recorded_at if newest else None, writing), last)


def _current(size: int, last: int, changed_at: datetime | None, writing: bool = False) -> Validators:
    """The validators of the feed as it is up to `last`: of the subscription document and
    of the page still filling, which show the same entries."""
    return Validators(etag=f"feed-{size}-{last}", changed_at=changed_at, writing=writing)


def page_after(session: Session, position: int, size: int) -> int | None:
    """The number of the page that holds the entry after `position` (the page still
    filling when none follows yet); None for a position the feed has not reached."""
    newest = head(session)
    if not 0 <= position <= (newest.position if newest else 0):
        return None
    return _page_of(position + 1, size)


def subscription(session: Session, size: int, urls: FeedUrls, last: int, after: int = 0) -> Feed:
    """The newest page, up to position `last`; never an archive document itself. With
    `after`, its entries after that position alone: what a copy that saw the feed up
    to there lacks (a delta)."""
    return _page(session, _page_of(max(last, 1), size), size, urls, urls.subscription, last, archived=False,
                 after=after).feed


def seen_up_to(etags: Iterable[str], size: int, last: int) -> int | None:
    """The position up to which a client's copy of the subscription document shows the
    feed, by its ETag (`feed-<size>-<position>`), when the entries it lacks are all on
    the subscription document as it is up to `last`; else None (it needs all of it)."""
    named = [_position_in(etag, size) for etag in etags]
    if len(named) != 1 or named[0] is None:
        return None
    seen = named[0]
    return seen if seen < last and _page_of(seen + 1, size) == _page_of(last, size) else None


def _position_in(etag: str, size: int) -> int | None:
    prefix = f"feed-{size}-"
    number = etag[len(prefix):]
    return int(number) if etag.startswith(prefix) and number.isascii() and number.isdigit() else None


def archive(session: Session, number: int, size: int, urls: FeedUrls) -> Page | None:
    """Page `number`, or None before the first and after the one filling up."""
    newest = head(session)
    last = newest.position if newest else 0
    if not 1 <= number <= _page_of(last + 1, size):
        return None
    return _page(session, number, size, urls, urls.archive(number), last)


def _page(session: Session, number: int, size: int, urls: FeedUrls, self_url: str, last: int,
          archived: bool = True, after: int = 0) -> Page:
    """Page `number` as the log holds it up to `last` (its entries after `after`); a
    full one is an archive document unless `archived` is False (the subscription
    document)."""
    first, end = max((number - 1) * size, after) + 1, min(number * size, last)
    complete = number * size <= last
    rows = session.execute(select(FeedEntry.position, FeedEntry.order_id, FeedEntry.order_version, FeedEntry.event,
                                  FeedEntry.recorded_at)
                           .where(FeedEntry.position.between(first, end)).order_by(FeedEntry.position.desc())).all()
    links = [("current", urls.subscription), (AFTER_REL, urls.after)]
    if number > 1:
        links.append(("prev-archive", urls.archive(number - 1)))
    if complete and archived:
        links.append(("next-archive", urls.archive(number + 1)))
    if not urls.embedded:
        links.append((EMBEDDED_REL, urls.embedded_variant(self_url)))
    documents = _documents(session, rows) if urls.embedded else {}
    sizes = _sizes(session, rows)
    feed = Feed(id=FEED_ID, title="Orders", author="Order service", self_url=self_url, home=urls.home,
                updated=rows[0].recorded_at if rows else EPOCH, links=links, archive=complete and archived,
                entries=[_entry(row, sizes[row.order_id], urls, documents.get((row.order_id, row.order_version)))
                         for row in rows])
    if complete:
        validators = Validators(etag=f"archive-{size}-{number}", changed_at=rows[0].recorded_at)
    else:
        validators = _current(size, last, rows[0].recorded_at if rows else None)
    return Page(feed, validators, complete)


@dataclass(frozen=True)
class _Size:
    """What an entry's summary tells of its order: how many items, for how much."""

    items: int = 0
    total: Decimal = Decimal("0.00")


def _sizes(session: Session, rows: Sequence[Row]) -> dict[int, _Size]:
    """The size of each order the entries tell of, from their lines, in one query."""
    sizes = {row.order_id: _Size() for row in rows}
    if sizes:
        lines = session.execute(select(OrderLine.order_id, OrderLine.count, OrderLine.price)
                                .where(OrderLine.order_id.in_(sizes)))
        for order_id, count, price in lines:
            size = sizes[order_id]
            sizes[order_id] = _Size(size.items + count, size.total + price * count)
    return sizes


def _documents(session: Session, rows: Sequence[Row]) -> dict[tuple[int, int], str]:
    """The documents of the versions the entries tell of, in one query."""
    wanted = [(row.order_id, row.order_version) for row in rows]
    if not wanted:
        return {}
    found = session.execute(select(OrderVersion.order_id, OrderVersion.version, OrderVersion.document)
                            .where(tuple_(OrderVersion.order_id, OrderVersion.version).in_(wanted)))
    return {(order_id, version): document for order_id, version, document in found}


def _page_of(position: int, size: int) -> int:
    return (position - 1) // size + 1


def _entry(row: Row, size: _Size, urls: FeedUrls, document: str | None = None) -> Entry:
    """An entry names the order, its size and total, never a person: archive pages
    are kept by shared caches for a year, where nothing could be taken back."""
    if row.event == "cancelled":
        summary = f"Order {row.order_id} was cancelled."
    else:
        items = f"{size.items:,} {'item' if size.items == 1 else 'items'}"
        summary = f"Order {row.order_id}: {items} for {money_text(size.total, CURRENCY)}."  # as the pages write it
    return Entry(
        id=f"{TAG}:order/{row.order_id}/version/{row.order_version}",
        title=f"Order {row.order_id} {row.event}", updated=row.recorded_at, summary=summary,
        content_src=urls.version(row.order_id, row.order_version), content_type="application/json",
        alternate_href=urls.order(row.order_id), position=row.position, version=row.order_version, inline=document,
    )
