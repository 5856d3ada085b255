"""Storing a service's copies of documents that have versions, a batch at a time.

A service maps each document to its own rows (`Rows`: a head row keyed by the
document's `id` with its `version`, and the rows that belong to it); this module
stores a batch of them with one multi-row INSERT per table and one UPDATE for the
newer versions of documents stored before, instead of statements per document.
What it stores equals what storing the documents one after another would: the
first version of a document gives its rows; a later version only changes the
`changing` columns of the head and its version; an older or repeated one changes
nothing.

It reads the stored versions first and writes after: the caller holds the lock that
keeps every other writer of these tables out meanwhile (the consumer's tracking row).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, Callable, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

Row = dict[str, Any]


def table(model: type) -> Table:
    """The table of a mapped class (typed: `__table__` is a FromClause to the type checker)."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Rows:
    """One document as a service's rows: the head row, with `id` and `version`, and
    the rows of other tables that belong to it (naming the head's id themselves)."""

    head: Row
    parts: tuple[tuple[Table, list[Row]], ...] = ()


@dataclass(frozen=True)
class VersionedImport:
    """How a service stores the documents of a feed: `rows(document, now)` maps one
    document (raising DocumentError when it will not do) into the `head` table and
    its parts; a newer version changes only the `changing` columns."""

    rows: Callable[[Any, datetime], Rows]
    head: Table
    changing: tuple[str, ...]

    def __call__(self, session: Session, document: Any, now: datetime) -> bool:
        """Store one document; whether it stored something new."""
        return self.store(session, [self.rows(document, now)])[0]

    def store(self, session: Session, batch: list[Rows]) -> list[bool]:
        """Store `batch` in order; for each, whether it stored something new."""
        if not batch:
            return []
        stored = dict(session.execute(self._versions, {"ids": list({rows.head["id"] for rows in batch})}).all())
        added: dict[Any, Row] = {}  # id -> head row to insert
        changed: dict[Any, Row] = {}  # id -> the changing columns of a newer version
        parts: dict[Table, list[Row]] = {}
        news = []
        for rows in batch:
            key, version = rows.head["id"], rows.head["version"]
            known = stored.get(key)
            news.append(known is None or version > known)
            if known is None:
                added[key] = dict(rows.head)
                for table, part_rows in rows.parts:
                    parts.setdefault(table, []).extend(part_rows)
            elif version > known:
                newer = {name: rows.head[name] for name in (*self.changing, "version")}
                (added[key] if key in added else changed.setdefault(key, {})).update(newer)
            stored[key] = max(version, known or 0)
        self._write(session, list(added.values()), parts, changed)
        return news

    def _write(self, session: Session, added: list[Row], parts: dict[Table, list[Row]],
               changed: dict[Any, Row]) -> None:
        if added:
            session.execute(insert(self.head), added)
        for table, rows in parts.items():
            session.execute(insert(table), rows)
        if changed:
            session.execute(self._newer, [{"key": key, **{f"new_{name}": value for name, value in row.items()}}
                                          for key, row in changed.items()])

    @cached_property
    def _versions(self):
        return select(self.head.c.id, self.head.c.version).where(self.head.c.id.in_(bindparam("ids", expanding=True)))

    @cached_property
    def _newer(self):
        columns = (*self.changing, "version")
        return (update(self.head).where(self.head.c.id == bindparam("key"))
                .values({name: bindparam(f"new_{name}") for name in columns}))
