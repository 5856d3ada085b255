"""When the feed answers 304 and when 200: validators, headers, and the same-second race."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from common.caching import PUBLIC_IMMUTABLE as IMMUTABLE
from common.feed.publishing import Validators, conditional_response, last_modified_for

BODY = b"<feed xmlns='http://www.w3.org/2005/Atom'/>"
CHANGED = datetime(2026, 11, 22, 9, 30, 15, 250_000, tzinfo=timezone.utc)
LATER = CHANGED + timedelta(minutes=5)
CURRENT = Validators(etag="order-7-1795426215250000", changed_at=CHANGED)


def get(**headers) -> Request:
    return Request(EnvironBuilder(path="/feed", headers=list(headers.items())).get_environ())


class Renderer:
    """The render callable; remembers whether the feed was rendered."""

    def __init__(self):
        self.calls = 0

    def __call__(self) -> bytes:
        self.calls += 1
        return BODY


def answer(request: Request, validators: Validators = CURRENT, now: datetime = LATER):
    render = Renderer()
    return conditional_response(request, validators, now, render), render


def test_a_first_poll_gets_the_feed():
    response, render = answer(get())

    assert response.status_code == 200
    assert response.get_data() == BODY
    assert render.calls == 1


def test_the_answer_carries_validators_and_cache_headers():
    response, _ = answer(get())

    assert response.headers["ETag"] == '"order-7-1795426215250000"'
    assert response.headers["Last-Modified"] == "Sun, 22 Nov 2026 09:30:15 GMT"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Content-Type"] == "application/atom+xml"


def test_a_full_archive_page_may_be_cached_for_good_also_in_a_304():
    fresh = conditional_response(get(), CURRENT, LATER, Renderer(), cache_control=IMMUTABLE)
    revalidated = conditional_response(get(**{"If-None-Match": '"order-7-1795426215250000"'}), CURRENT, LATER,
                                       Renderer(), cache_control=IMMUTABLE)

    assert IMMUTABLE == "public, max-age=31536000, immutable"
    assert (fresh.status_code, revalidated.status_code) == (200, 304)
    assert fresh.headers["Cache-Control"] == revalidated.headers["Cache-Control"] == IMMUTABLE


def test_a_matching_etag_gets_304_without_body_or_rendering():
    response, render = answer(get(**{"If-None-Match": '"order-7-1795426215250000"'}))

    assert response.status_code == 304
    assert response.get_data() == b""
    assert render.calls == 0
    assert response.headers["ETag"] == '"order-7-1795426215250000"'


def test_a_stale_etag_gets_the_feed():
    response, render = answer(get(**{"If-None-Match": '"order-6-1795426200000000"'}))

    assert response.status_code == 200
    assert response.get_data() == BODY


@pytest.mark.parametrize("last_modified", [
    "Sun, 22 Nov 2026 09:30:15 GMT",  # what the feed announced
    "Sun, 22 Nov 2026 09:45:00 GMT",  # later than that
])
def test_if_modified_since_not_before_last_modified_gets_304(last_modified):
    response, render = answer(get(**{"If-Modified-Since": last_modified}))

    assert response.status_code == 304
    assert response.get_data() == b""
    assert render.calls == 0


def test_if_modified_since_before_last_modified_gets_the_feed():
    response, _ = answer(get(**{"If-Modified-Since": "Sun, 22 Nov 2026 09:30:14 GMT"}))

    assert response.status_code == 200
    assert response.get_data() == BODY


def test_a_matching_etag_wins_over_an_old_if_modified_since():
    response, _ = answer(get(**{"If-None-Match": '"order-7-1795426215250000"',
                                "If-Modified-Since": "Sat, 21 Nov 2026 08:00:00 GMT"}))

    assert response.status_code == 304


def test_a_stale_etag_wins_over_a_recent_if_modified_since():
    response, _ = answer(get(**{"If-None-Match": '"order-6-1795426200000000"',
                                "If-Modified-Since": "Mon, 23 Nov 2026 08:00:00 GMT"}))

    assert response.status_code == 200
    assert response.get_data() == BODY


class Orders:
    """The feed's state as order/feed.py derives validators from it: the newest order."""

    def __init__(self):
        self.newest: tuple[int, datetime] | None = None

    def place(self, at: datetime) -> None:
        number = self.newest[0] + 1 if self.newest else 1
        self.newest = (number, at)

    def validators(self) -> Validators:
        number, updated = self.newest
        return Validators(etag=f"order-{number}-{int(updated.timestamp() * 1_000_000)}", changed_at=updated)


