"""Free text from outside: refused when a database cannot store it or a person could be
misled by it, stored in one form (NFC) so that equal text compares equal."""
from __future__ import annotations

import re
import unicodedata
from typing import Any

# What no field takes, and how a sentence names it.
FLAWS = (
    # Half of a UTF-16 pair: no database stores it (JSON's "\ud800" makes one).
    (re.compile(r"[\ud800-\udfff]"), "an invalid character (a lone surrogate)"),
    # Unicode's control characters (Cc): NUL, which PostgreSQL refuses, tab, line breaks...
    (re.compile(r"[\x00-\x1f\x7f-\x9f]"), "a control character"),
    # Unicode's own line and paragraph separators: no field spans lines.
    (re.compile(r"[\u2028\u2029]"), "a line break"),
    # Bidirectional embeddings, overrides and isolates: they make text read other than
    # it is stored. The marks (U+200E, U+200F, U+061C) stay allowed.
    (re.compile(r"[\u202a-\u202e\u2066-\u2069]"), "a character that changes the direction of the text"),
)
# Invisible on their own besides whitespace and format characters (Cf, zero-width ones
# among them): Unicode's other default-ignorable code points, fillers and variation selectors.
IGNORABLE = re.compile(r"[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\ufe00-\ufe0f\uffa0"
                       r"\U000e0100-\U000e01ef]")


class TextError(ValueError):
    """A field's text will not do; the message is a sentence naming the field."""


def flaw(text: str) -> str | None:
    """What in `text` no service takes ("a control character"), or None."""
    return next((name for pattern, name in FLAWS if pattern.search(text)), None)


def unstorable(text: str) -> str | None:
    """What in `text` no database stores and nobody types (a lone surrogate, a control
    character), or None: all a secret such as a password may not hold."""
    return next((name for pattern, name in FLAWS[:2] if pattern.search(text)), None)


def checked_text(value: Any, label: str, limit: int) -> str:
    """`value` as it is to be stored: trimmed and NFC-normalised, at most `limit`
    characters, with something visible in it; or TextError with a sentence naming
    the field by its `label` ("the street of the shipping address")."""
    if not isinstance(value, str):
        raise TextError(f"Enter {label}.")
    subject, value = label[0].upper() + label[1:], value.strip()
    found = flaw(value)
    if found:
        raise TextError(f"{subject} contains {found}.")
    value = unicodedata.normalize("NFC", value)
    if len(value) > limit:
        raise TextError(f"{subject} has more than {limit} characters.")
    if all(_invisible(char) for char in value):
        raise TextError(f"Enter {label}.")
    return value


def _invisible(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) == "Cf" or IGNORABLE.match(char) is not None
