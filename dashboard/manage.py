"""Set-up operations shared by the CLI and the settings pages: rooms, stations and their tokens, users."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard import audit, live, naming, occupancy
from dashboard.api import token_hash
from dashboard.auth import end_sessions, hash_password
from dashboard.db import utc_now
from dashboard.i18n import _n
from dashboard.ingest import raise_alert
from dashboard.models import AlertKind, Role, Room, Site, Station, User
from dashboard.validate import NAME, SLUG
from dashboard.words import MessageError
from station.rooms import ShareError
from station.rooms import share_ppm as exact_share_ppm

LOCALES = ("id", "en")
MIN_PASSWORD_CHARS = 10
#: Passwords that guessing tries first (lists of leaked passwords, Indonesian ones among them), lower-case;
#: most are refused by their length anyway, and stay here so a longer limit later still refuses them.
COMMON_PASSWORDS = frozenset(
    {
        "password",
        "password1",
        "password12",
        "password123",
        "passw0rd",
        "p@ssw0rd",
        "12345678",
        "123456789",
        "1234567890",
        "12345678910",
        "0123456789",
        "0987654321",
        "1111111111",
        "1q2w3e4r5t",
        "1qaz2wsx3edc",
        "qwertyuiop",
        "qwerty1234",
        "qwerty12345",
        "asdfghjkl",
        "asdfghjkl1",
        "zxcvbnm123",
        "iloveyou12",
        "abcdefghij",
        "abc1234567",
        "admin12345",
        "administrator",
        "welcome123",
        "letmein123",
        "bismillah",
        "bismillah123",
        "indonesia",
        "indonesia1",
        "indonesia123",
        "jakarta123",
        "sayangkamu",
        "rahasia123",
        "katasandi",
        "katasandi123",
        "gerbang123",
        "gerbang12345",
    }
)


class SetupError(MessageError):
    """A set-up request that cannot be done, with a message for the person who asked."""


def check_slug(kind: str, value: str) -> str:
    """Return ``value`` if it is a slug (lower-case letters, digits, dashes), else raise."""
    if not SLUG.fullmatch(value):
        raise SetupError(
            _n("%(kind)s must be a slug (a-z, 0-9 and '-', at most 64), got %(value)s"),
            kind=kind,
            value=repr(value[:64]),
        )
    return value


def check_share(share: float | str) -> int:
    """Return ``share`` in millionths, exactly as written, if it is within (0, 1] (``station.rooms``)."""
    try:
        return exact_share_ppm(share)
    except ShareError as err:  # the messages of station.rooms, marked here for the catalogues
        raise SetupError(err.template, **err.params) from None


_SHARE_MESSAGES = (
    _n("share must be a number more than 0 and at most 1, got %(share)s"),
    _n("share must be more than 0 and at most 1, got %(share)s"),
    _n("share must have at most six decimal places, got %(share)s"),
)


def check_zone(name: str) -> str:
    """Return ``name`` if it is a time zone (``Asia/Jayapura``), else raise with the three to choose from."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SetupError(
            _n(
                "%(zone)s is not a time zone; use Asia/Jakarta (WIB), Asia/Makassar (WITA) "
                "or Asia/Jayapura (WIT)"
            ),
            zone=repr(name[:64]),
        ) from None
    return name


#: The longest site name and address kept.
MAX_SITE_NAME_CHARS = 200
MAX_ADDRESS_CHARS = 500


def _address(address: str) -> str:
    """``address`` on one line, trimmed (an empty one is allowed)."""
    return " ".join(address.split())[:MAX_ADDRESS_CHARS]


