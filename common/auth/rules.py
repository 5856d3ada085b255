"""Which roles may use which route of a service: each service writes its own table
(`<service>/access.py`), endpoint by endpoint, and decides for itself. The role
`admin` may do everything; a route open to anyone says so (`PUBLIC`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from flask import Request

ADMIN = "admin"


@dataclass(frozen=True)
class Rule:
    """Who may use a route: anyone with one of `roles` (and admin). `doing` names the
    action in a refusal ("You may not cancel orders"); `public_when` opens the route to
    anyone for the requests it accepts (the thin feed pages, but not those with documents).
    A browser due to renew its sign-in that opens the route is sent to renew it first,
    unless `renews` is off (the renewal itself)."""
    roles: frozenset[str] = frozenset()
    doing: str = ""
    public: bool = False
    public_when: Callable[[Request], bool] | None = field(default=None, compare=False)
    renews: bool = True

    def opens(self, request: Request) -> bool:
        """Whether `request` needs no sign-in."""
        return self.public or (self.public_when is not None and self.public_when(request))

    def admits(self, roles: frozenset[str]) -> bool:
        return ADMIN in roles or bool(self.roles & roles)


PUBLIC = Rule(public=True)


def allow(*roles: str, doing: str, public_when: Callable[[Request], bool] | None = None,
          renews: bool = True) -> Rule:
    return Rule(frozenset(roles), doing, public_when=public_when, renews=renews)
