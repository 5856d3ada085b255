"""Reading the JSON documents a feed links to, with errors that name what is wrong."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from common.db import CENT


class DocumentError(ValueError):
    """A linked document does not have the shape the importer needs."""


def field(document: Any, path: str, kind: type = str) -> Any:
    """The value at a dotted `path` ("customer.name"), checked to be a `kind`."""
    value = document
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            raise DocumentError(f"The document has no {path}.")
        value = value[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise DocumentError(f"The document's {path} is not a {kind.__name__}.")
    return value


def money(document: Any, path: str) -> Decimal:
    raw = field(document, path)
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise DocumentError(f"The document's {path} is not an amount: {raw!r}.") from None
    if not amount.is_finite() or amount != amount.quantize(CENT):
        raise DocumentError(f"The document's {path} is not an amount with two places: {raw!r}.")
    return amount


def timestamp(document: Any, path: str) -> datetime:
    raw = field(document, path)
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise DocumentError(f"The document's {path} is not a timestamp: {raw!r}.") from None
    if moment.tzinfo is None:
        raise DocumentError(f"The document's {path} has no time zone: {raw!r}.")
    return moment.astimezone(timezone.utc)


def items(document: Any, path: str) -> list[dict]:
    """A non-empty list of objects."""
    value = field(document, path, list)
    if not value or not all(isinstance(item, dict) for item in value):
        raise DocumentError(f"The document's {path} is not a non-empty list of objects.")
    return value