def add_site(
    session: Session,
    slug: str,
    name: str | None = None,
    address: str = "",
    time_zone: str = "Asia/Jakarta",
    *,
    actor: str = "cli",
) -> Site:
    """Add a site on its own (rooms come later); raise ``SetupError`` if it exists.

    Args:
        session: The database session (committed here).
        slug: The site's slug (``kantor-pusat``), used in URLs and in ``SITE/ROOM``.
        name: What people call it (default: the slug).
        address: Where it is; may be empty.
        time_zone: Its clock: Asia/Jakarta (WIB), Asia/Makassar (WITA) or Asia/Jayapura (WIT).
        actor: Who did it, for the audit log.
    """
    check_slug("SITE", slug)
    check_zone(time_zone)
    if session.execute(select(Site.id).where(Site.slug == slug)).first():
        raise SetupError(_n("site %(site)s exists already"), site=repr(slug))
    site = Site(
        slug=slug,
        name=(name or "").strip()[:MAX_SITE_NAME_CHARS] or slug,
        address=_address(address),
        time_zone=time_zone,
    )
    session.add(site)
    audit.record(
        session, actor, "add-site", f"{slug} name {site.name} time zone {time_zone} address {site.address}"
    )
    session.commit()
    return site


def set_site(
    session: Session,
    site_slug: str,
    *,
    time_zone: str | None = None,
    name: str | None = None,
    address: str | None = None,
    actor: str = "cli",
) -> Site:
    """Change a site's time zone, name or address (its days, reports and times shown follow its zone).

    ``None`` leaves a field as it is; an empty name too (a site always has one), while an empty
    address clears it.
    """
    site = session.execute(select(Site).where(Site.slug == site_slug)).scalar_one_or_none()
    if site is None:
        raise SetupError(_n("no site %(site)s; add it first with add-site"), site=repr(site_slug[:64]))
    if time_zone is not None:
        site.time_zone = check_zone(time_zone)
    if name is not None and name.strip():
        site.name = name.strip()[:MAX_SITE_NAME_CHARS]
    if address is not None:
        site.address = _address(address)
    audit.record(
        session,
        actor,
        "update-site",
        f"{site_slug} time zone {site.time_zone} name {site.name} address {site.address}",
    )
    session.commit()
    return site


def check_capacity(capacity_people: int) -> int:
    """Return ``capacity_people`` if it is a sensible room capacity."""
    if not 1 <= capacity_people <= 100_000:
        raise SetupError(
            _n("capacity must be 1 to 100000 people, got %(capacity)s"), capacity=capacity_people
        )
    return capacity_people


def add_room(
    session: Session,
    site_slug: str,
    room_slug: str,
    capacity_people: int,
    share: float | str = 0.5,
    *,
    name: str | None = None,
    actor: str = "cli",
) -> Room:
    """Add a room to a site (the site is made on first use); raise ``SetupError`` if it exists."""
    check_slug("SITE", site_slug)
    check_slug("ROOM", room_slug)
    ppm = check_share(share)
    check_capacity(capacity_people)
    site = session.execute(select(Site).where(Site.slug == site_slug)).scalar_one_or_none()
    if site is None:
        site = Site(slug=site_slug, name=site_slug, address="")
        session.add(site)
    elif session.execute(
        select(Room.id).where(Room.site_id == site.id, Room.slug == room_slug)
    ).first():  # another site's room of that name is another room
        raise SetupError(
            _n("room %(room)s exists already"), room=repr(naming.full_name(site_slug, room_slug))
        )
    room = Room(
        site=site,
        slug=room_slug,
        name=(name or room_slug)[:200],
        capacity_people=capacity_people,
        share_ppm=ppm,
        occupancy_people=0,
    )
    session.add(room)
    session.flush()
    audit.record(
        session,
        actor,
        "add-room",
        f"{site_slug}/{room_slug} capacity {capacity_people} share {share}",
        room_id=room.id,
    )
    session.commit()
    return room


def find_room(session: Session, reference: str) -> Room:
    """The room ``reference`` names (``SITE/ROOM``, or a ``ROOM`` only one site has); raise if none.

    Raises:
        SetupError: No such room, or a bare name more than one site has (the message names them).
    """
    try:
        return naming.find_room(session, reference)
    except naming.RoomNameError as err:
        raise SetupError(err.template, **err.params) from None


