"""A service's import with hooks: told of each document it maps and of each batch it
stores, to record or to fail at that point."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from sqlalchemy.orm import Session

from common.feed.storing import Rows, VersionedImport


@dataclass(frozen=True)
class _Watched(VersionedImport):
    stored: Callable[[list[Rows]], None] = lambda batch: None

    def store(self, session: Session, batch: list[Rows]) -> list[bool]:
        news = super().store(session, batch)
        self.stored(batch)
        return news


def watched(import_: VersionedImport, mapping: Callable[[Any], None] = lambda document: None,
            stored: Callable[[list[Rows]], None] = lambda batch: None) -> VersionedImport:
    """`import_`, calling `mapping(document)` before it maps a document and
    `stored(batch)` once it stored a batch (in the transaction, before the commit)."""

    def rows(document: Any, now: datetime) -> Rows:
        mapping(document)
        return import_.rows(document, now)

    return _Watched(rows, import_.head, import_.changing, stored)
