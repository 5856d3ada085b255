"""Imports per minute, kept in a consumer's status row, so that every process of the
service tells the same figure.

A row per import and its time would grow without end. The status row counts the
imports of the current window of time (WINDOW long, aligned to the clock) and of the
window before it; the imports of the last WINDOW are then the current window's count
plus the share of the one before that still lies within the last WINDOW (a sliding
window estimate: exact when imports come at an even pace).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

WINDOW = timedelta(minutes=5)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def per_minute(count: float) -> float:
    """`count` events in the last WINDOW, as a rate per minute."""
    return round(count / (WINDOW / timedelta(minutes=1)), 2)


def count_imports(status, imported: int, now: datetime) -> None:
    """Add `imported` to the window `now` lies in; a window that is over becomes the one before."""
    started = _window_of(now)
    if status.window_started != started:
        status.imports_in_window_before = _counted_in(status, started - WINDOW)
        status.window_started, status.imports_in_window = started, 0
    status.imports_in_window += imported


def imports_per_minute(status, now: datetime) -> float:
    started = _window_of(now)
    share_still_within = 1 - (now - started) / WINDOW  # of the window before this one
    return per_minute(_counted_in(status, started) + _counted_in(status, started - WINDOW) * share_still_within)


def _window_of(moment: datetime) -> datetime:
    return _EPOCH + (moment - _EPOCH) // WINDOW * WINDOW


def _counted_in(status, started: datetime) -> int:
    """The imports the row counted in the window that began at `started`."""
    if status.window_started == started:
        return status.imports_in_window
    if status.window_started == started + WINDOW:
        return status.imports_in_window_before
    return 0
