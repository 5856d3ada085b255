"""Long-poll without I/O: reading `Prefer: wait` (RFC 7240) and holding a request
until news, its wait's end, or the server's stop; answers come from a stand-in."""
from __future__ import annotations

import threading
from typing import Any

import pytest
from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from common.feed.waiting import LongPoll, Sharing, requested_wait
from tests.support.waiting import until

PATIENCE = 5.0


@pytest.mark.parametrize("prefer, seconds", [
    (["wait=10"], 10),
    (["respond-async, wait=5"], 5),
    (['wait="7"'], 7),
    (["WAIT = 3"], 3),
    (["wait=4; foo=bar"], 4),
    (['return=minimal; note="a, b", wait=6'], 6),
    (["wait=2", "wait=9"], 2),  # the first occurrence counts
    (["wait=1, wait=9"], 1),
    ([], None),
    (["respond-async"], None),
    (["wait=soon"], None),
    (["wait=-1"], None),
    (["wait=1.5"], None),
    (["wait=²"], None),
    (["waiting=3"], None),
])
def test_the_wait_a_client_prefers(prefer, seconds):
    assert requested_wait(Headers([("Prefer", value) for value in prefer])) == seconds


class Feed:
    """A stand-in for the feed's conditional answer: 304 while its version is the one
    the client has, 200 once it changed."""

    def __init__(self):
        self.version = 1
        self.reads = 0

    def answer(self) -> Response:
        self.reads += 1
        return Response(status=304 if self.version == 1 else 200)


def feed_request(wait: int | None = 10, etag: str | None = '"v1"', client: str = "192.0.2.1") -> Request:
    headers = {}
    if wait is not None:
        headers["Prefer"] = f"wait={wait}"
    if etag is not None:
        headers["If-None-Match"] = etag
    return Request(EnvironBuilder(path="/feed", headers=list(headers.items()),
                                  environ_base={"REMOTE_ADDR": client}).get_environ())


def respond_in_thread(long_poll: LongPoll, request: Request, feed: Feed, credentialed: bool = False) -> dict:
    result: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: result.setdefault(
        "answer", long_poll.respond(request, feed.answer, credentialed)), daemon=True)
    thread.start()
    result["thread"] = thread
    return result


def test_news_wakes_a_held_request_and_it_answers_anew():
    long_poll, feed = LongPoll(limit=2), Feed()
    result = respond_in_thread(long_poll, feed_request(), feed)
    until(lambda: long_poll.held == 1, "one request held", PATIENCE)

    feed.version = 2
    long_poll.notify()
    result["thread"].join(PATIENCE)

    assert result["answer"].status_code == 200
    assert result["answer"].headers["Preference-Applied"] == "wait=10"
    assert long_poll.held == 0


def test_news_that_changed_nothing_keeps_it_waiting():
    long_poll, feed = LongPoll(limit=2), Feed()
    result = respond_in_thread(long_poll, feed_request(), feed)
    until(lambda: long_poll.held == 1, "one request held", PATIENCE)

    long_poll.notify()
    until(lambda: feed.reads == 2, "the feed read again", PATIENCE)

    assert result["thread"].is_alive()
    long_poll.stop()
    result["thread"].join(PATIENCE)
    assert result["answer"].status_code == 304


def test_a_commit_between_the_first_read_and_the_wait_is_not_missed():
    long_poll, feed = LongPoll(limit=1), Feed()

    def answer_while_news_arrives() -> Response:
        response = feed.answer()
        if feed.reads == 1:  # just after the first read: an entry commits
            feed.version = 2
            long_poll.notify()
        return response

    answer = long_poll.respond(feed_request(wait=30), answer_while_news_arrives)

    assert answer.status_code == 200


def test_without_a_place_or_without_the_preference_or_an_etag_it_answers_at_once():
    feed = Feed()
    assert "Preference-Applied" not in LongPoll(limit=0).respond(feed_request(), feed.answer).headers
    assert "Preference-Applied" not in LongPoll(limit=1).respond(feed_request(wait=None), feed.answer).headers
    assert LongPoll(limit=1).respond(feed_request(etag=None), feed.answer).status_code == 304
    stopped = LongPoll(limit=1)
    stopped.stop()
    assert "Preference-Applied" not in stopped.respond(feed_request(), feed.answer).headers
    assert feed.reads == 4


def test_the_wait_ends_with_one_more_read():
    long_poll, feed = LongPoll(limit=1), Feed()

    answer = long_poll.respond(feed_request(wait=1), feed.answer)

    assert (answer.status_code, answer.headers["Preference-Applied"], feed.reads) == (304, "wait=1", 2)


def test_a_request_counts_as_held_only_once_its_first_answer_found_nothing_new():
    """Held means waiting for news: a client that waits for it before it changes the
    feed must not be told so while the request still reads its first answer."""
    long_poll, feed, reading, may_answer = LongPoll(limit=2), Feed(), threading.Event(), threading.Event()

    def first_read_takes_a_while() -> Response:
        reading.set()
        may_answer.wait(PATIENCE)
        return feed.answer()

    result: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: result.setdefault(
        "answer", long_poll.respond(feed_request(), first_read_takes_a_while)), daemon=True)
    thread.start()
    until(reading.is_set, "the feed being read", PATIENCE)

    assert long_poll.held == 0
    may_answer.set()
    until(lambda: long_poll.held == 1, "one request held", PATIENCE)
    feed.version = 2
    long_poll.notify()
    thread.join(PATIENCE)
    assert result["answer"].status_code == 200 and long_poll.held == 0


def test_places_are_shared_a_few_per_address_and_some_kept_for_credentials():
    """Of 6 places 3 are kept for requests with a credential; the other 3 go at most 2 to
    an address. Whoever finds no place is answered at once, as if it had not asked."""
    long_poll, feed = LongPoll(limit=6, sharing=Sharing(kept=3, per_address=2)), Feed()
    held = [respond_in_thread(long_poll, feed_request(client=client), feed)
            for client in ("192.0.2.1", "192.0.2.1", "192.0.2.2")]
    until(lambda: long_poll.held == 3, "three anonymous requests held", PATIENCE)

    third_from_one = long_poll.respond(feed_request(client="192.0.2.2"), feed.answer)
    from_another = long_poll.respond(feed_request(client="192.0.2.3"), feed.answer)
    assert "Preference-Applied" not in third_from_one.headers and "Preference-Applied" not in from_another.headers
    held += [respond_in_thread(long_poll, feed_request(client="192.0.2.1"), feed, credentialed=True)
             for _ in range(3)]
    until(lambda: long_poll.held == 6, "three requests with a credential held besides", PATIENCE)

    feed.version = 2
    long_poll.notify()
    for result in held:
        result["thread"].join(PATIENCE)
        assert result["answer"].status_code == 200

    feed.version = 1  # the places given back are free again
    again = [respond_in_thread(long_poll, feed_request(client="192.0.2.1"), feed) for _ in range(2)]
    until(lambda: long_poll.held == 2, "an address's places taken again", PATIENCE)
    feed.version = 2
    long_poll.notify()
    for result in again:
        result["thread"].join(PATIENCE)


def test_fair_sharing_keeps_half_the_places_and_two_per_address():
    assert Sharing.fair(12) == Sharing(kept=6, per_address=2)
