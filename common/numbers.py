"""Whole numbers as clients write them: in ASCII digits, which is all a client means by
digits (str.isdigit and int() also take '٣' and '²'), and within a database integer."""
from __future__ import annotations

MAX_INT = 2**31 - 1  # PostgreSQL's integer: every id, version and position


def whole_number(raw: str, maximum: int = MAX_INT) -> int | None:
    """The number that `raw` spells in ASCII digits, if it is at most `maximum`."""
    # The length first: int() refuses more than 4300 digits with a ValueError.
    if not (raw.isascii() and raw.isdigit()) or len(raw.lstrip("0")) > len(str(maximum)):
        return None
    number = int(raw)
    return number if number <= maximum else None
