"""Errors the web layer turns into clear answers; raised by code that knows no HTTP."""
from __future__ import annotations


class InputError(Exception):
    """Bad input from a client: one sentence for a person, and a message per field."""

    def __init__(self, message: str, details: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}

    @classmethod
    def from_details(cls, subject: str, details: dict[str, str]) -> InputError:
        if len(details) == 1:
            return cls(next(iter(details.values())), details)
        return cls(f"{subject} was not accepted: {len(details)} fields need correcting.", details)
