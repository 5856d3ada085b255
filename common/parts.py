"""What an app holds beside its routes (its database, what follows a feed, what holds
waiting requests), reached through typed accessors instead of string keys: the
composition root puts them in, routes, commands and tests take them out."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from apscheduler.schedulers.base import BaseScheduler
from flask import Flask, current_app

from common.db import Database
from common.feed.rebuilding import Rebuilder
from common.feed.rendering import LastRendered
from common.feed.running import Consumer, Following
from common.feed.waiting import LongPoll

_KEY = "parts"
Part = TypeVar("Part")


@dataclass
class Parts:
    db: Database
    consumer: Consumer | None = None  # a service that follows a feed
    rebuilder: Rebuilder | None = None  # ... and can rebuild its data from it
    following: Following | None = None  # its loop: waiting on the feed between polls
    schedule: BaseScheduler | None = None  # or polls on a schedule instead
    long_poll: LongPoll | None = None  # a service that publishes a feed: the requests waiting on it
    subscriptions: LastRendered | None = None  # ... and its subscription documents, rendered once


def hold(app: Flask, db: Database) -> Parts:
    """Give `app` its parts, the database first; the others are added as they are built."""
    held = app.extensions[_KEY] = Parts(db)
    return held


def parts(app: Flask | None = None) -> Parts:
    """The parts of `app`, or of the app of the request or command under way."""
    return (app or current_app).extensions[_KEY]


def database(app: Flask | None = None) -> Database:
    return parts(app).db


def consumer(app: Flask | None = None) -> Consumer:
    return _present(parts(app).consumer, "follows no feed")


def rebuilder(app: Flask | None = None) -> Rebuilder:
    return _present(parts(app).rebuilder, "rebuilds nothing")


def long_poll(app: Flask | None = None) -> LongPoll:
    return _present(parts(app).long_poll, "publishes no feed")


def subscriptions(app: Flask | None = None) -> LastRendered:
    return _present(parts(app).subscriptions, "publishes no feed")


def _present(part: Part | None, missing: str) -> Part:
    if part is None:
        raise LookupError(f"this app {missing}")
    return part
