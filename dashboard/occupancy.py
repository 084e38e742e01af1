"""A room's live count: single atomic SQL statements, never below zero, and its traffic light.

Every change is one ``UPDATE ... RETURNING`` so concurrent doors (threads, processes, hosts) stay
exact. An exit that finds the room at zero changes nothing: the entries after it count from zero.
The statements use the table, not the ORM entity: ingest runs them on every crossing, and a Core
``UPDATE`` skips the ORM's bookkeeping.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from dashboard.models import Room
from station.rooms import RoomState, over_limit, room_state

ROOMS = Room.__table__
COUNT = ROOMS.c.occupancy_people


@dataclass(frozen=True, slots=True)
class Change:
    """The outcome of a change to a room's count.

    Attributes:
        occupancy_people: The count after the change.
        moved: Whether the count changed.
    """

    occupancy_people: int
    moved: bool


#: The highest count a room can reach (ten times the largest capacity): far below the 32-bit column's
#: limit, so no sequence of corrections and crossings can overflow it (a 500 for every later crossing).
MAX_PEOPLE = 1_000_000


def enter(session: Session, room_id: int) -> Change:
    """Count one person in, unless the room reads ``MAX_PEOPLE`` (then nothing moves)."""
    statement = (
        update(ROOMS)
        .where(ROOMS.c.id == room_id, COUNT < MAX_PEOPLE)
        .values(occupancy_people=COUNT + 1)
        .returning(COUNT)
    )
    after = session.execute(statement).scalar_one_or_none()
    if after is None:
        return Change(current(session, room_id), moved=False)
    return Change(after, moved=True)


def leave(session: Session, room_id: int) -> Change:
    """Count one person out, unless the room reads zero (then nothing moves)."""
    statement = (
        update(ROOMS)
        .where(ROOMS.c.id == room_id, COUNT > 0)
        .values(occupancy_people=COUNT - 1)
        .returning(COUNT)
    )
    after = session.execute(statement).scalar_one_or_none()
    if after is None:
        return Change(current(session, room_id), moved=False)
    return Change(after, moved=True)


def add(session: Session, room_id: int, delta_people: int) -> Change:
    """Add ``delta_people`` (negative to remove), clamped to 0 .. ``MAX_PEOPLE``, in one statement."""
    delta_people = max(-MAX_PEOPLE, min(MAX_PEOPLE, delta_people))
    total = COUNT + delta_people
    clamped = case((total < 0, 0), (total > MAX_PEOPLE, MAX_PEOPLE), else_=total)
    statement = (update(ROOMS).where(ROOMS.c.id == room_id).values(occupancy_people=clamped)).returning(COUNT)
    return Change(session.execute(statement).scalar_one(), moved=delta_people != 0)


def set_to(session: Session, room_id: int, value_people: int) -> Change:
    """Set the count to ``value_people`` (0 .. ``MAX_PEOPLE``)."""
    statement = (
        update(ROOMS)
        .where(ROOMS.c.id == room_id)
        .values(occupancy_people=max(0, min(value_people, MAX_PEOPLE)))
        .returning(COUNT)
    )
    return Change(session.execute(statement).scalar_one(), moved=True)


def current(session: Session, room_id: int) -> int:
    """Return the room's count as the database has it now."""
    return session.execute(select(COUNT).where(ROOMS.c.id == room_id)).scalar_one()


def state_of(occupancy_people: int, limit_people: int, near_share: float) -> RoomState:
    """Return the traffic light: full at the limit, near from ``near_share`` of it, else open.

    Args:
        occupancy_people: People inside.
        limit_people: The room's limit.
        near_share: The share of the limit from which the room is near (0.8 warns at 80 %).
    """
    return room_state(occupancy_people, limit_people, near_share)


OVER = ROOMS.c.over_limit


def crossed_over(session: Session, room_id: int, occupancy_people: int, limit_people: int) -> bool:
    """Keep the room's over-limit flag in step with a count just returned; True when it went over.

    One conditional ``UPDATE`` each way, so of concurrent changes exactly one finds the room newly
    over its limit (and raises the one alert), however the count got there: a crossing, a
    correction, a set-to. The flag falls back once the count is at the limit or below.
    """
    if over_limit(occupancy_people, limit_people):
        statement = update(ROOMS).where(ROOMS.c.id == room_id, OVER.is_(False)).values(over_limit=True)
        return session.execute(statement.returning(ROOMS.c.id)).first() is not None
    session.execute(update(ROOMS).where(ROOMS.c.id == room_id, OVER.is_(True)).values(over_limit=False))
    return False


def snapshot(room: Room, near_share: float, occupancy_people: int | None = None) -> dict[str, object]:
    """Return the room as API v1 answers ``GET /rooms/ROOM/occupancy``.

    Args:
        room: The room.
        near_share: The share of the limit from which the room is near.
        occupancy_people: The count, when the caller knows it newer than ``room`` does (the value
            an atomic update returned); default the room's own.
    """
    count = room.occupancy_people if occupancy_people is None else occupancy_people
    return figures((room.site.slug, room.slug), count, room.limit_people, room.capacity_people, near_share)


def figures(
    name: tuple[str, str],
    occupancy_people: int,
    limit_people: int,
    capacity_people: int,
    near_share: float,
) -> dict[str, object]:
    """Return a room's figures as API v1 and the live stream give them (see ``snapshot``).

    ``name`` is the room's (site slug, room slug): two sites may each have a room of that slug.
    """
    site, slug = name
    return {
        "site": site,
        "room": slug,
        "occupancy": occupancy_people,
        "limit": limit_people,
        "capacity": capacity_people,
        "state": str(state_of(occupancy_people, limit_people, near_share)),
    }
