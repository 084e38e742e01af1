"""Sites kept apart: what the logged-in user may see.

Admins see every site. Guards and supervisors see the sites they belong to (``users.sites``,
``gerbang dashboard user NAME --site SLUG``): those sites' rooms, the stations in those rooms, and
what those rooms and stations recorded. Every page, export, API read and live stream asks here, so
the rule is written once. Something of another site is answered as if it did not exist (404).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask_login import current_user
from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session, joinedload, selectinload

from dashboard.models import Alert, Role, Room, Site, Station
from dashboard.naming import full_name

if TYPE_CHECKING:
    from dashboard.live import Message

#: The live message saying that a user's sessions ended or their sites changed (``{"user": id}``):
#: that user's open streams end, and the browser's reconnect is checked again. No page receives it.
RIGHTS_KIND = "rights"


@dataclass(frozen=True, slots=True)
class StreamStart:
    """Where a stream starts and what it may carry.

    Attributes:
        after_id: The last id the page already has.
        rooms: Full names (``SITE/ROOM``, ``naming.full_name``) of the rooms whose messages the user
            sees; ``None`` for every room (admins). A message names its room by site and slug, so
            another site's room of the same slug is never let through.
        stations: Names of the stations whose alerts the user sees (alerts of no room, such as a
            silent station's, are matched by station); ignored when ``rooms`` is ``None``.
        user_id: The user whose stream it is (``ended_by``).
    """

    after_id: int
    rooms: frozenset[str] | None = None
    stations: frozenset[str] = frozenset()
    user_id: int | None = None

    @property
    def audience(self) -> tuple[frozenset[str] | None, frozenset[str]]:
        """What decides what this stream sees: streams with the same audience get the same bytes."""
        return self.rooms, self.stations

    def may_see(self, message: Message) -> bool:
        """Whether this stream may carry ``message``."""
        if message.kind == RIGHTS_KIND:
            return False
        if self.rooms is None:
            return True
        room = message.data.get("room")
        if room:
            return full_name(str(message.data.get("site") or ""), str(room)) in self.rooms
        station = message.data.get("station")
        return bool(station) and station in self.stations

    def ended_by(self, message: Message) -> bool:
        """Whether ``message`` ends this stream: its user logged out, was disabled or changed sites."""
        return (
            message.kind == RIGHTS_KIND
            and self.user_id is not None
            and message.data.get("user") == self.user_id
        )


def site_ids() -> frozenset[int] | None:
    """The ids of the sites the current user sees; ``None`` for every site (an admin)."""
    if current_user.has_role(Role.ADMIN):
        return None
    return frozenset(site.id for site in current_user.sites)


def sites_clause(site_id: Any) -> ColumnElement[bool]:
    """A WHERE clause keeping rows whose ``site_id`` column is one of the user's sites."""
    ids = site_ids()
    return true() if ids is None else site_id.in_(ids)


def rooms_clause(room_id: Any) -> ColumnElement[bool]:
    """A WHERE clause keeping rows whose ``room_id`` column is a room of the user's sites."""
    ids = site_ids()
    return true() if ids is None else room_id.in_(select(Room.id).where(Room.site_id.in_(ids)))


def stations_clause(station_id: Any) -> ColumnElement[bool]:
    """A WHERE clause keeping rows whose ``station_id`` column is a station of the user's sites."""
    ids = site_ids()
    if ids is None:
        return true()
    return station_id.in_(select(Station.id).join(Room).where(Room.site_id.in_(ids)))


def alerts_clause() -> ColumnElement[bool]:
    """A WHERE clause keeping alerts of the user's rooms, or of their stations when one names no room."""
    if site_ids() is None:
        return true()
    return rooms_clause(Alert.room_id) | (Alert.room_id.is_(None) & stations_clause(Alert.station_id))


def may_see_room(room: Room) -> bool:
    """Whether the current user sees ``room``."""
    ids = site_ids()
    return ids is None or room.site_id in ids


def stream_start(session: Session, after_id: int) -> StreamStart:
    """Where the user's live stream starts and the rooms and stations whose messages it carries."""
    ids = site_ids()
    user_id = int(current_user.id)
    if ids is None:
        return StreamStart(after_id, user_id=user_id)
    rows = session.execute(
        select(Site.slug, Room.slug, Station.name)
        .join(Site, Room.site_id == Site.id)
        .outerjoin(Station, Station.room_id == Room.id)
        .where(Room.site_id.in_(ids))
    ).all()
    rooms = frozenset(full_name(site, room) for site, room, _ in rows)
    stations = frozenset(station for _, _, station in rows if station is not None)
    return StreamStart(after_id, rooms=rooms, stations=stations, user_id=user_id)


def visible_sites(session: Session) -> list[Site]:
    """The sites the current user sees, with their rooms, by slug."""
    statement = (
        select(Site).options(selectinload(Site.rooms)).where(sites_clause(Site.id)).order_by(Site.slug)
    )
    return list(session.execute(statement).scalars().all())


def visible_rooms(session: Session) -> list[Room]:
    """The rooms the current user sees, with their sites, by slug."""
    statement = (
        select(Room).options(joinedload(Room.site)).where(sites_clause(Room.site_id)).order_by(Room.slug)
    )
    return list(session.execute(statement).scalars().all())
