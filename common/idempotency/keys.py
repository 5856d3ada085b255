"""Reading a client's idempotency key, and the fingerprint of the request it came with."""
from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Callable

from common.errors import InputError

HEADER = "Idempotency-Key"
FORM_FIELD = "idempotency_key"  # the key a form carries, made when the form was shown
MAX_LENGTH = 255
EXAMPLE = '"8e03978e-40d5-43e8-bc93-6894a57f9324"'
# RFC 8941 section 3.3.3, sf-string: printable ASCII in double quotes, \" and \\ escaped.
SF_STRING = re.compile(r'"((?:[ !#-\[\]-~]|\\["\\])*)"')
PRINTABLE = re.compile(r"[ -~]*")


def header_key(lines: list[str]) -> str | None:
    """The key of a request's Idempotency-Key header lines; None without one."""
    if not lines:
        return None
    if len(lines) > 1:
        raise _bad_header("was sent more than once")
    quoted = SF_STRING.fullmatch(lines[0].strip(" \t"))
    if quoted is None:
        raise _bad_header("is not a quoted string of printable ASCII characters")
    return _checked(re.sub(r"\\(.)", r"\1", quoted[1]), _bad_header)


def form_key(value: str | None) -> str | None:
    """The key a form carries in its hidden field; None without one."""
    if value is None:
        return None
    if not PRINTABLE.fullmatch(value):
        raise _bad_field("has a character other than printable ASCII")
    return _checked(value, _bad_field)


def fingerprint(method: str, path: str, media_type: str, body: Any) -> str:
    """What a request asks for: its method, path, media type and body as canonical JSON
    (keys sorted, no whitespace), so that the same request sent again matches however
    its JSON was written."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256("\n".join((method, path, media_type, canonical)).encode()).hexdigest()


def _checked(key: str, bad: Callable[[str], InputError]) -> str:
    if not key:
        raise bad("is empty")
    if len(key) > MAX_LENGTH:
        raise bad(f"is {len(key)} characters long")
    return key


def _bad_header(problem: str) -> InputError:
    return InputError(f"The {HEADER} header must be one quoted string of 1 to {MAX_LENGTH} printable ASCII "
                      f"characters, e.g. {EXAMPLE}.", {HEADER: f"The header {problem}."})


def _bad_field(problem: str) -> InputError:
    return InputError("This form is damaged; open it again and send it anew.",
                      {FORM_FIELD: f"The form's key {problem}; it must have 1 to {MAX_LENGTH} characters."})
