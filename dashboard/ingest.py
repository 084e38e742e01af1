"""Apply a station's batch of events: one transaction, idempotent by (station, event id).

The batch's ids are claimed first with one ``INSERT ... ON CONFLICT DO NOTHING RETURNING``; an id
this station sent before changes nothing and counts as a duplicate (a station's ids are unique among
its own events only: the same id from another station is another event). Crossings and
corrections move the room's count with single atomic statements (``occupancy.py``); screenings
and the count raise alerts; the room's new figures and each alert go to the live outbox in the
same transaction. A guard's override (a
screening with ``override_by``) and every correction also go to the audit log, as the dashboard's
own settings changes do.

Ingest is the dashboard's hot path (a fleet sends hundreds of batches a second), so it works with
Core statements on the tables, compiled once and cached, rows of a kind written by one
``executemany`` per batch, and never loads ORM objects: the token lookup returns a ``Sender``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Insert, Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dashboard import audit, live, occupancy
from dashboard.db import utc_now
from dashboard.models import (
    Alert,
    AlertKind,
    Correction,
    Crossing,
    Door,
    IngestedEvent,
    QueueTicket,
    Room,
    Screening,
    Site,
    Station,
    StationStatus,
    TicketStatus,
)
from station.events import (
    CorrectionEvent,
    CrossingEvent,
    Direction,
    Event,
    Mask,
    QueueEvent,
    ScreeningEvent,
    StatusEvent,
)
from station.rooms import limit_from_ppm

# How stale ``stations.last_seen_at`` may be (silence alerts come after minutes).
LAST_SEEN_PRECISION = timedelta(seconds=5)
# Door ids cached per process; past this many the cache starts again.
MAX_CACHED_DOORS = 10_000
#: Events of one ticket number within this much of its issue belong to that ticket (numbers restart daily).
TICKET_SPAN = timedelta(hours=12)
#: A ticket's steps in order: at the same moment, the later step wins.
_TICKET_STEPS = {
    TicketStatus.ISSUED: 0,
    TicketStatus.CALLED: 1,
    TicketStatus.SERVED: 2,
    TicketStatus.NO_SHOW: 2,
    TicketStatus.CANCELLED: 2,
}
NO_MASK_REASONS = frozenset({"no_mask", "mask_below_nose"})
NO_MASK_VERDICTS = frozenset({Mask.WITHOUT_MASK, Mask.INCORRECT})
STATIONS: Table = Station.__table__
ROOMS: Table = Room.__table__
SITES: Table = Site.__table__
ALERTS: Table = Alert.__table__
INGESTED: Table = IngestedEvent.__table__
_ALERT_INSERT = insert(ALERTS).returning(ALERTS.c.id)
_SENDER_QUERY = (
    select(
        STATIONS.c.id,
        STATIONS.c.name,
        STATIONS.c.last_seen_at,
        ROOMS.c.id,
        SITES.c.slug,
        ROOMS.c.slug,
        ROOMS.c.capacity_people,
        ROOMS.c.share_ppm,
    )
    .join_from(STATIONS, ROOMS, STATIONS.c.room_id == ROOMS.c.id)
    .join(SITES, ROOMS.c.site_id == SITES.c.id)
    .where(STATIONS.c.token_sha256 == bindparam("token_sha256"), STATIONS.c.revoked_at.is_(None))
)


@dataclass(frozen=True, slots=True)
class Sender:
    """The station a batch comes from, and its room, as the token lookup found them.

    Attributes:
        station_id: The station's id.
        station_name: The station's name.
        last_seen_at: When the dashboard last heard from it (stored every few seconds), or None.
        room_id: Its room's id.
        site_slug: Its room's site's slug.
        room_slug: Its room's slug (unique within the site).
        capacity_people: The room's capacity.
        limit_people: How many may be inside the room.
    """

    station_id: int
    station_name: str
    last_seen_at: datetime | None
    room_id: int
    site_slug: str
    room_slug: str
    capacity_people: int
    limit_people: int


def sender_for_token(session: Session, token_sha256: str) -> Sender | None:
    """Return the unrevoked station whose token hashes to ``token_sha256``, or None."""
    row = session.execute(_SENDER_QUERY, {"token_sha256": token_sha256}).one_or_none()
    if row is None:
        return None
    station_id, name, last_seen_at, room_id, site_slug, slug, capacity_people, share_ppm = row
    return Sender(
        station_id=station_id,
        station_name=name,
        last_seen_at=last_seen_at,
        room_id=room_id,
        site_slug=site_slug,
        room_slug=slug,
        capacity_people=capacity_people,
        limit_people=limit_from_ppm(capacity_people, share_ppm),
    )


@dataclass(frozen=True, slots=True)
class Rules:
    """The thresholds ingest applies.

    Attributes:
        fever_c: Body temperature from which a screening raises a fever alert.
        near_share: Share of the limit from which a room is near.
    """

    fever_c: float = 37.3
    near_share: float = 0.8


@dataclass(frozen=True, slots=True)
class Result:
    """What a batch did: events applied, and ids seen before."""

    accepted: int
    duplicates: int


def insert_ignoring_conflicts(session: Session, table: Any, values: dict[str, Any], key: list[str]) -> int:
    """Insert a row unless one with the same ``key`` exists; return the rows inserted (0 or 1).

    Counted with ``RETURNING``, since some drivers report no rowcount for ``ON CONFLICT DO NOTHING``.
    """
    dialect = session.get_bind().dialect.name
    statement: Insert
    if dialect == "postgresql":
        statement = postgresql.insert(table).values(**values).on_conflict_do_nothing(index_elements=key)
    elif dialect == "sqlite":
        statement = sqlite.insert(table).values(**values).on_conflict_do_nothing(index_elements=key)
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise RuntimeError(f"unsupported database {dialect}")
    returned = session.execute(statement.returning(*[getattr(table, column) for column in key]))
    return len(returned.all())


def claim(session: Session, sender: Sender, events: list[Event]) -> set[str]:
    """Record the batch's event ids in one statement; return the ids this station had not sent before."""
    if not events:
        return set()
    now = utc_now()
    station_id = sender.station_id
    rows = [
        {"event_id": e.id, "station_id": station_id, "type": str(e.type), "at": e.at, "received_at": now}
        for e in events
    ]
    dialect = session.get_bind().dialect.name
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        dialect_insert(INGESTED)
        .on_conflict_do_nothing(index_elements=["station_id", "event_id"])
        .returning(INGESTED.c.event_id)
    )
    # One row: a plain execute; more: one executemany, sent as multi-row INSERTs ("insertmanyvalues").
    return set(session.execute(statement, rows[0] if len(rows) == 1 else rows).scalars())


