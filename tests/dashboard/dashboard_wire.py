"""Event builders for the dashboard's tests: the JSON a station sends."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

# The site's clock (the app's default TIMEZONE): pages show "today" there.
SITE_ZONE = ZoneInfo("Asia/Jakarta")


def today() -> str:
    """Today's date on the site's clock, as YYYY-MM-DD."""
    return datetime.now(SITE_ZONE).date().isoformat()


def event(kind: str, at: str | None = None, event_id: str | None = None, **fields: Any) -> dict[str, Any]:
    """An event as a station sends it; ``at`` defaults to now."""
    moment = at or datetime.now(UTC).isoformat()
    return {"id": event_id or str(uuid.uuid4()), "type": kind, "at": moment, **fields}


def crossing(direction: str, door: str = "main", **extra: Any) -> dict[str, Any]:
    return event("crossing", direction=direction, door=door, **extra)


def screening(decision: str = "allow", **extra: Any) -> dict[str, Any]:
    return event("screening", decision=decision, **extra)


def correction(by: str = "budi", reason: str = "recount", **extra: Any) -> dict[str, Any]:
    return event("correction", by=by, reason=reason, **extra)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
