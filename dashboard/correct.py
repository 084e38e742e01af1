"""A supervisor corrects a room's count from the dashboard, as a guard does at the kiosk.

The same rules as the station's (``station.rooms``): a value above the room's capacity or a jump
of more than 10 needs confirmation; the count moves in one atomic statement; the correction is
kept beside the counted figures (with no station: it was made here), goes to the audit log as
``correction``, and a count newly above the limit raises the one over-limit alert.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from dashboard import audit, live, occupancy
from dashboard.db import utc_now
from dashboard.ingest import raise_alert
from dashboard.models import AlertKind, Correction, Room
from station.events import new_id
from station.rooms import needs_confirmation


class CorrectionError(ValueError):
    """A correction that cannot be taken as asked, with a message for the supervisor.

    Attributes:
        needs_confirmation: True when it only wants confirming (then nothing changed).
    """

    def __init__(self, message: str, *, needs_confirmation: bool = False) -> None:
        super().__init__(message)
        self.needs_confirmation = needs_confirmation


@dataclass(frozen=True, slots=True)
class Corrected:
    """The count after a correction."""

    occupancy_people: int


def correct(
    session: Session,
    room: Room,
    by: str,
    reason: str,
    *,
    delta: int | None = None,
    value: int | None = None,
    confirm: bool = False,
    near_share: float = 0.8,
) -> Corrected:
    """Correct ``room``'s count by ``delta`` or to ``value``, and commit.

    Raises:
        CorrectionError: No reason, not exactly one of ``delta`` and ``value``, a value out of
            range, or a large change without ``confirm`` (nothing changed).
    """
    reason = reason.strip()
    if not reason:
        raise CorrectionError("a correction needs a reason")
    if (delta is None) == (value is None):
        raise CorrectionError("give either a change (+/-) or the count to set")
    amount = delta if delta is not None else value
    if amount is None or abs(amount) > occupancy.MAX_PEOPLE or (value is not None and value < 0):
        raise CorrectionError(f"the count must be 0 to {occupancy.MAX_PEOPLE}")
    current = occupancy.current(session, room.id)
    target = max(0, current + delta) if delta is not None else value
    if not confirm and needs_confirmation(current, target, room.capacity_people):  # type: ignore[arg-type]
        raise CorrectionError(
            f"setting the count from {current} to {target} (capacity {room.capacity_people}) needs "
            "confirmation: tick 'confirm' and send it again",
            needs_confirmation=True,
        )
    if value is not None:
        change = occupancy.set_to(session, room.id, value)
    else:
        change = occupancy.add(session, room.id, delta or 0)
    now = utc_now()
    session.add(
        Correction(
            event_id=new_id(),  # the same kind of id a station's correction has
            room_id=room.id,
            station_id=None,
            at=now,
            delta=delta,
            value=value,
            by=by[:200],
            reason=reason[:2000],
            occupancy_after=change.occupancy_people,
        )
    )
    told = f"set to {value}" if value is not None else f"{delta:+d}"
    audit.record(
        session,
        by,
        "correction",
        f"{room.slug} {told} -> {change.occupancy_people} on the dashboard; why: {reason[:300]}",
    )
    limit = room.limit_people
    if occupancy.crossed_over(session, room.id, change.occupancy_people, limit):
        detail = f"{change.occupancy_people} inside, limit {limit}"
        raise_alert(session, AlertKind.OVER_LIMIT, (room.id, room.site.slug, room.slug), None, now, detail)
    figures = occupancy.figures(
        (room.site.slug, room.slug), change.occupancy_people, limit, room.capacity_people, near_share
    )
    live.publish(session, "occupancy", figures)
    session.commit()
    return Corrected(change.occupancy_people)
