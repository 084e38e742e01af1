"""Alerts as a person handles them: severity, grouping of repeats, filters, and each station's health.

Display only: ingest makes the alerts (``ingest.py``), this module reads them. Ten no-mask refusals
at one door in ten minutes are one ``AlertGroup`` with a count; fever and over-limit outrank
no-mask; a station's health is its last state per device, plus whether it is still heard.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload

from dashboard import naming, scope
from dashboard.i18n import _n
from dashboard.models import Alert, AlertKind, Room, Site, Station, StationStatus
from dashboard.words import MessageError

GROUP_WINDOW = timedelta(minutes=10)
OVERVIEW_ALERTS = 10
PAGE_ALERTS = 500
ACKNOWLEDGED_DAYS = 7


class Severity(StrEnum):
    """How urgent an alert is; the order is the order of the list."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """0 for the most urgent."""
        return list(Severity).index(self)


SEVERITY: Mapping[str, Severity] = {
    AlertKind.FEVER: Severity.HIGH,
    AlertKind.FEVER_RETEST: Severity.HIGH,
    AlertKind.OVER_LIMIT: Severity.HIGH,
    AlertKind.NO_MASK: Severity.MEDIUM,
    AlertKind.STATION_SILENT: Severity.MEDIUM,
    AlertKind.EVENTS_SET_ASIDE: Severity.LOW,
}
#: The kinds that sound and show a notice on open pages.
NOTICE_KINDS = frozenset(kind for kind, severity in SEVERITY.items() if severity is Severity.HIGH)


def severity_of(kind: str) -> Severity:
    """An alert kind's severity (an unknown kind is medium: seen, not shouted)."""
    return SEVERITY.get(kind, Severity.MEDIUM)


class AlertState(StrEnum):
    """Which alerts a list shows."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ALL = "all"


class AlertFilterError(MessageError):
    """A filter of the alerts list that cannot be used."""


@dataclass(frozen=True, slots=True)
class AlertFilters:
    """The alerts list's filters: a site, a room, a kind (slugs and codes; empty for any), a state.

    ``room`` is the room's full name, ``SITE/ROOM`` (``from_args`` makes it so from a bare ``ROOM``
    only one of the user's sites has).
    """

    site: str = ""
    room: str = ""
    kind: str = ""
    state: AlertState = AlertState.ALL

    @classmethod
    def from_args(cls, args: Mapping[str, str], session: Session | None = None) -> AlertFilters:
        """Read the filters from query arguments; raise ``AlertFilterError`` on bad ones.

        With ``session``, a bare room name is resolved among the user's sites: a name more of them
        have is refused, naming them.
        """
        kind = args.get("kind", "")
        if kind and kind not in {str(k) for k in AlertKind}:
            raise AlertFilterError(_n("no such kind of alert: %(value)s"), value=repr(kind[:32]))
        state = args.get("state", "") or AlertState.ALL
        if state not in {str(s) for s in AlertState}:
            raise AlertFilterError(_n("no such state of alerts: %(value)s"), value=repr(state[:32]))
        room = args.get("room", "")[:130]
        if room:
            try:
                site, _slug = naming.split(room)
                if site is None and session is not None:
                    room = naming.room_name(naming.find_room(session, room, scope.sites_clause(Room.site_id)))
            except naming.NoSuchRoomError:
                pass  # no such room among the user's: an empty list, as for any other filter
            except naming.RoomNameError as err:
                raise AlertFilterError(err.template, **err.params) from None
        return cls(args.get("site", "")[:64], room, kind, AlertState(state))

    def query(self, now: datetime) -> Select[Alert]:
        """The matching alerts, newest first; acknowledged ones only of the last week."""
        statement = (
            select(Alert)
            .options(joinedload(Alert.room).joinedload(Room.site), joinedload(Alert.station))
            .where(scope.alerts_clause())  # the user's sites only
            .order_by(Alert.at.desc(), Alert.id.desc())
        )
        recent = Alert.at >= now - timedelta(days=ACKNOWLEDGED_DAYS)
        if self.state is AlertState.OPEN:
            statement = statement.where(Alert.acknowledged_at.is_(None))
        elif self.state is AlertState.ACKNOWLEDGED:
            statement = statement.where(Alert.acknowledged_at.is_not(None), recent)
        else:
            statement = statement.where(Alert.acknowledged_at.is_(None) | recent)
        if self.kind:
            statement = statement.where(Alert.kind == self.kind)
        if self.room:
            site, slug = naming.split(self.room)
            named = select(Room.id).join(Site, Room.site_id == Site.id).where(Room.slug == slug)
            if site is not None:
                named = named.where(Site.slug == site)
            statement = statement.where(Alert.room_id.in_(named))
        if self.site:
            rooms = select(Room.id).join(Site, Room.site_id == Site.id).where(Site.slug == self.site)
            statement = statement.where(Alert.room_id.in_(rooms))
        return statement


@dataclass(slots=True)
class AlertGroup:
    """Alerts of one kind at one door (station) close in time, shown as one line with a count."""

    kind: str
    room: Room | None
    station: Station | None
    alerts: list[Alert] = field(default_factory=list)

    @property
    def severity(self) -> Severity:
        """The kind's severity."""
        return severity_of(self.kind)

    @property
    def count(self) -> int:
        """How many alerts the line stands for."""
        return len(self.alerts)

    @property
    def latest(self) -> Alert:
        """The newest alert of the group."""
        return self.alerts[0]

    @property
    def first_at(self) -> datetime:
        """When the oldest alert of the group happened."""
        return self.alerts[-1].at

    @property
    def open(self) -> bool:
        """Whether any alert of the group is still open."""
        return any(alert.acknowledged_at is None for alert in self.alerts)

    @property
    def ids(self) -> str:
        """The alerts' ids, comma-separated (one checkbox acknowledges them all)."""
        return ",".join(str(alert.id) for alert in self.alerts)

    @property
    def site(self) -> Site | None:
        """The site of the group's room."""
        return self.room.site if self.room is not None else None


