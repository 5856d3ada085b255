"""JSON from outside (a client's body, a feed's documents), parsed only when it is shallow
enough: Python's parser recurses once per level, and a megabyte of brackets would exhaust
its stack. (Its size is bounded before it is read: MAX_CONTENT_LENGTH in common/web/app.py,
the feed client's own limit.)"""
from __future__ import annotations

import json
import re
from typing import Any

from common.errors import InputError

MAX_DEPTH = 32
# A string (to its end, even an unterminated one, so that the scan stays linear) or a
# bracket: brackets inside strings do not nest.
TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)


class TooDeep(ValueError):
    """JSON nested deeper than MAX_DEPTH."""


def loads(raw: bytes | str) -> Any:
    """The JSON value of `raw`, or ValueError (TooDeep when nested too deep)."""
    text = raw if isinstance(raw, str) else raw.decode(json.detect_encoding(raw), "surrogatepass")  # as json.loads
    if depth(text) > MAX_DEPTH:
        raise TooDeep(f"JSON nested more than {MAX_DEPTH} levels deep, which is not accepted.")
    return json.loads(text)


def parse_json_body(raw: bytes) -> Any:
    """The JSON value of a request body, or InputError with a sentence."""
    try:
        return loads(raw)
    except TooDeep as error:
        raise InputError(f"The request body is nested more than {MAX_DEPTH} levels deep.",
                         {"body": str(error)}) from None
    except ValueError as error:
        raise InputError("The request body is not valid JSON.", {"body": str(error)}) from None


def depth(text: str) -> int:
    """How deep the arrays and objects of JSON `text` nest; the scan stops once past MAX_DEPTH."""
    level = deepest = 0
    for match in TOKENS.finditer(text):
        token = match[0]
        if token in ("[", "{"):
            level += 1
            deepest = max(deepest, level)
            if deepest > MAX_DEPTH:
                break
        elif token in ("]", "}"):
            level -= 1
    return deepest