def ingest(
    session: Session,
    station: Sender,
    events: list[Event],
    rules: Rules,
    doors: dict[tuple[int, str], int] | None = None,
) -> Result:
    """Apply ``events`` from ``station`` in order and commit; ids seen before change nothing.

    Args:
        session: The request's session.
        station: The sending station (``sender_for_token``).
        events: The checked batch.
        rules: The thresholds.
        doors: A cache of door ids by (station id, door name), kept by the caller between batches
            (doors are never deleted); None looks every door up.
    """
    batch = _Batch(session, station, rules, {} if doors is None else doors)
    fresh = claim(session, station, events)
    accepted = 0
    for event in events:
        if event.id not in fresh:
            continue
        fresh.discard(event.id)  # the same id twice in one batch applies once
        accepted += 1
        batch.apply(event)
    now = utc_now()
    seen = station.last_seen_at
    if seen is None or now - seen >= LAST_SEEN_PRECISION:  # one write per station every few seconds
        session.execute(update(STATIONS).where(STATIONS.c.id == station.station_id).values(last_seen_at=now))
    batch.finish()
    session.commit()
    batch.remember_doors()
    return Result(accepted=accepted, duplicates=len(events) - accepted)


class _Batch:
    """The work of one batch: applies events, remembers what to tell the live stream."""

    def __init__(
        self, session: Session, sender: Sender, rules: Rules, doors: dict[tuple[int, str], int]
    ) -> None:
        self.session = session
        self.sender = sender
        self.rules = rules
        self.doors = doors
        self.new_doors: dict[tuple[int, str], int] = {}
        self.rows: defaultdict[Table, list[dict[str, Any]]] = defaultdict(list)
        self.count_after: int | None = None  # the room's count after the batch's last change
        self.nudges: dict[str, None] = {}  # "queue", "station": pages to tell, in order, once each

    def apply(self, event: Event) -> None:
        if isinstance(event, CrossingEvent):
            self._crossing(event)
        elif isinstance(event, ScreeningEvent):
            self._screening(event)
        elif isinstance(event, CorrectionEvent):
            self._correction(event)
        elif isinstance(event, StatusEvent):
            self._status(event)
        elif isinstance(event, QueueEvent):
            self._queue(event)

    def finish(self) -> None:
        """Write the batch's rows, a table at a time, and the room's new figures to the live stream.

        A queue or device change goes out as a nudge naming the room and station (pages fetch it
        again), once per batch, in the batch's transaction: the pages hear of it exactly when it
        is committed.
        """
        for table, rows in self.rows.items():
            # compiled once per table: SQLAlchemy caches statements by their structure
            self.session.execute(insert(table), rows[0] if len(rows) == 1 else rows)
        if self.count_after is not None:  # the count each UPDATE returned: no need to read it again
            sender = self.sender
            snapshot = occupancy.figures(
                (sender.site_slug, sender.room_slug),
                self.count_after,
                sender.limit_people,
                sender.capacity_people,
                self.rules.near_share,
            )
            live.publish(self.session, "occupancy", snapshot)
        sender = self.sender
        for kind in self.nudges:
            nudge = {"site": sender.site_slug, "room": sender.room_slug, "station": sender.station_name}
            live.publish(self.session, kind, nudge)

    def _row(self, model: type[Any], **values: Any) -> None:
        self.rows[model.__table__].append(values)

    def _crossing(self, event: CrossingEvent) -> None:
        sender = self.sender
        if event.direction is Direction.IN:
            change = occupancy.enter(self.session, sender.room_id)
            if change.occupancy_people > sender.limit_people:  # only an entry takes a room over
                self._over_limit(event, change.occupancy_people)
        else:
            change = occupancy.leave(self.session, sender.room_id)
            if change.moved and change.occupancy_people == sender.limit_people:  # back at the limit
                occupancy.crossed_over(
                    self.session, sender.room_id, change.occupancy_people, sender.limit_people
                )
        self.count_after = change.occupancy_people
        self._row(
            Crossing,
            event_id=event.id,
            room_id=sender.room_id,
            station_id=sender.station_id,
            door_id=self._door(event.door),
            direction=str(event.direction),
            source=event.source,
            at=event.at,
            counted=change.moved,
            occupancy_after=change.occupancy_people,
        )

    def _screening(self, event: ScreeningEvent) -> None:
        self._row(
            Screening,
            event_id=event.id,
            room_id=self.sender.room_id,
            station_id=self.sender.station_id,
            at=event.at,
            decision=str(event.decision),
            reason=event.reason,
            raw_c=event.raw_c,
            body_c=event.body_c,
            mask=str(event.mask) if event.mask else None,
            temperature_policy=str(event.temperature_policy),
            mask_policy=str(event.mask_policy),
            retest=event.retest,
            ticket=event.ticket,
            override_by=event.override_by,
            override_reason=event.override_reason,
        )
        if event.override_by:
            audit.record(
                self.session,
                self._actor(event.override_by),
                "override",
                f"screening {event.id} at {self.sender.station_name}: {event.decision} ({event.reason}); "
                f"why: {event.override_reason or '-'}",
                room_id=self.sender.room_id,
            )
        fever = event.reason.startswith("fever") or (
            event.body_c is not None and event.body_c >= self.rules.fever_c
        )
        if fever:
            again = event.retest or event.reason == "fever_retest"
            kind = AlertKind.FEVER_RETEST if again else AlertKind.FEVER
            body = f"{event.body_c:.1f} °C" if event.body_c is not None else event.reason
            self._alert(kind, event, f"{body}, {event.decision}")
        if event.reason in NO_MASK_REASONS or event.mask in NO_MASK_VERDICTS:
            self._alert(AlertKind.NO_MASK, event, f"{event.mask or event.reason}, {event.decision}")

    def _correction(self, event: CorrectionEvent) -> None:
        sender = self.sender
        if event.value is not None:
            change = occupancy.set_to(self.session, sender.room_id, event.value)
        else:
            change = occupancy.add(self.session, sender.room_id, event.delta or 0)
        self._over_limit(event, change.occupancy_people)
        self.count_after = change.occupancy_people
        self._row(
            Correction,
            event_id=event.id,
            room_id=sender.room_id,
            station_id=sender.station_id,
            at=event.at,
            delta=event.delta,
            value=event.value,
            by=event.by,
            reason=event.reason,
            occupancy_after=change.occupancy_people,
        )
        amount = f"set to {event.value}" if event.value is not None else f"{event.delta:+d}"
        audit.record(
            self.session,
            self._actor(event.by),
            "correction",
            f"{sender.room_slug} {amount} -> {change.occupancy_people} at {sender.station_name}; "
            f"why: {event.reason or '-'}",
            room_id=sender.room_id,
        )

    def _over_limit(self, event: Event, occupancy_people: int) -> None:
        """Raise the one over-limit alert of this excursion above the limit, or end the excursion."""
        limit = self.sender.limit_people
        if occupancy.crossed_over(self.session, self.sender.room_id, occupancy_people, limit):
            self._alert(AlertKind.OVER_LIMIT, event, f"{occupancy_people} inside, limit {limit}")

    def _actor(self, who: str) -> str:
        """A guard as the audit log names them: ``station/guard`` (the column holds 64 characters)."""
        return f"{self.sender.station_name}/{who}"[:64]

    def _status(self, event: StatusEvent) -> None:
        self.nudges["station"] = None
        self._row(
            StationStatus,
            event_id=event.id,
            station_id=self.sender.station_id,
            at=event.at,
            device=event.device,
            state=event.state,
            detail=event.detail,
        )
        if event.device == "uplink" and event.state == "set_aside":
            # Events this dashboard refused sit in the station's journal: a person must look.
            self._alert(AlertKind.EVENTS_SET_ASIDE, event, event.detail)

    def _queue(self, event: QueueEvent) -> None:
        """Bring the event's ticket to its latest state, in whatever order its events arrive.

        The event belongs to the room's ticket of that number issued nearest its time, within
        ``TICKET_SPAN`` (a ``called`` may arrive before its ``issued``: the ticket is made then and the
        ``issued`` only moves its issue time back). The later event's status wins; at the same moment,
        the later step.
        """
        self.nudges["queue"] = None
        status = TicketStatus(str(event.action))
        room_id = self.sender.room_id
        candidates = self.session.execute(
            select(QueueTicket).where(
                QueueTicket.room_id == room_id,
                QueueTicket.ticket == event.ticket,
                QueueTicket.issued_at >= event.at - TICKET_SPAN,
                QueueTicket.issued_at <= event.at + TICKET_SPAN,
            )
        ).scalars()
        ticket = min(candidates, key=lambda t: (abs(t.issued_at - event.at), t.id or 0), default=None)
        if ticket is None:
            self.session.add(
                QueueTicket(
                    room_id=room_id,
                    ticket=event.ticket,
                    status=str(status),
                    issued_at=event.at,
                    updated_at=event.at,
                )
            )
            return
        ticket.issued_at = min(ticket.issued_at, event.at)  # no step comes before the issue
        newer = (event.at, _TICKET_STEPS[status]) > (
            ticket.updated_at,
            _TICKET_STEPS[TicketStatus(ticket.status)],
        )
        if newer:
            ticket.status = str(status)
            ticket.updated_at = event.at

    def _door(self, name: str) -> int:
        key = (self.sender.station_id, name)
        known = self.doors.get(key) or self.new_doors.get(key)
        if known is None:
            station_id = self.sender.station_id
            insert_ignoring_conflicts(
                self.session, Door, {"station_id": station_id, "name": name}, ["station_id", "name"]
            )
            known = self.session.execute(
                select(Door.id).where(Door.station_id == station_id, Door.name == name)
            ).scalar_one()
            self.new_doors[key] = known
        return known

    def remember_doors(self) -> None:
        """Add the doors this batch found to the cache (after the commit: a rollback forgets them)."""
        if len(self.doors) + len(self.new_doors) > MAX_CACHED_DOORS:
            self.doors.clear()
        self.doors.update(self.new_doors)

    def _alert(self, kind: AlertKind, event: Event, detail: str) -> None:
        sender = self.sender
        raise_alert(
            self.session,
            kind,
            (sender.room_id, sender.site_slug, sender.room_slug),
            (sender.station_id, sender.station_name),
            event.at,
            detail,
        )


