"""Columns of a consumer's record of its subscription, mixed into each service's
models so that every service keeps it in its own database."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from common.db import UTCDateTime


class PollStateColumns:
    """The subscription's state, one row: validators of the last complete poll
    and the outcome of the last poll. Mixed into each service's own model."""

    id: Mapped[int] = mapped_column(primary_key=True)
    etag: Mapped[str | None] = mapped_column(String(200))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(Text)
    imported: Mapped[int] = mapped_column(default=0)
    # Entries left behind, as the last poll that could tell found them, and when the
    # oldest of them was written (None: none left).
    pending: Mapped[int] = mapped_column(default=0)
    pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last feed position that took effect, written in the same transaction as
    # its import (a tracking record): each entry takes effect exactly once.
    position: Mapped[int] = mapped_column(default=0)
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
    """The state of the last rebuild from the feed, one row: running, done or
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
