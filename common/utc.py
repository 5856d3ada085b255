"""Time as the services keep and write it: timezone-aware UTC."""
from __future__ import annotations

from datetime import datetime, timezone


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso_utc(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds: 2026-11-22T10:15:30.123456Z."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
