"""Accounts and signing in: the account context's use cases, free of HTTP.

Passwords are kept as argon2id hashes (argon2-cffi), checked a few at a time
(passwords.py). Sign-in attempts are counted in the database before the password is
checked (limits.py), so that every process of the service slows the same guesser."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from common.auth import revoked as revocation, tokens
from common.auth.keys import SigningKey
from common.auth.revoked import SERVICE_ROLE
from common.db import Database, insert_or_ignore
from common.text import flaw, unstorable
from account import limits
from account.models import NAME_LENGTH, Account, RemovedAccount, RevokedToken
from account.passwords import Passwords

# The roles an account may have (the services' access tables name them; `service`, the
# services' own accounts, may read the list of revoked tokens).
ROLES = ("sales", "accounting", "logistics", "admin", "feed-reader", SERVICE_ROLE)
MIN_PASSWORD_LENGTH = 8
NAME = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._@-]{{0,{NAME_LENGTH - 1}}}")


class AccountError(ValueError):
    """An account that cannot be added or found, with a sentence a person understands."""


class UnusableCredentials(ValueError):
    """A name or password that no account has, whatever the password: the sentence says why."""


class TooManyAttempts(Exception):
    """Sign-in refused without a look at the password until `retry_after` has passed."""

    def __init__(self, retry_after: timedelta):
        super().__init__(f"Too many sign-ins from here; try again in {_wait_in_words(retry_after)}.")
        self.retry_after = retry_after

    @property
    def seconds(self) -> int:
        return max(1, int(-(-self.retry_after.total_seconds() // 1)))


@dataclass(frozen=True)
class Revoked:
    """What makes a token unusable before it expires."""
    accounts: list[RemovedAccount]
    tokens: list[RevokedToken]


def add_account(session: Session, name: str, password: str, roles, now: datetime,
                hashes: PasswordHasher) -> Account:
    if not NAME.fullmatch(name):
        raise AccountError(f"A name has 1 to {NAME_LENGTH} letters, digits, dots, dashes, underscores or @, "
                           "and starts with a letter or digit.")
    roles = sorted(set(roles))
    unknown = [role for role in roles if role not in ROLES]
    if not roles or unknown:
        raise AccountError(f"{'Unknown role ' + ', '.join(unknown) if unknown else 'No role'}: "
                           f"an account has one or more of {', '.join(ROLES)}.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password has {len(password)} characters; it needs at least {MIN_PASSWORD_LENGTH}.")
    if session.get(Account, name) is not None:
        raise AccountError(f"There is already an account named {name}.")
    account = Account(name=name, password_hash=hashes.hash(password), roles=" ".join(roles), created_at=now)
    session.add(account)
    return account


def remove_account(session: Session, name: str, now: datetime) -> None:
    """Remove the account; every token issued for it until now is refused from now on."""
    account = session.get(Account, name)
    if account is None:
        raise AccountError(f"There is no account named {name}.")
    session.delete(account)
    session.merge(RemovedAccount(name=name, removed_at=now))


def sign_out_everywhere(session: Session, name: str, now: datetime) -> None:
    """Refuse every token issued for `name` until now, wherever it is used; the account
    stays, and signing in again gives a token that works."""
    session.merge(RemovedAccount(name=name, removed_at=now))


def accounts(session: Session) -> list[Account]:
    return list(session.scalars(select(Account).order_by(Account.name)))


def any_account(session: Session) -> bool:
    return session.scalar(select(Account.name).limit(1)) is not None


def account(session: Session, name: str) -> Account | None:
    return session.get(Account, name)


def sign_in(db: Database, name: str, password: str, address: str, now: datetime,
            passwords: Passwords) -> Account | None:
    """The account when `password` is its own; None when it is not or there is no such
    account.

    The attempt is counted first, in a transaction of its own: TooManyAttempts when
    `address` has tried too often, UnusableCredentials when the name or the password
    holds what no account's does (counted as a failure all the same). The password is
    then checked outside any transaction, so that the slow hash holds no lock; Busy
    when this process has no turn for it. A right one is taken back from the failures,
    and its hash made again if it was made with weaker parameters, in a last one.
    """
    with db.session() as session:
        counted = limits.count_attempt(session, name, address, now)
    if counted.began:
        with db.session() as session:
            limits.forget_stale(session, now)
    if counted.wait is not None:
        raise TooManyAttempts(counted.wait)
    _check_usable(name, password)
    with db.session() as session:
        found = session.get(Account, name) if len(name) <= NAME_LENGTH else None
    if not passwords.matches(found.password_hash if found else None, password) or found is None:
        return None
    with db.session() as session:
        limits.forgive(session, name, address)
        signed_in = session.get(Account, name)
        if signed_in is not None and passwords.needs_rehash(signed_in.password_hash):
            signed_in.password_hash = passwords.hash(password)
    return signed_in


def token_for(key: SigningKey, signed_in: Account, lifetime: timedelta, now: datetime) -> tuple[str, datetime]:
    """A program's token for `signed_in` and when it expires (whole seconds, as the token says)."""
    return tokens.issue(key, signed_in.name, signed_in.role_set, lifetime, now), _whole_seconds(now + lifetime)


