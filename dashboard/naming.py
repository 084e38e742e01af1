"""Rooms as people name them: ``SITE/ROOM``, or ``ROOM`` alone while only one site has a room by that name.

A room's slug is unique within its site only (two offices may each have a ``hall``), so every place
that takes a room from a person (the command line, a form, a URL, the read API's filter) resolves it
here: ``kantor-a/hall`` is always one room; ``hall`` is that room while no other site has a
``hall``, and refused with the sites that have one when more do. The rooms looked among can be
narrowed to the ones a user sees (``within``), so a guard is never told of another site's rooms.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, contains_eager

from dashboard.i18n import _n
from dashboard.models import Room, Site
from dashboard.validate import SLUG
from dashboard.words import MessageError

#: What separates the site from the room in a room's full name.
SEPARATOR = "/"
#: The longest room reference shown back in a message.
SHOWN_CHARS = 130


class RoomNameError(MessageError):
    """A room reference that names no room, or more than one, with a message saying which."""


class NoSuchRoomError(RoomNameError):
    """No room (that the asker sees) has this name."""


class AmbiguousRoomError(RoomNameError):
    """More than one site has a room by this bare name; ``site_slugs`` are theirs."""

    def __init__(self, template: str, site_slugs: list[str], **params: Any) -> None:
        self.site_slugs = site_slugs
        super().__init__(template, **params)


def full_name(site_slug: str, room_slug: str) -> str:
    """A room's name that is unique across sites: ``kantor-a/hall``."""
    return f"{site_slug}{SEPARATOR}{room_slug}"


def room_name(room: Room) -> str:
    """``room``'s full name, ``SITE/ROOM`` (its site must be loaded or loadable)."""
    return full_name(room.site.slug, room.slug)


def split(reference: str) -> tuple[str | None, str]:
    """``"a/hall"`` -> ``("a", "hall")``; ``"hall"`` -> ``(None, "hall")``; raise if not slugs.

    Raises:
        RoomNameError: The site or room part is not a slug, or there is more than one ``/``.
    """
    site, separator, room = reference.partition(SEPARATOR)
    if not separator:
        site, room = "", reference
    elif not SLUG.fullmatch(site):
        raise RoomNameError(
            _n("a room is named ROOM or SITE/ROOM (slugs: a-z, 0-9 and '-'), got %(room)s"),
            room=repr(reference[:SHOWN_CHARS]),
        )
    if not SLUG.fullmatch(room):
        raise RoomNameError(
            _n("a room is named ROOM or SITE/ROOM (slugs: a-z, 0-9 and '-'), got %(room)s"),
            room=repr(reference[:SHOWN_CHARS]),
        )
    return (site or None), room


def candidates(session: Session, reference: str, within: ColumnElement[bool] | None = None) -> list[Room]:
    """Every room ``reference`` may mean (its site loaded), by site; raise if it is not a name.

    Args:
        session: The database session.
        reference: ``SITE/ROOM`` or ``ROOM``.
        within: A WHERE clause on ``Room`` keeping the rooms the asker sees (``None``: every room).
    """
    site, slug = split(reference)
    statement = (
        select(Room)
        .join(Site, Room.site_id == Site.id)
        .options(contains_eager(Room.site))
        .where(Room.slug == slug)
        .order_by(Site.slug)
    )
    if site is not None:
        statement = statement.where(Site.slug == site)
    if within is not None:
        statement = statement.where(within)
    return list(session.execute(statement).scalars().all())


def find_room(session: Session, reference: str, within: ColumnElement[bool] | None = None) -> Room:
    """The one room ``reference`` names (``SITE/ROOM``, or a ``ROOM`` only one site has).

    Raises:
        NoSuchRoomError: No room (among ``within``) has that name.
        AmbiguousRoomError: A bare name more than one site has; the message names the sites.
        RoomNameError: ``reference`` is not a room's name at all.
    """
    found = candidates(session, reference, within)
    if not found:
        raise NoSuchRoomError(_n("no room %(room)s"), room=repr(reference[:SHOWN_CHARS]))
    if len(found) > 1:
        sites = [room.site.slug for room in found]
        raise AmbiguousRoomError(
            _n("more than one site has a room %(room)s (%(sites)s): name it as SITE/ROOM, e.g. %(example)s"),
            sites,
            room=repr(reference[:SHOWN_CHARS]),
            sites=", ".join(sites),
            example=room_name(found[0]),
        )
    return found[0]


def find_room_or_none(
    session: Session, reference: str, within: ColumnElement[bool] | None = None
) -> Room | None:
    """``find_room``, but ``None`` for a reference that names no room (or is no name at all).

    Raises:
        AmbiguousRoomError: A bare name more than one site has.
    """
    try:
        return find_room(session, reference, within)
    except AmbiguousRoomError:
        raise
    except RoomNameError:
        return None
