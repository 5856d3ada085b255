"""Lists that find things: the status and the words a URL's query asks for (`?status=`,
`?q=`), the rows of a query they select, and how many rows each status has. Each list
names its own columns (`Columns`); this module knows none of them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, func, or_
from sqlalchemy.orm import Session

from common.errors import InputError
from common.numbers import whole_number
from common.text import flaw

MAX_SEARCH = 100  # characters: more than a name and a number; a longer search is a mistake
LIKE_ESCAPE = "\\"
ANY_HINT = "a number or a name"


@dataclass(frozen=True)
class Columns:
    """What a list is searched by: the column its status filter reads (one of `statuses`),
    the number a word of digits finds, the text columns where any word is looked for,
    and what to search by in the words of a refusal ("a number or a name")."""
    status: SQLColumnExpression
    statuses: tuple[str, ...]
    number: SQLColumnExpression
    text: tuple[SQLColumnExpression, ...]
    hint: str = ANY_HINT


@dataclass(frozen=True)
class Search:
    """Which rows a list shows: those of `status` (None: every status) that hold every
    word of `text`, each in one of the columns searched."""
    status: str | None = None
    text: str = ""

    @property
    def words(self) -> list[str]:
        return self.text.split()

    @property
    def active(self) -> bool:
        return self.status is not None or bool(self.words)

    def args(self, **more) -> dict:
        """The URL query's parameters that ask for this search again, with `more` (`page=2`)."""
        asked = {"status": self.status, "q": self.text, **more}
        return {name: value for name, value in asked.items() if value}

    def query(self, **more) -> str:
        """`args` as a URL's query, without its `?`."""
        return urlencode(self.args(**more))


def search_from(args: Mapping[str, str], statuses: tuple[str, ...], hint: str = ANY_HINT) -> Search:
    """The search a URL's query asks for; InputError for a status the list does not
    have, or for words no search could take (the sentence says to search by `hint`)."""
    status = args.get("status") or None
    if status is not None and status not in statuses:
        raise InputError(f"The status must be one of {', '.join(statuses)}; leave it out to see every status.",
                         {"status": f"{status!r} is not a status of this list."})
    text = " ".join(args.get("q", "").split())
    found = flaw(text)
    if found:
        raise InputError(f"The search contains {found}; search by {hint}.",
                         {"q": f"The search contains {found}."})
    if len(text) > MAX_SEARCH:
        raise InputError(f"The search has more than {MAX_SEARCH} characters; search by {hint}.",
                         {"q": f"More than {MAX_SEARCH} characters."})
    return Search(status, text)


def matching(query: Select, columns: Columns, search: Search) -> Select:
    """The rows of `query` that hold every word of the search, whatever their status."""
    for word in search.words:
        pattern = "%" + _escaped(word) + "%"
        found: list[ColumnElement[bool]] = [column.ilike(pattern, escape=LIKE_ESCAPE) for column in columns.text]
        number = whole_number(word)
        if number is not None:
            found.append(columns.number == number)
        query = query.where(or_(*found))
    return query


def with_status(query: Select, columns: Columns, search: Search) -> Select:
    return query if search.status is None else query.where(columns.status == search.status)


@dataclass(frozen=True)
class Listing:
    """A search and how many rows of each status it finds: what the filter above a list shows."""
    search: Search
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def choices(self) -> list[tuple[str | None, int, str]]:
        """(status or None for all, rows, the URL query) of each status the list can show."""
        keep = Search(None, self.search.text)
        return [(None, self.total, keep.query()),
                *((status, count, Search(status, keep.text).query()) for status, count in self.counts.items())]


def listing(session: Session, query: Select, columns: Columns, search: Search) -> tuple[Listing, Select]:
    """The counts of each status among the rows the search's words find, and the query
    of the rows to show."""
    found = matching(query, columns, search)
    counted: dict[str, int] = dict(session.execute(
        found.with_only_columns(columns.status, func.count()).group_by(columns.status).order_by(None)).all())
    counts = {status: counted.get(status, 0) for status in columns.statuses}
    return Listing(search, counts), with_status(found, columns, search)


def _escaped(word: str) -> str:
    """`word` as a LIKE pattern matches it: its own % and _ are not wildcards."""
    for special in (LIKE_ESCAPE, "%", "_"):
        word = word.replace(special, LIKE_ESCAPE + special)
    return word
