"""What the top of a refused form says, the same on every service's pages: a title, and
the problems as links to their fields or a note (common/templates/macros.html renders
it as `error_summary`)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    field_id: str  # the id of the control to fix it in
    text: str  # where and what, e.g. "Customer: choose a customer."


@dataclass(frozen=True)
class Summary:
    title: str
    problems: tuple[Problem, ...] = ()
    note: str | None = None
