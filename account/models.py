"""The account context's tables: the accounts, what revokes a token before it expires
(an account removed, a token signed out), and the sign-in attempts counted to slow a guesser."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import ClassVar

from sqlalchemy import String, Table
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.db import UTCDateTime

MIGRATIONS = Path(__file__).with_name("migrations") / "versions"
NAME_LENGTH = 64


class Base(DeclarativeBase):
    __table__: ClassVar[Table]  # each model maps a table (DeclarativeBase types it as any FROM clause)


class Account(Base):
    __tablename__ = "account"

    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id, with its parameters and salt
    roles: Mapped[str] = mapped_column(String(200))  # space-separated
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(self.roles.split())


class RemovedAccount(Base):
    """Every token issued for `name` up to `removed_at` is refused: the account was
    removed (also when the name is given to a new account later), or signed out
    everywhere."""
    __tablename__ = "removed_account"

    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    removed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RevokedToken(Base):
    """A token signed out; kept until it would have expired anyway."""
    __tablename__ = "revoked_token"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class SignInCount(Base):
    """The sign-in attempts counted under one key since its window began. The key is a
    digest of what it counts (a name tried from an address, an address), so that the
    table keeps neither names nor addresses."""
    __tablename__ = "sign_in_count"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int]
    since: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