def session_for(key: SigningKey, signed_in: Account, idle: timedelta, now: datetime) -> tuple[str, datetime]:
    """A browser's token for `signed_in`, who signs in `now`, and when it expires: after
    `idle` unless it is renewed."""
    lifetime = min(idle, tokens.SESSION_LIMIT)
    return (tokens.issue(key, signed_in.name, signed_in.role_set, lifetime, now, signed_in_at=now),
            _whole_seconds(now + lifetime))


def renewed_session(key: SigningKey, session: tokens.Identity, idle: timedelta,
                    now: datetime) -> tuple[str, datetime]:
    """The browser's token `session` renewed for another `idle`, under its id (signing
    out revokes every copy) and never past the end of its sign-in; and when it expires."""
    assert session.signed_in_at is not None  # a browser's token
    lifetime = min(idle, session.session_ends_at - now)
    return (tokens.issue(key, session.name, session.roles, lifetime, now, signed_in_at=session.signed_in_at,
                         token_id=session.token_id),
            _whole_seconds(now + lifetime))


def _whole_seconds(moment: datetime) -> datetime:
    return datetime.fromtimestamp(int(moment.timestamp()), timezone.utc)


def revoke(session: Session, token_id: str, expires_at: datetime, now: datetime) -> None:
    """Refuse the token from now on; the list forgets the tokens that have expired."""
    session.execute(delete(RevokedToken).where(RevokedToken.expires_at <= now))
    insert_or_ignore(session, RevokedToken.__table__, {"id": token_id, "expires_at": expires_at})


def revoked(session: Session, now: datetime) -> Revoked:
    return Revoked(
        list(session.scalars(select(RemovedAccount).order_by(RemovedAccount.name))),
        list(session.scalars(select(RevokedToken).where(RevokedToken.expires_at > now)
                             .order_by(RevokedToken.expires_at, RevokedToken.id))))


def refusal(session: Session, identity: tokens.Identity) -> str | None:
    """Why the token is no longer accepted (signed out, or issued for an account removed
    since); None when it is."""
    removed = session.get(RemovedAccount, identity.name)
    return revocation.refusal(identity, session.get(RevokedToken, identity.token_id) is not None,
                              removed.removed_at if removed is not None else None)


def _check_usable(name: str, password: str) -> None:
    for label, problem in (("name", flaw(name)), ("password", unstorable(password))):
        if problem:
            raise UnusableCredentials(f"The {label} holds {problem}, which no account's {label} has.")


def _wait_in_words(wait: timedelta) -> str:
    seconds = max(1, int(-(-wait.total_seconds() // 1)))
    if seconds < 60:
        return "1 second" if seconds == 1 else f"{seconds} seconds"
    minutes = -(-seconds // 60)
    return "1 minute" if minutes == 1 else f"{minutes} minutes"
