"""What a consumer's page says of its following of the feed, in each state."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from common.poll_words import FeedLabels, ago, poll_words, within

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
LABELS = FeedLabels(source="the order service", entries="order changes")


def state(outcome=None, position=0, pending=0, message=None, polled_seconds_ago=4.0, imported=0):
    polled_at = NOW - timedelta(seconds=polled_seconds_ago) if outcome else None
    return SimpleNamespace(outcome=outcome, position=position, pending=pending, message=message,
                           polled_at=polled_at, imported=imported)


def status(row, polling=False, next_try=None):
    return poll_words(row, polling, next_try, NOW, LABELS)


def test_before_the_first_check_it_says_so():
    told = status(state())
    assert (told.headline, told.progress, told.outcome) == ("Not checked yet", "", "Not checked yet")
    assert told.checked_seconds_ago is None and told.next_try_seconds is None
    assert status(state(), polling=True).headline == "Checking now"


@pytest.mark.parametrize("outcome, words", [("200", "New order changes read"), ("304", "Nothing new")])
def test_up_to_date_tells_when_it_checked_and_how_much_it_read(outcome, words):
    told = status(state(outcome, position=60, imported=3))
    assert (told.tone, told.headline, told.progress) == ("fresh", "Up to date", "60 of 60 order changes read")
    assert told.checked_seconds_ago == 4.0
    assert (told.outcome, told.position, told.imported) == (words, "60 of 60", 3)


def test_behind_it_says_how_far_it_has_come_of_the_newest_it_saw():
    told = status(state("304", position=40, pending=20), polling=True)
    assert (told.tone, told.headline, told.progress, told.position) == (
        "behind", "Catching up", "40 of 60 order changes read", "40 of 60")


def test_failing_it_names_the_source_the_reason_and_the_next_try_and_claims_no_count():
    told = status(state("error", position=40, message="http://o/feed cannot be reached (ConnectionError)."),
                  next_try=8.0)
    assert (told.tone, told.headline, told.progress) == ("failing", "Cannot read from the order service", "")
    assert told.next_try_seconds == 8.0
    assert told.outcome == "Could not read from the order service: http://o/feed cannot be reached (ConnectionError)."
    assert told.position == "40 of an unknown number (the feed cannot be read now)"


def test_failing_part_way_the_newest_seen_is_a_lower_bound():
    told = status(state("error", position=40, pending=20, message="HTTP 500"), next_try=2.0)
    assert told.position == "40 of at least 60"
    assert told.headline == "Cannot read from the order service" and told.progress == ""


def test_while_it_tries_again_it_promises_no_next_try():
    assert status(state("error", position=40, message="down"), polling=True, next_try=8.0).next_try_seconds is None


@pytest.mark.parametrize("seconds, since, until", [
    (0.4, "just now", "now"), (4.9, "4 s ago", "in 4 s"), (60, "1 min ago", "in 1 min"),
    (3 * 3600 + 5, "3 h ago", "in 3 h"), (2 * 86400, "2 d ago", "in 2 d")])
def test_times_read_as_a_person_says_them(seconds, since, until):
    assert (ago(seconds), within(seconds)) == (since, until)
