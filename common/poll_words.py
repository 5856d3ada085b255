"""The poll words: what a consumer's page says of its following of a feed, in plain
words made from its poll state (the terms: common/feed/__init__.py). A status line
for the top of the page ("Up to date · checked 4 s ago · 60 of 60 order changes
read") and the details below the list. The words name the feed's source and its
entries through the labels the service gives (common names no context)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

FRESH, BEHIND, FAILING, UNCHECKED = "fresh", "behind", "failing", "unchecked"


@dataclass(frozen=True)
class FeedLabels:
    source: str  # who writes the feed, as a sentence names it: "the order service"
    entries: str  # what its entries are, plural: "order changes"
    title: str = "Feed"  # the feed's name as a heading: "Order feed"
    news: str = "new entries"  # what arrives on it, plural: "new orders"


@dataclass(frozen=True)
class PollWords:
    tone: str  # FRESH, BEHIND, FAILING or UNCHECKED
    headline: str  # "Up to date"
    checked_at: datetime | None  # when the last check ended
    imported: int  # by the last check
    checked_seconds_ago: float | None  # shown as "checked 4 s ago" where the line says when
    progress: str  # "60 of 60 order changes read"; empty where it is not known
    next_try_seconds: float | None  # while it cannot read the feed and tries again by itself
    outcome: str  # the last check: "Nothing new"
    position: str  # "60 of 60"; "40 of at least 60" while the newest is not known
    position_number: int  # 60: what the page's script compares with the service's status


def poll_words(poll_state, polling: bool, next_try_seconds: float | None, now: datetime,
               labels: FeedLabels) -> PollWords:
    """From the poll state the service's processes share, whether a poll of this
    process runs now, and when it tries again by itself (None: not known, or only
    when asked). The newest entry the feed holds is known as last
    read: the position plus the entries left (common/feed/recording.py derives the one
    from the other); while the feed cannot be read, more may have been written since."""
    position, left = poll_state.position or 0, poll_state.pending or 0
    failed = poll_state.outcome == "error"
    checked = (now - poll_state.polled_at).total_seconds() if poll_state.polled_at else None
    read = f"{position} of {position + left} {labels.entries} read"
    if failed:
        tone, headline, progress = FAILING, f"Cannot read from {labels.source}", ""
    elif left:
        tone, headline, progress = BEHIND, "Catching up", read
    elif poll_state.polled_at is None:
        tone, headline, progress = UNCHECKED, "Checking now" if polling else "Not checked yet", ""
    else:
        tone, headline, progress = FRESH, "Up to date", read
    return PollWords(
        tone=tone, headline=headline, checked_at=poll_state.polled_at, imported=poll_state.imported or 0,
        checked_seconds_ago=checked if tone == FRESH else None,
        progress=progress, next_try_seconds=next_try_seconds if failed and not polling else None,
        outcome=_outcome(poll_state, labels), position=_position(position, left, failed),
        position_number=position)


def _outcome(poll_state, labels: FeedLabels) -> str:
    if poll_state.outcome == "200":
        return f"New {labels.entries} read"
    if poll_state.outcome == "304":
        return "Nothing new"
    if poll_state.outcome == "error":
        return f"Could not read from {labels.source}: {poll_state.message}"
    return "Not checked yet"


def _position(position: int, left: int, failed: bool) -> str:
    if not failed:
        return f"{position} of {position + left}"
    if left:
        return f"{position} of at least {position + left}"
    return f"{position} of an unknown number (the feed cannot be read now)"


def ago(seconds: float) -> str:
    """How long ago, as the status line says it: "4 s ago", "3 min ago"; the page's
    script (common/static/app.js) counts on in the same words."""
    return "just now" if seconds < 1 else f"{_span(seconds)} ago"


def within(seconds: float) -> str:
    """How soon: "in 8 s"; "now" once it is due."""
    return "now" if seconds < 1 else f"in {_span(seconds)}"


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"
