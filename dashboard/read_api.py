"""The read API (``/api/v1/...``): what the pages show, as JSON, scoped like the pages.

Rooms with occupancy, crossings, screenings, alerts, the queue and the stations' health. A user
reads with their login session or with an API token (``gerbang dashboard api-token NAME``, sent as
``Authorization: Bearer TOKEN``). Lists are in id order and paginated by a cursor: ``?limit=N``
(1..500, default 100) and ``?after=ID`` (the ``next_after`` of the previous page; null on the last).
``/api/docs`` lists the operations of the OpenAPI document as an HTML page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import BigInteger, ColumnElement, Select, false, select, true
from sqlalchemy.orm import joinedload

from dashboard import alerts as alerts_view
from dashboard import naming, occupancy, scope, timeutil
from dashboard.auth import login_manager, require_role
from dashboard.db import get_session, utc_now
from dashboard.models import (
    Alert,
    Crossing,
    QueueTicket,
    Role,
    Room,
    Screening,
    Site,
    Station,
    TicketStatus,
    User,
)
from dashboard.openapi import document
from station.events import API_VERSION

bp = Blueprint("read_api", __name__, url_prefix="/api")
V = f"/{API_VERSION}"
MAX_LIMIT = 500
DEFAULT_LIMIT = 100
MAX_ID = 2**63 - 1
INT32_MAX = 2**31 - 1
TOKEN_SALT = "gerbang-user-api-token"
ALERT_STATES = ("open", "acknowledged", "all")


class ReadError(ValueError):
    """A query parameter the read API cannot use (answered 400 with the parameter's name)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@bp.errorhandler(ReadError)
def _bad_parameter(err: ReadError) -> ResponseReturnValue:
    return {"error": str(err), "field": err.field}, 400


# -- API tokens: signed, stateless, ended with the user's sessions --------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def _fingerprint(user: User) -> str:
    """Changes when the password changes: a new password ends the user's tokens."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def make_token(user: User) -> str:
    """Return an API token for ``user``.

    It reads as the user does, and stops working when their password changes, their sessions are
    ended (``end_sessions``: log out everywhere, disabling) or the app's secret key changes.
    """
    return str(_serializer().dumps({"u": user.id, "g": user.session_gen or 0, "p": _fingerprint(user)}))


def user_for_token(token: str) -> User | None:
    """Return the active user whose API token ``token`` is, or None."""
    try:
        claims = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(claims, dict) or not isinstance(claims.get("u"), int):
        return None
    user = get_session().get(User, claims["u"])
    if user is None or not user.active:
        return None
    if claims.get("g") != (user.session_gen or 0) or claims.get("p") != _fingerprint(user):
        return None
    return user


@login_manager.request_loader
def _token_user(req: Any) -> User | None:
    """A user's API token logs in a read of the API (GET under /api/v1/), and nothing else."""
    if req.method not in {"GET", "HEAD"} or not req.path.startswith(f"/api{V}/"):
        return None
    scheme, _, token = req.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or "." not in token:  # station tokens have no dot
        return None
    return user_for_token(token.strip())


# -- pagination ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    """A page's cursor: at most ``limit`` rows with an id above ``after``."""

    limit: int
    after: int

    @classmethod
    def from_args(cls) -> Page:
        """Read ``?limit=`` and ``?after=``, or raise ``ReadError``."""
        return cls(
            _integer("limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
            _integer("after", 0, 0, MAX_ID),
        )

    def rows(self, statement: Select[Any], id_column: Any) -> list[Any]:
        """Run ``statement`` for this page: ids above ``after``, in id order, one more to see if more."""
        # a 32-bit id column holds nothing above its largest value (and PostgreSQL refuses the comparison)
        largest = MAX_ID if isinstance(id_column.type, BigInteger) else INT32_MAX
        if self.after >= largest:
            return []
        return list(
            get_session()
            .execute(statement.where(id_column > self.after).order_by(id_column).limit(self.limit + 1))
            .unique()
            .scalars()
        )

    def answer(self, rows: Sequence[Any], shape: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
        """The JSON of a page: its items and the cursor of the next page (null on the last)."""
        more = len(rows) > self.limit
        kept = rows[: self.limit]
        return {"items": [shape(row) for row in kept], "next_after": kept[-1].id if more and kept else None}


def _integer(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19:
        raise ReadError(f"{name} must be a whole number from {low} to {high}", name)
    value = int(raw)
    if not low <= value <= high:
        raise ReadError(f"{name} must be a whole number from {low} to {high}", name)
    return value


def _room_filter(column: Any) -> ColumnElement[bool]:
    """``?room=SITE/ROOM`` (or a ``ROOM`` only one of the user's sites has): rows of that room only.

    An unseen room is an empty list (as if it did not exist); a bare name more of the user's sites
    have is refused (400, naming them).
    """
    reference = request.args.get("room", "")
    if not reference:
        return true()
    try:
        found = naming.find_room(get_session(), reference, scope.sites_clause(Room.site_id))
    except naming.NoSuchRoomError:
        return false()
    except naming.RoomNameError as err:
        raise ReadError(str(err), "room") from None
    return column == found.id


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


# -- the operations --------------------------------------------------------------------------------


@bp.get(f"{V}/rooms")
@require_role(Role.GUARD)
def rooms() -> ResponseReturnValue:
    """The user's rooms with their site and live occupancy against the limit."""
    page = Page.from_args()
    near_share = current_app.config["NEAR_SHARE"]
    statement = select(Room).options(joinedload(Room.site)).where(scope.sites_clause(Room.site_id))

    def shape(room: Room) -> dict[str, Any]:
        return {
            "id": room.id,
            "name": room.name,
            "site": room.site.slug,
            **occupancy.snapshot(room, near_share),
        }

    return page.answer(page.rows(statement, Room.id), shape)


@bp.get(f"{V}/crossings")
@require_role(Role.GUARD)
def crossings() -> ResponseReturnValue:
    """Crossings of the user's rooms (``?room=`` for one), oldest first."""
    page = Page.from_args()
    statement = (
        select(Crossing)
        .options(joinedload(Crossing.door))
        .where(scope.rooms_clause(Crossing.room_id), _room_filter(Crossing.room_id))
    )
    found = page.rows(statement, Crossing.id)
    names = {
        room_id: (site, room)
        for room_id, site, room in get_session().execute(
            select(Room.id, Site.slug, Room.slug)
            .join(Site, Room.site_id == Site.id)
            .where(Room.id.in_({r.room_id for r in found}))
        )
    }

    def shape(row: Crossing) -> dict[str, Any]:
        return {
            "id": row.id,
            "at": _iso(row.at),
            "site": names[row.room_id][0],
            "room": names[row.room_id][1],
            "door": row.door.name,
            "direction": row.direction,
            "counted": row.counted,
            "occupancy_after": row.occupancy_after,
        }

    return page.answer(found, shape)


@bp.get(f"{V}/screenings")
@require_role(Role.GUARD)
def screenings() -> ResponseReturnValue:
    """Screenings of the user's rooms: decisions for all; temperatures for supervisors and admins."""
    page = Page.from_args()
    with_temperatures = current_user.has_role(Role.SUPERVISOR)
    statement = (
        select(Screening)
        .options(joinedload(Screening.room).joinedload(Room.site), joinedload(Screening.station))
        .where(scope.rooms_clause(Screening.room_id), _room_filter(Screening.room_id))
    )

    def shape(row: Screening) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": row.id,
            "at": _iso(row.at),
            "site": row.room.site.slug,
            "room": row.room.slug,
            "station": row.station.name,
            "decision": row.decision,
            "reason": row.reason,
            "mask": row.mask,
            "retest": row.retest,
            "ticket": row.ticket,
        }
        if with_temperatures:
            item["body_c"] = row.body_c
            item["raw_c"] = row.raw_c
        return item

    return page.answer(page.rows(statement, Screening.id), shape)


def _alert_site(alert: Alert) -> str | None:
    """The slug of the site an alert is of: its room's, else its station's room's (a silent station)."""
    if alert.room is not None:
        return alert.room.site.slug
    return alert.station.room.site.slug if alert.station is not None else None


@bp.get(f"{V}/alerts")
@require_role(Role.SUPERVISOR)
def alerts() -> ResponseReturnValue:
    """Alerts of the user's rooms and stations (``?state=open|acknowledged|all``, ``?room=``)."""
    page = Page.from_args()
    state = request.args.get("state", "") or "all"
    if state not in ALERT_STATES:
        raise ReadError("state must be one of open, acknowledged, all", "state")
    chosen = {
        "open": Alert.acknowledged_at.is_(None),
        "acknowledged": Alert.acknowledged_at.is_not(None),
        "all": true(),
    }[state]
    statement = (
        select(Alert)
        .options(
            joinedload(Alert.room).joinedload(Room.site),
            joinedload(Alert.station).joinedload(Station.room).joinedload(Room.site),
        )
        .where(scope.alerts_clause(), chosen, _room_filter(Alert.room_id))
    )

    def shape(row: Alert) -> dict[str, Any]:
        return {
            "id": row.id,
            "at": _iso(row.at),
            "kind": row.kind,
            "severity": str(alerts_view.severity_of(row.kind)),
            "site": _alert_site(row),
            "room": row.room.slug if row.room else None,
            "station": row.station.name if row.station else None,
            "detail": row.detail,
            "acknowledged_at": _iso(row.acknowledged_at),
            "acknowledged_by": row.acknowledged_by,
        }

    return page.answer(page.rows(statement, Alert.id), shape)


@bp.get(f"{V}/queue")
@require_role(Role.GUARD)
def queue() -> ResponseReturnValue:
    """Each of the user's rooms' queue today (on its site's clock): tickets by state."""
    page = Page.from_args()
    found = page.rows(
        select(Room).options(joinedload(Room.site)).where(scope.sites_clause(Room.site_id)), Room.id
    )
    kept = found[: page.limit]
    starts = {
        room.id: timeutil.day_bounds(timeutil.today(room.site.time_zone), room.site.time_zone)[0]
        for room in kept
    }
    by_room: dict[int, dict[str, list[int]]] = {room.id: {s.value: [] for s in TicketStatus} for room in kept}
    if kept:
        tickets = get_session().execute(
            select(QueueTicket)
            .where(QueueTicket.room_id.in_(starts), QueueTicket.issued_at >= min(starts.values()))
            .order_by(QueueTicket.ticket)
        )
        for ticket in tickets.scalars():
            if ticket.issued_at >= starts[ticket.room_id]:
                by_room[ticket.room_id].setdefault(ticket.status, []).append(ticket.ticket)

    def shape(room: Room) -> dict[str, Any]:
        return {"id": room.id, "site": room.site.slug, "room": room.slug, "tickets": by_room[room.id]}

    return page.answer(found, shape)


@dataclass(frozen=True, slots=True)
class _StationRow:
    """A station's health with the id its page's cursor goes by."""

    id: int
    health: alerts_view.StationHealth


@bp.get(f"{V}/stations")
@require_role(Role.SUPERVISOR)
def stations() -> ResponseReturnValue:
    """The user's stations (not revoked): heard lately or not, and each device's latest state."""
    page = Page.from_args()
    health = alerts_view.health(get_session(), current_app.config["STATION_SILENT_S"], utc_now())
    ordered = sorted((h for h in health if h.station.id > page.after), key=lambda h: h.station.id)

    def shape(row: _StationRow) -> dict[str, Any]:
        station: Station = row.health.station
        return {
            "id": station.id,
            "name": station.name,
            "site": station.room.site.slug,
            "room": station.room.slug,
            "last_seen_at": _iso(station.last_seen_at),
            "heard": row.health.heard,
            "ok": row.health.ok,
            "devices": [
                {"device": d.device, "state": d.state, "detail": d.detail, "at": _iso(d.at)}
                for d in row.health.devices
            ],
        }

    return page.answer([_StationRow(h.station.id, h) for h in ordered[: page.limit + 1]], shape)


@bp.get("/docs")
@require_role(Role.GUARD)
def docs() -> ResponseReturnValue:
    """The API's documentation: every operation of the OpenAPI document, served from here."""
    spec = document()
    operations = [
        {
            "method": method.upper(),
            "path": spec["servers"][0]["url"] + path,
            "summary": operation.get("summary", ""),
            "parameters": operation.get("parameters", []),
            "security": sorted({name for option in operation.get("security", []) for name in option}),
        }
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    ]
    return render_template("api_docs.html", operations=operations, title=spec["info"]["title"])
