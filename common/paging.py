"""Long lists a page at a time, so a page costs the same at a thousand rows or a million."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from common.errors import InputError
from common.numbers import MAX_INT, whole_number

PAGE_SIZE = 50
MAX_PAGE = MAX_INT  # more pages than any table of integer ids can fill; an offset the database takes
T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """Page `number` (from 1) of a list of `total` items, `size` to a page."""
    items: list[T]
    number: int
    size: int
    total: int

    @property
    def count(self) -> int:
        """How many pages the list has (at least one, if only an empty one)."""
        return max(1, -(-self.total // self.size))

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.size + 1 if self.items else 0

    @property
    def last_index(self) -> int:
        return (self.number - 1) * self.size + len(self.items)

    @property
    def newer(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def older(self) -> int | None:
        return self.number + 1 if self.number < self.count else None


def page_number(raw: str | None) -> int:
    """The page a client asks for with `?page=`; the first when it asks for none."""
    if raw is None:
        return 1
    number = whole_number(raw, MAX_PAGE)
    if not number:
        raise InputError(f"The page must be a whole number from 1 to {MAX_PAGE}.",
                         {"page": f"{raw!r} is not a page number."})
    return number


def fetch_page(session: Session, query: Select, number: int, size: int = PAGE_SIZE) -> Page:
    """Page `number` of what `query` selects, in its order."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    items = list(session.scalars(query.limit(size).offset((number - 1) * size)))
    return Page(items, number, size, total)
