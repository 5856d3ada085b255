"""The portable column types of common.db, stored in and read back from SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import exc
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.db import Database, Money, UTCDateTime


class Base(DeclarativeBase):
    pass


class Row(Base):
    __tablename__ = "row"

    id: Mapped[int] = mapped_column(primary_key=True)
    amount: Mapped[Decimal | None] = mapped_column(Money())
    moment: Mapped[datetime | None] = mapped_column(UTCDateTime())


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    Base.metadata.create_all(database.engine)
    yield database
    database.dispose()


def store_and_read(db: Database, **values) -> Row:
    with db.session() as session:
        session.add(Row(id=1, **values))
    with db.session() as session:  # a new session: the value comes from the file
        return session.get(Row, 1)


def test_money_comes_back_exactly(db):
    amount = Decimal("0.10") * 3

    read = store_and_read(db, amount=amount)

    assert isinstance(read.amount, Decimal)
    assert read.amount == Decimal("0.30")
    assert str(read.amount) == "0.30"


def test_money_sums_of_many_cents_stay_exact(db):
    amount = sum([Decimal("0.10")] * 10, Decimal("1234567.89"))

    read = store_and_read(db, amount=amount)

    assert str(read.amount) == "1234568.89"


def test_aware_datetime_comes_back_as_the_same_instant_in_utc(db):
    berlin_summer = timezone(timedelta(hours=2))
    moment = datetime(2026, 7, 1, 14, 0, 0, 123456, tzinfo=berlin_summer)

    read = store_and_read(db, moment=moment)

    assert read.moment == moment
    assert read.moment.utcoffset() == timedelta(0)
    assert (read.moment.hour, read.moment.microsecond) == (12, 123456)


def test_naive_datetime_is_refused_and_nothing_is_stored(db):
    with pytest.raises(exc.StatementError, match="naive"):
        store_and_read(db, moment=datetime(2026, 7, 1, 14, 0))

    with db.session() as session:
        assert session.get(Row, 1) is None
