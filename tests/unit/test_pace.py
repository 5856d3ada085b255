"""Imports per minute from a consumer's status row: the count of the current window of
5 minutes and the share of the window before that still lies within the last 5."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from common.feed.pace import count_imports, imports_per_minute

WINDOW_START = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)  # windows start at 10:00, 10:05, ...


def new_row() -> SimpleNamespace:
    """A status row as a new service has it: nothing counted."""
    return SimpleNamespace(window_started=None, imports_in_window=0, imports_in_window_before=0)


def at(minutes: float) -> datetime:
    return WINDOW_START + timedelta(minutes=minutes)


def test_nothing_imported_is_no_imports_a_minute():
    assert imports_per_minute(new_row(), at(1)) == 0


def test_imports_of_the_current_window_count_whole():
    row = new_row()
    count_imports(row, 3, at(1))
    count_imports(row, 2, at(4))

    assert imports_per_minute(row, at(4.5)) == 1.0  # 5 in the last 5 minutes


def test_the_window_before_counts_for_the_share_that_still_lies_within_the_last_five_minutes():
    row = new_row()
    count_imports(row, 10, at(4))
    count_imports(row, 1, at(6))  # the next window: 10 now count as the one before

    assert imports_per_minute(row, at(6)) == 1.8  # 1 + 10 * 4/5, over 5 minutes
    assert imports_per_minute(row, at(9)) == 0.6  # 1 + 10 * 1/5
    assert imports_per_minute(row, at(10)) == 0.2  # a window later: the 1 is the one before, wholly within
    assert imports_per_minute(row, at(15)) == 0.0


def test_a_window_counted_long_ago_counts_nothing():
    row = new_row()
    count_imports(row, 10, at(1))
    count_imports(row, 2, at(31))

    assert (row.imports_in_window, row.imports_in_window_before) == (2, 0)
    assert imports_per_minute(row, at(31)) == 0.4
    assert imports_per_minute(row, at(60)) == 0.0