def set_room(
    session: Session,
    room_ref: str,
    *,
    capacity_people: int | None = None,
    share: float | str | None = None,
    name: str | None = None,
    actor: str = "cli",
    near_share: float = 0.8,
) -> Room:
    """Change a room's capacity, share or name (and so its limit); stations take the new limit.

    The count is judged against the new limit at once: a lowered limit that leaves the room over it
    raises the over-limit alert (once), a raised one ends the excursion; the live pages get the
    room's new figures.
    """
    room = find_room(session, room_ref)
    if capacity_people is not None:
        room.capacity_people = check_capacity(capacity_people)
    if share is not None:
        room.share_ppm = check_share(share)
    if name is not None and name.strip():
        room.name = name.strip()[:200]
    session.flush()
    count = occupancy.current(session, room.id)
    if occupancy.crossed_over(session, room.id, count, room.limit_people):
        detail = f"{count} inside, limit {room.limit_people} (the room's settings changed)"
        raise_alert(
            session, AlertKind.OVER_LIMIT, (room.id, room.site.slug, room.slug), None, utc_now(), detail
        )
    figures = occupancy.figures(
        (room.site.slug, room.slug), count, room.limit_people, room.capacity_people, near_share
    )
    live.publish(session, "occupancy", figures)
    audit.record(
        session,
        actor,
        "update-room",
        f"{naming.room_name(room)} capacity {room.capacity_people} share {room.share} "
        f"limit {room.limit_people}",
    )
    session.commit()
    return room


def add_station(session: Session, name: str, room_ref: str, *, actor: str = "cli") -> tuple[Station, str]:
    """Register a station in a room; return it and its token (shown once: only a hash is kept).

    The room is ``SITE/ROOM``, or a ``ROOM`` only one site has.
    """
    if not NAME.fullmatch(name):
        raise SetupError(
            _n("station name must be letters, digits, '.', '_' or '-', got %(name)s"), name=repr(name[:64])
        )
    try:
        room = naming.find_room(session, room_ref)
    except naming.NoSuchRoomError:
        raise SetupError(
            _n("no room %(room)s; add it first with add-room"), room=repr(room_ref[:130])
        ) from None
    except naming.RoomNameError as err:
        raise SetupError(err.template, **err.params) from None
    if session.execute(select(Station).where(Station.name == name)).scalar_one_or_none():
        raise SetupError(_n("station %(name)s exists already"), name=repr(name))
    token = secrets.token_urlsafe(32)
    station = Station(room=room, name=name, token_sha256=token_hash(token))
    session.add(station)
    audit.record(session, actor, "add-station", f"{name} in {naming.room_name(room)}", room_id=room.id)
    session.commit()
    return station, token


def _station(session: Session, name: str) -> Station:
    station = session.execute(select(Station).where(Station.name == name)).scalar_one_or_none()
    if station is None:
        raise SetupError(_n("no station %(name)s"), name=repr(name[:64]))
    return station


def rotate_token(session: Session, name: str, *, actor: str = "cli") -> str:
    """Give station ``name`` a new token (shown once) and return it; the old one stops working at once.

    A revoked station is let in again with the new token.
    """
    station = _station(session, name)
    token = secrets.token_urlsafe(32)
    was_revoked = station.revoked_at is not None
    station.token_sha256 = token_hash(token)
    station.revoked_at = None
    audit.record(
        session,
        actor,
        "rotate-token",
        f"{name}" + (" (was revoked)" if was_revoked else ""),
        room_id=station.room_id,
    )
    session.commit()
    return token


def revoke_station(session: Session, name: str, *, actor: str = "cli") -> Station:
    """Refuse station ``name`` from now on (its history stays); ``rotate_token`` lets it in again."""
    station = _station(session, name)
    if station.revoked_at is not None:
        raise SetupError(_n("station %(name)s is revoked already"), name=repr(name))
    station.revoked_at = utc_now()
    # Forget the old token's hash too, so it cannot come back by any path.
    station.token_sha256 = token_hash(secrets.token_urlsafe(32))
    audit.record(session, actor, "revoke-station", name, room_id=station.room_id)
    session.commit()
    return station


