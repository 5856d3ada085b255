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


def digits_up_to(maximum: int) -> str:
    """A regular expression of the numbers from 0 to `maximum` in ASCII digits (leading
    zeros allowed): for a URL rule, so that a larger number matches no route at all."""
    limit = str(maximum)
    smaller = [f"{limit[:i]}[0-{int(digit) - 1}][0-9]{{{len(limit) - i - 1}}}"
               for i, digit in enumerate(limit) if digit != "0"]
    shorter = [f"[0-9]{{1,{len(limit) - 1}}}"] if len(limit) > 1 else []
    return f"0*(?:{'|'.join(shorter + smaller + [limit])})"
