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
    pending: Mapped[int] = mapped_column(default=0)
    # The last feed position that took effect, written in the same transaction as
    # its import (a tracking record): each entry takes effect exactly once.
    position: Mapped[int] = mapped_column(default=0)