def raise_alert(
    session: Session,
    kind: AlertKind,
    room: tuple[int, str, str] | None,
    station: tuple[int, str] | None,
    at: datetime,
    detail: str,
) -> None:
    """Add an alert and send it to the live stream, in the caller's transaction.

    Args:
        session: The session.
        kind: Why.
        room: The room's (id, site slug, slug), or None.
        station: The station's (id, name), or None (a change made on the dashboard).
        at: When it happened.
        detail: A sentence for the supervisor.
    """
    values = {
        "kind": str(kind),
        "room_id": room[0] if room else None,
        "station_id": station[0] if station else None,
        "at": at,
        "detail": detail,
    }
    alert_id = session.execute(_ALERT_INSERT, values).scalar_one()
    payload = alert_payload(
        alert_id, str(kind), room[1:] if room else None, station[1] if station else None, at, detail
    )
    live.publish(session, "alert", payload)


def alert_payload(
    alert_id: int,
    kind: str,
    room: tuple[str, str] | None,
    station_name: str | None,
    at: datetime,
    detail: str,
) -> dict[str, Any]:
    """Return an alert as the live stream sends it; ``room`` is its (site slug, room slug), or None."""
    return {
        "id": alert_id,
        "kind": kind,
        "site": room[0] if room else None,
        "room": room[1] if room else None,
        "station": station_name,
        "at": at.isoformat(),
        "detail": detail,
    }