def poll_with_if_modified_since_only(orders: Orders, now: datetime, since: str | None):
    headers = {"If-Modified-Since": since} if since else {}
    response, _ = answer(get(**headers), orders.validators(), now)
    return response


def test_an_order_in_the_second_of_the_last_poll_is_not_hidden_by_if_modified_since(clock):
    orders = Orders()
    orders.place(clock())                                 # 10:00:00.3
    clock.advance(milliseconds=200)                       # 10:00:00.5
    first = poll_with_if_modified_since_only(orders, clock(), None)
    seen = first.headers["Last-Modified"]
    clock.advance(milliseconds=300)                       # 10:00:00.8
    orders.place(clock())

    clock.advance(milliseconds=100)                       # 10:00:00.9, same second
    same_second = poll_with_if_modified_since_only(orders, clock(), seen)
    assert same_second.status_code == 200

    clock.advance(seconds=2)                              # the second is over
    later = poll_with_if_modified_since_only(orders, clock(), seen)
    assert later.status_code == 200
    assert later.get_data() == BODY

    clock.advance(seconds=5)                              # nothing new since
    idle = poll_with_if_modified_since_only(orders, clock(), later.headers["Last-Modified"])
    assert idle.status_code == 304
    assert idle.get_data() == b""


def test_in_the_running_second_a_matching_etag_still_gets_304(clock):
    orders = Orders()
    orders.place(clock())                                 # 10:00:00.3
    clock.advance(milliseconds=200)                       # 10:00:00.5
    first, _ = answer(get(), orders.validators(), clock())
    clock.advance(milliseconds=100)

    again, render = answer(get(**{"If-None-Match": first.headers["ETag"],
                                  "If-Modified-Since": first.headers["Last-Modified"]}),
                           orders.validators(), clock())

    assert again.status_code == 304
    assert render.calls == 0


def test_last_modified_never_names_a_second_that_is_still_running():
    change = datetime(2026, 11, 22, 10, 0, 0, 800_000, tzinfo=timezone.utc)

    during, settled_during = last_modified_for(change, change + timedelta(milliseconds=100))
    after, settled_after = last_modified_for(change, change + timedelta(seconds=1))

    assert during < change.replace(microsecond=0) and not settled_during
    assert after == change.replace(microsecond=0) and settled_after


def test_a_200_never_announces_a_last_modified_the_client_already_has(clock):
    """libcurl (newsboat) would take such a 200 for a 304 and keep its new ETag."""
    orders = Orders()
    orders.place(clock())                                 # 10:00:00.3
    clock.advance(milliseconds=200)
    first, _ = answer(get(), orders.validators(), clock())
    clock.advance(milliseconds=300)                       # 10:00:00.8: same second
    orders.place(clock())
    clock.advance(milliseconds=100)

    second, _ = answer(get(**{"If-None-Match": first.headers["ETag"],
                              "If-Modified-Since": first.headers["Last-Modified"]}),
                       orders.validators(), clock())

    assert second.status_code == 200
    assert "Last-Modified" not in second.headers


def test_an_empty_feed_announces_it_never_changed():
    response, _ = answer(get(), Validators(etag="empty", changed_at=None))

    assert response.headers["Last-Modified"] == "Thu, 01 Jan 1970 00:00:00 GMT"


def test_while_a_change_is_being_written_if_modified_since_proves_nothing():
    """A change committing now may carry a time in a second that is already over."""
    long_settled = Validators(etag="feed-20-7", changed_at=CHANGED, writing=True)

    response, render = answer(get(**{"If-Modified-Since": "Sun, 22 Nov 2026 09:30:15 GMT"}), long_settled)

    assert response.status_code == 200
    assert render.calls == 1


def test_while_a_change_is_being_written_a_matching_etag_still_gets_304():
    long_settled = Validators(etag="feed-20-7", changed_at=CHANGED, writing=True)

    response, _ = answer(get(**{"If-None-Match": '"feed-20-7"'}), long_settled)

    assert response.status_code == 304
