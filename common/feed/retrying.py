"""Retrying a rejected entry: its document asked for again and, in one transaction
with the consumer's tracking row locked as an import has it, imported and the rejection
gone. Polls, other retries and a rebuild's swap take their turns, so none undoes
another, and an entry that one of them imported meanwhile is not imported twice."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import requests

from common.feed.applying import Applier
from common.feed.documents import DocumentError
from common.feed.client import FeedError, UnusableDocument

IMPORTED = "Imported."


@dataclass(frozen=True)
class Retried:
    """What a retry came to: imported (now, or already before it), or still rejected,
    and the sentence that says which. `lasting`: the document is gone or will not map,
    so asking again as it is will not mend it."""

    imported: bool
    message: str
    lasting: bool = False


def retry(applier: Applier, position: int, fetch: Callable[[str], Any]) -> Retried:
    """Import the document of the entry rejected at `position` again, as `fetch(url)`
    gives it now, into the data `applier` writes."""
    url = _source(applier, position)
    if url is None:
        return _not_rejected(applier, position)
    try:
        imported = _import(applier, position, fetch(url))
    except (FeedError, DocumentError, requests.RequestException) as error:
        lasting = isinstance(error, (UnusableDocument, DocumentError))
        if _still_rejected(applier, position, str(error)):
            return Retried(False, str(error), lasting)
        return _not_rejected(applier, position)
    return Retried(True, IMPORTED) if imported else _not_rejected(applier, position)


def _source(applier: Applier, position: int) -> str | None:
    with applier.db.session() as session:
        rejected = session.get(applier.rejected_model, position)
        return rejected.content_src if rejected else None


def _not_rejected(applier: Applier, position: int) -> Retried:
    if position <= applier.tracking().position:
        return Retried(True, f"Entry {position} was imported already.")
    return Retried(False, f"There is no rejected entry at position {position}.")


def _import(applier: Applier, position: int, document: Any) -> bool:
    """The tracking row locked first, as an import does (on SQLite that takes the one
    write lock, so the stored version is compared under it too); False when the entry
    is no longer rejected."""
    with applier.db.session() as session:
        applier.tracking_row(session)
        applier.guard(session)
        rejected = session.get(applier.rejected_model, position, populate_existing=True)
        if rejected is None:
            return False
        applier.import_(session, document, applier.clock())
        session.delete(rejected)
        return True


def _still_rejected(applier: Applier, position: int, reason: str) -> bool:
    """The reason of the latest attempt; False when the entry is no longer rejected."""
    with applier.db.session() as session:
        rejected = session.get(applier.rejected_model, position, with_for_update=True)
        if rejected is None:
            return False
        rejected.reason, rejected.attempts = reason, rejected.attempts + 1
        return True
