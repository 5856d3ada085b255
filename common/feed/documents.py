"""Reading the JSON documents a feed links to, with errors that name what is wrong."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from common.text import flaw

AMOUNT = re.compile(r"-?[0-9]+\.[0-9]{2}")
CURRENCY = re.compile(r"[A-Z]{3}")  # an ISO 4217 code


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
    # Text a publisher of ours refuses, from older data or another publisher: copying it
    # could fail in the database (NUL on PostgreSQL) and hold up every entry behind it.
    found = flaw(value) if isinstance(value, str) else None
    if found:
        raise DocumentError(f"The document's {path} contains {found}.")
    return value


def money(document: Any, path: str) -> Decimal:
    """An amount written as the documents write money: "42.00", two places."""
    raw = field(document, path)
    if not AMOUNT.fullmatch(raw):
        raise DocumentError(f"The document's {path} is not an amount with two places: {raw!r}.")
    return Decimal(raw)


def currency(document: dict, key: str, unnamed: str) -> str:
    """The currency code under `key` ("EUR"), or `unnamed` where the document names none."""
    if key not in document:
        return unnamed
    code = field(document, key)
    if not CURRENCY.fullmatch(code):
        raise DocumentError(f"The document's {key} is not a currency code of three capital letters: {code!r}.")
    return code


def positive(document: Any, path: str) -> int:
    value = field(document, path, int)
    if value < 1:
        raise DocumentError(f"The document's {path} is {value}, not a whole number of at least 1.")
    return value


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


def one_of(document: Any, path: str, allowed: tuple[str, ...]) -> str:
    value = field(document, path)
    if value not in allowed:
        raise DocumentError(f"The document's {path} is {value!r}, not one of {', '.join(allowed)}.")
    return value
