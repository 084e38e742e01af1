"""The figures the charts draw, per local hour or day: crossings, screenings, occupancy curves.

Queries read rows of the period and bucket them in Python on the site's clock, the same on SQLite
and PostgreSQL (a day holds thousands of rows, not millions).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard import timeutil
from dashboard.models import Crossing, Screening
from dashboard.reports import fever_clause, no_mask_clause, occupancy_points, opening_occupancy


@dataclass(slots=True)
class Hourly:
    """Counts per local hour of one day (24 buckets; 23 or 25 on a daylight-saving day are folded)."""

    entries: list[int]
    exits: list[int]
    screenings: list[int]
    fevers: list[int]
    no_masks: list[int]

    @classmethod
    def empty(cls) -> Hourly:
        """All zero."""
        return cls(*([0] * 24 for _ in range(5)))

    def share(self, name: str) -> list[float | None]:
        """``name`` (``fevers``, ``no_masks``) per screening, hour by hour; ``None`` with no screening."""
        counts = getattr(self, name)
        pairs = zip(counts, self.screenings, strict=True)
        return [count / total if total else None for count, total in pairs]


def bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC start and end of ``day`` on the clock of ``zone``."""
    start = datetime.combine(day, time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def hourly(session: Session, room_ids: list[int], day: date, fever_c: float, zone: ZoneInfo) -> Hourly:
    """Crossings and screenings of ``room_ids`` on ``day`` in ``zone``, per hour of that clock."""
    since, until = bounds(day, zone)
    result = Hourly.empty()
    if not room_ids:
        return result
    for at, direction in session.execute(
        select(Crossing.at, Crossing.direction).where(
            Crossing.room_id.in_(room_ids), Crossing.at >= since, Crossing.at < until
        )
    ):
        hour = at.astimezone(zone).hour
        (result.entries if direction == "in" else result.exits)[hour] += 1
    for at, fever, no_mask in session.execute(
        select(Screening.at, fever_clause(fever_c), no_mask_clause()).where(
            Screening.room_id.in_(room_ids), Screening.at >= since, Screening.at < until
        )
    ):
        hour = at.astimezone(zone).hour
        result.screenings[hour] += 1
        result.fevers[hour] += bool(fever)
        result.no_masks[hour] += bool(no_mask)
    return result


def day_curve(
    session: Session, room_id: int, day: date, shift: timedelta = timedelta()
) -> list[tuple[datetime, int]]:
    """A room's occupancy over local ``day`` as (time, count) steps, moved by ``shift`` (to overlay days)."""
    since, until = timeutil.day_bounds(day)
    points = [(since, opening_occupancy(session, room_id, since))]
    points += [(at, value) for at, _room, value in occupancy_points(session, [room_id], since, until)]
    return [(at + shift, value) for at, value in points]