def create_user(
    session: Session,
    username: str,
    password: str,
    role: Role,
    *,
    locale: str = "id",
    sites: Sequence[str] = (),
    actor: str = "cli",
) -> User:
    """Create a user with a hashed password; raise ``SetupError`` if the name is taken (in any case).

    ``ADM`` beside ``adm`` would be two people a log tells apart by capitals alone, so a name that
    differs from a user's only in case is refused; logging in keeps matching the exact name.

    Args:
        session: The database session (committed here).
        username: Letters, digits, ``.``, ``_`` or ``-``.
        password: At least ``MIN_PASSWORD_CHARS`` characters, not a common one, not the user name.
        role: Guard, supervisor or admin.
        locale: ``id`` or ``en``.
        sites: Slugs of the sites a guard or supervisor sees (admins see every site).
        actor: Who did it, for the audit log.
    """
    if not NAME.fullmatch(username):
        raise SetupError(
            _n("user name must be letters, digits, '.', '_' or '-', got %(name)s"), name=repr(username[:64])
        )
    if locale not in LOCALES:
        raise SetupError(_n("language must be one of %(choices)s"), choices=", ".join(LOCALES))
    taken = find_user_any_case(session, username)
    if taken is not None:
        if taken.username == username:
            raise SetupError(_n("user %(name)s exists already"), name=repr(username))
        raise SetupError(
            _n("user %(name)s exists already (as %(taken)s: names differ by more than capitals)"),
            name=repr(username),
            taken=repr(taken.username),
        )
    check_password(password, username)
    found_sites = _sites(session, sites)
    user = User(username=username, password_hash=hash_password(password), role=str(role), locale=locale)
    user.sites = found_sites
    session.add(user)
    at = f" at {', '.join(s.slug for s in found_sites)}" if found_sites else ""
    audit.record(session, actor, "create-user", f"{username} as {role}{at}")
    session.commit()
    return user


def _sites(session: Session, slugs: Sequence[str]) -> list[Site]:
    """The sites named by ``slugs``; raise ``SetupError`` naming any that does not exist."""
    wanted = sorted(set(slugs))
    found = session.execute(select(Site).where(Site.slug.in_(wanted)).order_by(Site.slug)).scalars().all()
    missing = sorted(set(wanted) - {site.slug for site in found})
    if missing:
        raise SetupError(
            _n("no site %(sites)s (add it with add-site)"), sites=", ".join(repr(m[:64]) for m in missing)
        )
    return list(found)


def set_user_sites(session: Session, username: str, slugs: Sequence[str], *, actor: str = "cli") -> User:
    """Make ``slugs`` the sites of user ``username`` (replacing the ones before).

    Pages follow from the user's next request; their open live streams end and reconnect under
    the new sites.
    """
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise SetupError(f"no user {username[:64]!r}")
    user.sites = _sites(session, slugs)
    live.rights_changed(session, user.id)
    audit.record(session, actor, "user-sites", f"{username}: {', '.join(s.slug for s in user.sites) or '-'}")
    session.commit()
    return user


def check_password(password: str, username: str) -> str:
    """Return ``password`` if it is strong enough for ``username``, else raise ``SetupError``.

    Refused: fewer than ``MIN_PASSWORD_CHARS`` characters, one of ``COMMON_PASSWORDS`` (in any
    case), or the user name itself (in any case, also when the password only repeats it).
    """
    if len(password) < MIN_PASSWORD_CHARS:
        raise SetupError(_n("the password must have at least %(n)s characters"), n=MIN_PASSWORD_CHARS)
    folded = password.casefold()
    if folded in COMMON_PASSWORDS:
        raise SetupError(_n("the password is one of the most common ones; choose another"))
    name = username.casefold()
    if name and folded.replace(name, "") == "":
        raise SetupError(_n("the password must not be the user name"))
    return password


def find_user_any_case(session: Session, username: str) -> User | None:
    """The user named ``username`` exactly, else one whose name differs only in case, else None."""
    found = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if found is not None:
        return found
    lowered = username.lower()
    return session.execute(
        select(User).where(func.lower(User.username) == lowered).order_by(User.id).limit(1)
    ).scalar_one_or_none()


def set_password(session: Session, username: str, password: str, *, actor: str = "cli") -> User:
    """Give user ``username`` (exact name) a new password and end every session they have.

    Raises:
        SetupError: No such user, or the password is too weak (``check_password``).
    """
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise SetupError(_n("no user %(name)s"), name=repr(username[:64]))
    check_password(password, user.username)
    user.password_hash = hash_password(password)
    end_sessions(user)
    audit.record(session, actor, "set-password", user.username)
    session.commit()
    return user