def group(alerts: Iterable[Alert], window: timedelta = GROUP_WINDOW) -> list[AlertGroup]:
    """Group alerts (newest first) of one kind, room, station and state within ``window`` of the newest.

    Returns:
        The groups, open before acknowledged, then by severity, then newest first.
    """
    groups: list[AlertGroup] = []
    current: dict[tuple[str, int | None, int | None, bool], AlertGroup] = {}
    for alert in alerts:
        key = (alert.kind, alert.room_id, alert.station_id, alert.acknowledged_at is None)
        found = current.get(key)
        if found is None or found.latest.at - alert.at > window:
            found = AlertGroup(alert.kind, alert.room, alert.station)
            current[key] = found
            groups.append(found)
        found.alerts.append(alert)
    groups.sort(key=lambda g: (not g.open, g.severity.rank, -g.latest.at.timestamp()))
    return groups


def parse_ids(values: Iterable[str]) -> list[int]:
    """The alert ids of a form (each value one id or several comma-separated); raise on anything else."""
    ids: list[int] = []
    for value in values:
        for part in value.split(","):
            if not part.strip().isdigit() or len(part.strip()) > 18:
                raise AlertFilterError(_n("not an alert: %(value)s"), value=repr(part.strip()[:20]))
            ids.append(int(part))
    if not ids:
        raise AlertFilterError(_n("choose at least one alert"))
    return sorted(set(ids))


@dataclass(slots=True)
class DeviceState:
    """A station's part as it last reported itself."""

    device: str
    state: str
    detail: str
    at: datetime

    @property
    def failing(self) -> bool:
        """Whether the part needs a person (anything but online)."""
        return self.state != "online"


@dataclass(slots=True)
class StationHealth:
    """A station: whether it is heard, and each of its parts."""

    station: Station
    heard: bool
    devices: list[DeviceState] = field(default_factory=list)

    @property
    def failing(self) -> list[DeviceState]:
        """The parts that are not online."""
        return [device for device in self.devices if device.failing]

    @property
    def ok(self) -> bool:
        """Heard, and every part online."""
        return self.heard and not self.failing


def health(session: Session, silent_s: float, now: datetime) -> list[StationHealth]:
    """Every station not revoked: offline ones first, then those with a failing part, then the rest."""
    stations = (
        session.execute(
            select(Station)
            .options(joinedload(Station.room).joinedload(Room.site))
            .where(Station.revoked_at.is_(None), scope.stations_clause(Station.id))
            .order_by(Station.name)
        )
        .scalars()
        .all()
    )
    latest = (
        select(StationStatus.station_id, StationStatus.device, func.max(StationStatus.at).label("at"))
        .group_by(StationStatus.station_id, StationStatus.device)
        .subquery()
    )
    rows = session.execute(
        select(StationStatus)
        .join(
            latest,
            (StationStatus.station_id == latest.c.station_id)
            & (StationStatus.device == latest.c.device)
            & (StationStatus.at == latest.c.at),
        )
        .order_by(StationStatus.device, StationStatus.id.desc())
    ).scalars()
    devices: dict[int, dict[str, DeviceState]] = {}
    for row in rows:
        devices.setdefault(row.station_id, {}).setdefault(
            row.device, DeviceState(row.device, row.state, row.detail, row.at)
        )
    cutoff = now - timedelta(seconds=silent_s)
    result = [
        StationHealth(
            station=station,
            heard=station.last_seen_at is not None and station.last_seen_at >= cutoff,
            devices=list(devices.get(station.id, {}).values()),
        )
        for station in stations
    ]
    result.sort(key=lambda h: (h.heard, not h.failing, h.station.name))
    return result
