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


def count_imports(state, imported: int, now: datetime) -> None:
    """Add `imported` to the window `now` lies in; a window that is over becomes the one before."""
    started = _window_of(now)
    if state.window_started != started:
        state.imports_in_window_before = _counted_in(state, started - WINDOW)
        state.window_started, state.imports_in_window = started, 0
    state.imports_in_window += imported


def imports_per_minute(state, now: datetime) -> float:
    started = _window_of(now)
    share_still_within = 1 - (now - started) / WINDOW  # of the window before this one
    return per_minute(_counted_in(state, started) + _counted_in(state, started - WINDOW) * share_still_within)


def _window_of(moment: datetime) -> datetime:
    return _EPOCH + (moment - _EPOCH) // WINDOW * WINDOW


def _counted_in(state, started: datetime) -> int:
    """The imports the row counted in the window that began at `started`."""
    if state.window_started == started:
        return state.imports_in_window
    if state.window_started == started + WINDOW:
        return state.imports_in_window_before
    return 0
