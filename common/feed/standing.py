"""The standing: where a consumer stands (GET /status), its position, how far behind
it knows itself to be, in entries and in seconds, what it does now, and how fast it
imports."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from common.feed.pace import imports_per_minute
from common.utc import iso_utc

WAITING, POLLING, BACKING_OFF, FAILING = STATES = "waiting", "polling", "backing off", "failing"


@dataclass(frozen=True)
class Standing:
    position: int  # the last feed position that took effect
    entries_behind: int  # as the last poll that could tell found them
    seconds_behind: float  # the age of the oldest entry not applied; 0 when none is left
    state: str  # what this process does now: WAITING, POLLING, BACKING_OFF or FAILING
    reason: str | None  # why the last poll failed; None when it did not
    retry_in_seconds: float | None  # while it backs off
    polled_at: datetime | None
    imports_per_minute: float

    def as_json(self) -> dict:
        return {"position": self.position, "entriesBehind": self.entries_behind,
                "secondsBehind": self.seconds_behind, "state": self.state, "reason": self.reason,
                "retryInSeconds": self.retry_in_seconds,
                "polledAt": iso_utc(self.polled_at) if self.polled_at else None,
                "importsPerMinute": self.imports_per_minute}


def standing(poll_state, polling: bool, backoff_seconds: float, now: datetime) -> Standing:
    """From the poll state the service's processes share, and what this process does
    now: whether a poll of it runs (or waits for another process's), and how long it
    still backs off after failures (0 when it does not poll by itself)."""
    failed = poll_state.outcome == "error"
    doing = _doing(polling, failed, backoff_seconds)
    behind = poll_state.pending or 0
    since = poll_state.pending_since if behind else None
    return Standing(
        position=poll_state.position or 0, entries_behind=behind,
        # The clocks of two services may differ a little: never less than nothing.
        seconds_behind=round(max(0.0, (now - since).total_seconds()), 3) if since else 0.0,
        state=doing, reason=poll_state.message if failed else None,
        retry_in_seconds=round(backoff_seconds, 1) if doing == BACKING_OFF else None,
        polled_at=poll_state.polled_at, imports_per_minute=imports_per_minute(poll_state, now))


def _doing(polling: bool, failed: bool, backoff_seconds: float) -> str:
    if polling:
        return POLLING
    if not failed:
        return WAITING
    return BACKING_OFF if backoff_seconds else FAILING
