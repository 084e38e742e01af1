"""Rooms as people name them: ``SITE/ROOM``, or a bare ``ROOM`` while only one site has it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select

from dashboard import manage, naming
from dashboard.db import new_session
from dashboard.models import Room, Site


@pytest.fixture
def rooms(app: Flask, make_room: Callable) -> Flask:
    """Two sites, each with a ``hall``; only site a has a ``lobby``."""
    make_room("hall", site="a")
    make_room("lobby", site="a")
    make_room("hall", site="b")
    return app


@pytest.mark.parametrize(
    ("reference", "site", "room"),
    [
        # a full name is always one room
        ("a/hall", "a", "hall"),
        # ... at the other site too
        ("b/hall", "b", "hall"),
        # a bare name only one site has
        ("lobby", "a", "lobby"),
        # a full name of that room
        ("a/lobby", "a", "lobby"),
    ],
)
def test_a_reference_names_one_room(rooms: Flask, reference: str, site: str, room: str) -> None:
    with new_session(rooms) as session:
        found = naming.find_room(session, reference)
        assert (found.site.slug, found.slug) == (site, room)
        assert naming.room_name(found) == f"{site}/{room}"


@pytest.mark.parametrize(
    ("reference", "error", "words"),
    [
        # two sites have a hall: refused, naming both and how to say which
        ("hall", naming.AmbiguousRoomError, ["more than one site has a room 'hall' (a, b)", "e.g. a/hall"]),
        # no site has it
        ("kitchen", naming.NoSuchRoomError, ["no room 'kitchen'"]),
        # the site exists, the room is not there
        ("b/lobby", naming.NoSuchRoomError, ["no room 'b/lobby'"]),
        # no such site
        ("c/hall", naming.NoSuchRoomError, ["no room 'c/hall'"]),
        # not a name at all: a slash too many
        ("a/hall/x", naming.RoomNameError, ["a room is named ROOM or SITE/ROOM"]),
        # capitals are no slug
        ("A/hall", naming.RoomNameError, ["a room is named ROOM or SITE/ROOM"]),
        # an empty site
        ("/hall", naming.RoomNameError, ["a room is named ROOM or SITE/ROOM"]),
        # nothing
        ("", naming.RoomNameError, ["a room is named ROOM or SITE/ROOM"]),
    ],
)
def test_a_reference_that_names_no_room_or_several_is_refused_with_why(
    rooms: Flask, reference: str, error: type[Exception], words: list[str]
) -> None:
    with new_session(rooms) as session, pytest.raises(error) as raised:
        naming.find_room(session, reference)
    for word in words:
        assert word in str(raised.value)


def test_among_the_rooms_one_sees_a_bare_name_may_be_one_room(rooms: Flask) -> None:
    with new_session(rooms) as session:
        site_b = session.execute(select(Site.id).where(Site.slug == "b")).scalar_one()
        found = naming.find_room(session, "hall", Room.site_id == site_b)
        assert naming.room_name(found) == "b/hall"
        # and the other site's room is not found at all (a guard is not told it exists)
        assert naming.find_room_or_none(session, "lobby", Room.site_id == site_b) is None
        with pytest.raises(naming.AmbiguousRoomError):
            naming.find_room_or_none(session, "hall")


@pytest.mark.parametrize(
    ("site", "room", "refused"),
    [
        # a second hall at a: refused
        ("a", "hall", True),
        # a hall at a third site: another room
        ("c", "hall", False),
        # a lobby at b: another room, though a has one
        ("b", "lobby", False),
    ],
)
def test_rooms_are_unique_within_their_site_only(rooms: Flask, site: str, room: str, refused: bool) -> None:
    with new_session(rooms) as session:
        if refused:
            with pytest.raises(manage.SetupError, match=f"room '{site}/{room}' exists already"):
                manage.add_room(session, site, room, 10)
        else:
            assert naming.room_name(manage.add_room(session, site, room, 10)) == f"{site}/{room}"


def test_setting_a_room_and_adding_a_station_take_full_names(rooms: Flask) -> None:
    with new_session(rooms) as session:
        assert manage.set_room(session, "b/hall", capacity_people=30).capacity_people == 30
        with pytest.raises(manage.SetupError, match="more than one site has a room 'hall'"):
            manage.set_room(session, "hall", capacity_people=30)
        station, _token = manage.add_station(session, "gate-b", "b/hall")
        assert naming.room_name(station.room) == "b/hall"
        with pytest.raises(manage.SetupError, match="name it as SITE/ROOM"):
            manage.add_station(session, "gate-x", "hall")
        with pytest.raises(manage.SetupError, match="no room 'b/kitchen'; add it first"):
            manage.add_station(session, "gate-x", "b/kitchen")
        halls = session.execute(select(Room.capacity_people).order_by(Room.site_id, Room.slug)).scalars()
        assert list(halls) == [10, 10, 30]  # a/hall, a/lobby untouched


@pytest.mark.parametrize(
    ("args", "error"),
    [
        # a site with its name, address and zone
        (("kantor-timur", "Kantor Timur", "Jl. Merdeka 1, Jayapura", "Asia/Jayapura"), None),
        # only a slug: the name is the slug, no address, Jakarta time
        (("kantor-barat", None, "", "Asia/Jakarta"), None),
        # a zone that is none
        (("kantor-x", None, "", "Asia/Bandung"), "'Asia/Bandung' is not a time zone; use Asia/Jakarta (WIB)"),
        # a zone that is not even a name
        (("kantor-x", None, "", "../etc/passwd"), "is not a time zone"),
        # not a slug
        (("Kantor X", None, "", "Asia/Jakarta"), "SITE must be a slug"),
        # taken
        (("a", None, "", "Asia/Jakarta"), "site 'a' exists already"),
    ],
)
def test_a_site_is_added_on_its_own(rooms: Flask, args: tuple, error: str | None) -> None:
    with new_session(rooms) as session:
        if error is not None:
            with pytest.raises(manage.SetupError, match=error.replace("(", r"\(").replace(")", r"\)")):
                manage.add_site(session, *args)
            return
        site = manage.add_site(session, *args)
        slug, name, address, zone = args
        assert (site.slug, site.name, site.address, site.time_zone) == (slug, name or slug, address, zone)
        assert site.rooms == []


def test_a_sites_name_address_and_zone_are_changed_and_kept_apart(rooms: Flask) -> None:
    with new_session(rooms) as session:
        manage.set_site(session, "a", name="Kantor A", address="  Jl. Sudirman 5,\n Jakarta ")
        site = manage.set_site(session, "a", time_zone="Asia/Makassar")  # the others stay
        assert (site.name, site.address, site.time_zone) == (
            "Kantor A",
            "Jl. Sudirman 5, Jakarta",
            "Asia/Makassar",
        )
        assert manage.set_site(session, "a", address="").address == ""  # an address may be cleared
        assert manage.set_site(session, "a", name="  ").name == "Kantor A"  # a name may not
        with pytest.raises(manage.SetupError, match="no site 'z'; add it first with add-site"):
            manage.set_site(session, "z", name="Z")
