"""How often an address may try to sign in, counted in the database so that every
process of the service holds the limits together.

An attempt is counted before its password is checked, in a transaction of its own:
the database adds it to each count atomically (an upsert), so that attempts made in
parallel cannot all pass a limit that each would see unreached. A count lasts a window
from its first attempt; a sign-in that succeeds takes its attempt back from the
failures. Failures are limited per name tried from an address, so that a guesser locks
nobody else out, and per address across names; every attempt, right or wrong, is
limited per address too, so that even right passwords cannot keep the hashing busy."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, literal, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from account.models import SignInCount


@dataclass(frozen=True)
class Limit:
    """At most `most` attempts within `window` of the first, per the key it counts under."""
    kind: str
    most: int
    window: timedelta


FAILURES_OF_A_NAME = Limit("failures of a name from an address", 5, timedelta(minutes=15))
FAILURES_FROM_AN_ADDRESS = Limit("failures from an address", 20, timedelta(minutes=15))
ATTEMPTS_FROM_AN_ADDRESS = Limit("attempts from an address", 60, timedelta(minutes=1))
LONGEST_WINDOW = max(FAILURES_OF_A_NAME.window, FAILURES_FROM_AN_ADDRESS.window, ATTEMPTS_FROM_AN_ADDRESS.window)


@dataclass(frozen=True)
class Counted:
    """An attempt counted: how long its address must wait (None: it need not), and
    whether a count began anew with it (the time to forget the stale ones)."""
    wait: timedelta | None
    began: bool


def count_attempt(session: Session, name: str, address: str, now: datetime) -> Counted:
    """Count an attempt to sign in as `name` from `address`."""
    table = SignInCount.__table__
    moment = literal(now, table.c.since.type)
    module = {"postgresql": postgresql, "sqlite": sqlite}[session.get_bind().dialect.name]
    waits, began = [], False
    for limit, key in _keys(name, address):
        stale = table.c.since <= now - limit.window
        statement = module.insert(table).values(key=key, count=1, since=moment).on_conflict_do_update(
            index_elements=[table.c.key],
            set_={"count": case((stale, 1), else_=table.c.count + 1), "since": case((stale, moment), else_=table.c.since)},
        ).returning(table.c.count, table.c.since)
        count, since = session.execute(statement).one()
        began = began or count == 1
        if count > limit.most:
            waits.append(since + limit.window - now)
    return Counted(max(waits, default=None), began)


def forget_stale(session: Session, now: datetime) -> None:
    """Drop the counts whose window has passed: in a transaction of its own, which holds
    no count while it waits for one."""
    session.execute(delete(SignInCount).where(SignInCount.since <= now - LONGEST_WINDOW))


def forgive(session: Session, name: str, address: str) -> None:
    """The attempt signed in: the name's failures from the address are forgotten, and
    the attempt is no failure of the address."""
    session.execute(delete(SignInCount).where(SignInCount.key == _key(FAILURES_OF_A_NAME, name, address)))
    session.execute(update(SignInCount).where(SignInCount.key == _key(FAILURES_FROM_AN_ADDRESS, "", address),
                                              SignInCount.count > 0).values(count=SignInCount.count - 1))


def _keys(name: str, address: str) -> list[tuple[Limit, str]]:
    return [(FAILURES_OF_A_NAME, _key(FAILURES_OF_A_NAME, name, address)),
            (FAILURES_FROM_AN_ADDRESS, _key(FAILURES_FROM_AN_ADDRESS, "", address)),
            (ATTEMPTS_FROM_AN_ADDRESS, _key(ATTEMPTS_FROM_AN_ADDRESS, "", address))]


def _key(limit: Limit, name: str, address: str) -> str:
    """A digest of what `limit` counts; a name sent with any characters has one."""
    counted = "\0".join((limit.kind, address, name)).encode("utf-8", "surrogatepass")
    return hashlib.sha256(counted).hexdigest()
