"""Following a feed from a thread: poll, wait on the feed, poll again; back off after
failures; pause where the feed does not wait. A fake consumer, no HTTP, no database."""
from __future__ import annotations

import threading
from contextlib import nullcontext
import time
from types import SimpleNamespace
from typing import Any

from common.feed.running import Consumer, Following
from msatom.stack import wait_until


class FakeConsumer(Consumer):
    """Notes what the loop asks of it; `waits` says what each wait_for_news answers
    (True: the feed held the request) and `backoff` the back-off after each poll."""

    def __init__(self, waits: list[bool], backoff: list[float] | None = None):
        self.client: Any = SimpleNamespace(feed_url="http://feed.test/feed")
        self.calls: list[str] = []
        self.waits, self.backoff = list(waits), list(backoff or [])
        self.resume_at = 0.0
        self.closed = threading.Event()
        self.done = threading.Event()

    def poll(self, wait=True):
        self.calls.append("poll" if wait else "poll unless another process polls")
        self.resume_at = time.monotonic() + (self.backoff.pop(0) if self.backoff else 0.0)

    def backoff_seconds(self) -> float:
        return max(0.0, self.resume_at - time.monotonic())

    def wait_for_news(self, seconds: float) -> bool:
        self.calls.append(f"wait {seconds:g}")
        if not self.waits:
            self.done.set()
            self.closed.wait(5)  # as a held request does until the test stops the loop
            return True
        return self.waits.pop(0)

    def close(self) -> None:
        self.calls.append("close")
        self.closed.set()

    def leading(self, seconds: float):
        return nullcontext(True)  # one process: it leads


def follow(consumer: FakeConsumer, interval: float = 0.01) -> list[str]:
    following = Following(consumer, wait_seconds=25, interval_seconds=interval).start()
    assert consumer.done.wait(5), consumer.calls
    following.stop()
    return consumer.calls


def test_it_polls_and_then_waits_on_the_feed_again_and_again():
    calls = follow(FakeConsumer(waits=[True, True]))

    assert calls[:6] == ["poll", "wait 25", "poll", "wait 25", "poll", "wait 25"]
    assert calls[-1] == "close"


def test_where_the_feed_does_not_wait_it_pauses_the_interval_between_polls():
    consumer = FakeConsumer(waits=[False, False])
    began = time.monotonic()

    calls = follow(consumer, interval=0.2)

    assert calls[:5] == ["poll", "wait 25", "poll", "wait 25", "poll"]
    assert time.monotonic() - began >= 0.4  # two pauses of the interval, not a tight loop


def test_after_a_failed_poll_it_waits_out_the_back_off_before_it_polls_again():
    consumer = FakeConsumer(waits=[], backoff=[0.3, 0.0])
    following = Following(consumer, wait_seconds=25, interval_seconds=0.01).start()

    wait_until(lambda: consumer.calls.count("poll") == 2, 5, "the second poll")
    assert consumer.done.wait(5)
    following.stop()

    assert consumer.calls[:3] == ["poll", "poll", "wait 25"]  # no wait on the feed while backing off


def test_stopping_closes_the_consumer_so_that_no_poll_starts_after_it():
    consumer = FakeConsumer(waits=[])
    following = Following(consumer, wait_seconds=25, interval_seconds=0.01).start()
    assert consumer.done.wait(5)

    following.stop()

    assert consumer.calls[-1] == "close" and consumer.calls.count("poll") == 1


def test_a_failure_in_one_round_does_not_end_the_following():
    consumer = FakeConsumer(waits=[True])
    original = consumer.wait_for_news
    failures = [RuntimeError("the unexpected")]

    def failing_once(seconds):
        if failures:
            raise failures.pop()
        return original(seconds)

    consumer.wait_for_news = failing_once

    calls = follow(consumer)

    assert calls[:4] == ["poll", "poll", "wait 25", "poll"]


def test_it_waits_for_a_poll_of_another_process_rather_than_waiting_on_the_feed_meanwhile():
    """Waiting on the feed with the validators from before another process's poll
    would be answered at once, again and again, until that poll ends."""
    calls = follow(FakeConsumer(waits=[True]))

    assert "poll unless another process polls" not in calls
