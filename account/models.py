"""The account context's tables: the accounts, what revokes a token before it expires
(an account removed, a token signed out), and the failed sign-ins that slow a guesser."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import ClassVar

from sqlalchemy import Index, String, Table
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
    """Every token issued for `name` up to `removed_at` is refused, also after the name
    is given to a new account."""
    __tablename__ = "removed_account"

    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    removed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RevokedToken(Base):
    """A token signed out; kept until it would have expired anyway."""
    __tablename__ = "revoked_token"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class SignInFailure(Base):
    """One failed sign-in: the name tried, from which address, when."""
    __tablename__ = "sign_in_failure"
    __table_args__ = (Index("ix_sign_in_failure_address", "address", "failed_at"),
                      Index("ix_sign_in_failure_name", "name", "address", "failed_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    address: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime())
