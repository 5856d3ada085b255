"""Columns of a consumer's record of its subscription, mixed into each service's
models so that every service keeps it in its own database: the tracking record (a
position recorded with its effect) and the poll status (what people read about the
polls), in rows of their own, so that telling how a poll went never waits for an
import to commit."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from common.db import UTCDateTime


class TrackingColumns:
    """The tracking record, one row: a position recorded with its effect. The last
    feed position that took effect is written in the same transaction as its
    import, so each entry takes effect exactly once; with it, the validators of the
    subscription document whose changes are all in (what the position has read).
    Only transactions that apply the feed write it, each with the row locked."""

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(default=0)
    etag: Mapped[str | None] = mapped_column(String(200))
    last_modified: Mapped[str | None] = mapped_column(String(64))


class PollStatusColumns:
    """The poll status, what people read about the polls, one row: the outcome of the last poll, how
    far behind the feed it found the service, and the imports counted by window of
    time. Written in short transactions of its own, which never wait for an import."""

    id: Mapped[int] = mapped_column(primary_key=True)
    polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(Text)
    imported: Mapped[int] = mapped_column(default=0)
    # The feed's newest position, as the last poll that could tell found it, and when
    # the oldest entry after the position then was written: the entries left are
    # those up to the newest that the tracking record's position has not reached yet.
    newest: Mapped[int] = mapped_column(default=0)
    pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Imports counted by window of time, for imports per minute (common/feed/pace.py).
    window_started: Mapped[datetime | None] = mapped_column(UTCDateTime())
    imports_in_window: Mapped[int] = mapped_column(default=0)
    imports_in_window_before: Mapped[int] = mapped_column(default=0)


class RejectedEntryColumns:
    """An entry whose document could not be used (gone, not JSON, not mappable):
    the consumer went on past it and keeps it here, with the reason, to retry."""

    position: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    entry_id: Mapped[str] = mapped_column(String(500))
    content_src: Mapped[str] = mapped_column(String(2000))
    reason: Mapped[str] = mapped_column(Text)
    rejected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=1)


class RebuildColumns:
    """The progress of the last rebuild from the feed, one row: running, done or
    failed, how far it got, and when it last reported (a mark that stops reporting
    is left from a process that died)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # running, done or failed
    owner: Mapped[str] = mapped_column(String(64))  # the process that runs it
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    position: Mapped[int] = mapped_column(default=0)  # the last entry the copy took
    newest: Mapped[int] = mapped_column(default=0)  # the feed's newest entry, as last read
    message: Mapped[str | None] = mapped_column(Text)
