"""Accounts and signing in: the account context's use cases, free of HTTP.

Passwords are kept as argon2id hashes (argon2-cffi). Failed sign-ins are counted in the
database, so that every process of the service slows the same guesser: per name and
client address, and per address across names, so that nobody else is locked out."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from common.auth import revoked as revocation, tokens
from common.db import insert_or_ignore
from account.models import NAME_LENGTH, Account, RemovedAccount, RevokedToken, SignInFailure

# The roles an account may have (the services' access tables name them); `service` is
# not one: the services sign their own tokens with it.
ROLES = ("sales", "accounting", "logistics", "admin", "feed-reader")
MIN_PASSWORD_LENGTH = 8
NAME = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._@-]{{0,{NAME_LENGTH - 1}}}")
FAILURE_WINDOW = timedelta(minutes=15)
FAILURES_PER_NAME = 5  # from one address, within the window
FAILURES_PER_ADDRESS = 20  # across names, within the window
# argon2id with the library's recommended parameters.
STRONG_HASHES = PasswordHasher()
# The same at its lowest cost, for tests alone: production refuses it (TEST_PASSWORD_HASHES).
TEST_HASHES = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def hasher(test_hashes: bool) -> PasswordHasher:
    """What hashes new passwords: TEST_HASHES where the settings ask for them."""
    return TEST_HASHES if test_hashes else STRONG_HASHES


class AccountError(ValueError):
    """An account that cannot be added or found, with a sentence a person understands."""


class TooManyFailures(Exception):
    """Sign-in refused without a look at the password until `retry_after` has passed."""

    def __init__(self, retry_after: timedelta):
        super().__init__(f"Too many failed sign-ins; try again in {_minutes(retry_after)}.")
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


def accounts(session: Session) -> list[Account]:
    return list(session.scalars(select(Account).order_by(Account.name)))


def any_account(session: Session) -> bool:
    return session.scalar(select(Account.name).limit(1)) is not None


def account(session: Session, name: str) -> Account | None:
    return session.get(Account, name)


def sign_in(session: Session, name: str, password: str, address: str, now: datetime,
            hashes: PasswordHasher) -> Account | None:
    """The account when `password` is its own; None (a failure counted) when it is not or
    there is no such account. TooManyFailures while `address` has failed too often."""
    wait = _wait(session, name, address, now)
    if wait is not None:
        raise TooManyFailures(wait)
    found = session.get(Account, name) if len(name) <= NAME_LENGTH else None
    if not _matches(hashes, found.password_hash if found else _decoy_hash(hashes), password) or found is None:
        session.execute(delete(SignInFailure).where(SignInFailure.failed_at <= now - FAILURE_WINDOW))
        session.add(SignInFailure(name=name[:NAME_LENGTH], address=address, failed_at=now))
        return None
    if hashes.check_needs_rehash(found.password_hash):  # hashed with parameters since made stronger
        found.password_hash = hashes.hash(password)
    session.execute(delete(SignInFailure).where(SignInFailure.name == name, SignInFailure.address == address))
    return found


def token_for(key: str, signed_in: Account, lifetime: timedelta, now: datetime) -> tuple[str, datetime]:
    """A token for `signed_in` and when it expires (whole seconds, as the token says)."""
    expires_at = datetime.fromtimestamp(int((now + lifetime).timestamp()), timezone.utc)
    return tokens.issue(key, signed_in.name, signed_in.role_set, lifetime, now), expires_at


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


def _wait(session: Session, name: str, address: str, now: datetime) -> timedelta | None:
    """How long `address` must wait before it may try `name` again; None: it may now."""
    recent = select(SignInFailure.failed_at).where(SignInFailure.address == address,
                                                   SignInFailure.failed_at > now - FAILURE_WINDOW)
    waits = [_until_below(list(session.scalars(query.order_by(SignInFailure.failed_at))), limit, now)
             for query, limit in ((recent.where(SignInFailure.name == name[:NAME_LENGTH]), FAILURES_PER_NAME),
                                  (recent, FAILURES_PER_ADDRESS))]
    return max((wait for wait in waits if wait is not None), default=None)


def _until_below(times: list[datetime], limit: int, now: datetime) -> timedelta | None:
    """How long until fewer than `limit` of the failures at `times` lie within the window."""
    if len(times) < limit:
        return None
    return times[len(times) - limit] + FAILURE_WINDOW - now


def _matches(hashes: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return hashes.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _decoy_hash(hashes: PasswordHasher) -> str:
    """A hash to check a password against when the name has no account, so that the
    answer takes as long as for one that has."""
    return hashes.hash("no account has this password")


def _minutes(wait: timedelta) -> str:
    minutes = max(1, int(-(-wait.total_seconds() // 60)))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"
