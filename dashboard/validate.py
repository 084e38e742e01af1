"""Checks of a batch beyond the wire schema: what the database's columns can hold.

``station/events.py`` caps text at 500 characters; some columns are shorter (a door's name, a
reason code), PostgreSQL refuses any text with a NUL character, and no database keeps a lone
surrogate (``"\ud800"`` is valid JSON but not valid Unicode; a reason typed at a kiosk is enough).
Checking here turns what would be a database error (a 500) into a 400 that names the field, the same
on SQLite and PostgreSQL.
The limits are read from the models, so a column and its check cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import fields
from datetime import datetime, timedelta

from sqlalchemy import Column, String

from dashboard.models import Correction, Crossing, Door, Screening, StationStatus
from station.events import (
    CorrectionEvent,
    CrossingEvent,
    Event,
    EventError,
    ScreeningEvent,
    StatusEvent,
)

# A site's or room's slug, and a station's or user's name.
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# Event field -> the column it is stored in, where that column is shorter than the wire allows.
COLUMNS: dict[type[Event], dict[str, Column]] = {
    CrossingEvent: {"door": Door.__table__.c.name, "source": Crossing.__table__.c.source},
    ScreeningEvent: {
        "reason": Screening.__table__.c.reason,
        "override_by": Screening.__table__.c.override_by,
    },
    CorrectionEvent: {"by": Correction.__table__.c.by},
    StatusEvent: {"device": StationStatus.__table__.c.device, "state": StationStatus.__table__.c.state},
}


def max_length(cls: type[Event], name: str) -> int | None:
    """Return the longest text the database keeps for field ``name`` of ``cls`` (None: the wire's cap)."""
    column = COLUMNS.get(cls, {}).get(name)
    if column is None or not isinstance(column.type, String):
        return None
    return column.type.length


#: The largest correction, up or down or to a value, a guard can send: ten times the largest room.
MAX_CORRECTION_PEOPLE = 1_000_000


def check_batch(events: list[Event]) -> None:
    """Raise ``EventError`` (naming ``events[i] (id).field``) for values the database cannot keep."""
    for index, event in enumerate(events):
        if isinstance(event, CorrectionEvent):
            for name in ("delta", "value"):
                amount = getattr(event, name)
                if amount is not None and not -MAX_CORRECTION_PEOPLE <= amount <= MAX_CORRECTION_PEOPLE:
                    raise EventError(
                        f"events[{index}] ({event.id}).{name}",
                        f"must be within ±{MAX_CORRECTION_PEOPLE} people",
                    )
        for spec in fields(event):
            value = getattr(event, spec.name)
            if not isinstance(value, str):
                continue
            problem = None
            if "\x00" in value:
                problem = "must not contain NUL characters"
            elif not _is_unicode(value):
                problem = "is not valid Unicode (a lone surrogate)"
            else:
                limit = max_length(type(event), spec.name)
                if limit is not None and len(value) > limit:
                    problem = f"longer than {limit} characters"
            if problem:
                raise EventError(f"events[{index}] ({event.id}).{spec.name}", problem)


def _is_unicode(text: str) -> bool:
    """Whether ``text`` can be stored as UTF-8 (no lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_times(
    events: list[Event], now: datetime, keep_days: int, ahead: timedelta = timedelta(days=1)
) -> None:
    """Raise ``EventError`` for an event dated more than ``ahead`` in the future or before retention.

    A screening dated 9999-12-31 would otherwise sit at the top of every list and outlive every purge.
    """
    earliest = now - timedelta(days=keep_days)
    for index, event in enumerate(events):
        if event.at > now + ahead:
            raise EventError(f"events[{index}] ({event.id}).at", "is more than a day in the future")
        if event.at < earliest:
            raise EventError(
                f"events[{index}] ({event.id}).at", f"is older than the {keep_days}-day retention window"
            )
