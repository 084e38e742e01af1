"""Apply a station's batch of events: one transaction, idempotent by event id.

The batch's ids are claimed first with one ``INSERT ... ON CONFLICT DO NOTHING RETURNING``; an id
seen before changes nothing and counts as a duplicate. Crossings and corrections move the room's count with
single atomic statements (``occupancy.py``); screenings and the count raise alerts; the room's new
figures and each alert go to the live outbox in the same transaction. A guard's override (a
screening with ``override_by``) and every correction also go to the audit log, as the dashboard's
own settings changes do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Insert, select, update
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
    QueueAction,
    QueueEvent,
    ScreeningEvent,
    StatusEvent,
)

# How stale ``stations.last_seen_at`` may be (silence alerts come after minutes).
LAST_SEEN_PRECISION = timedelta(seconds=5)
# Door ids cached per process; past this many the cache starts again.
MAX_CACHED_DOORS = 10_000
NO_MASK_REASONS = frozenset({"no_mask", "mask_below_nose"})
NO_MASK_VERDICTS = frozenset({Mask.WITHOUT_MASK, Mask.INCORRECT})


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


def claim(session: Session, station: Station, events: list[Event]) -> set[str]:
    """Record the batch's event ids in one statement; return the ids not seen before."""
    if not events:
        return set()
    rows = [
        {
            "event_id": e.id,
            "station_id": station.id,
            "type": str(e.type),
            "at": e.at,
            "received_at": utc_now(),
        }
        for e in events
    ]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(IngestedEvent)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(IngestedEvent.event_id)
    )
    return set(session.execute(statement).scalars())


def ingest(
    session: Session,
    station: Station,
    events: list[Event],
    rules: Rules,
    doors: dict[tuple[int, str], int] | None = None,
) -> Result:
    """Apply ``events`` from ``station`` in order and commit; ids seen before change nothing.

    Args:
        session: The request's session.
        station: The sending station (with its room loaded).
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
        session.execute(update(Station).where(Station.id == station.id).values(last_seen_at=now))
    batch.finish()
    session.commit()
    batch.remember_doors()
    return Result(accepted=accepted, duplicates=len(events) - accepted)


class _Batch:
    """The work of one batch: applies events, remembers what to tell the live stream."""

    def __init__(
        self, session: Session, station: Station, rules: Rules, doors: dict[tuple[int, str], int]
    ) -> None:
        self.session = session
        self.station = station
        self.room: Room = station.room
        self.rules = rules
        self.doors = doors
        self.new_doors: dict[tuple[int, str], int] = {}
        self.count_after: int | None = None  # the room's count after the batch's last change

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
        if self.count_after is not None:  # the count each UPDATE returned: no need to read it again
            snapshot = occupancy.snapshot(self.room, self.rules.near_share, self.count_after)
            live.publish(self.session, "occupancy", snapshot)

    def _crossing(self, event: CrossingEvent) -> None:
        if event.direction is Direction.IN:
            change = occupancy.enter(self.session, self.room.id)
            if change.occupancy_people == self.room.limit_people + 1:
                self._alert(
                    AlertKind.OVER_LIMIT,
                    event,
                    f"{change.occupancy_people} inside, limit {self.room.limit_people}",
                )
        else:
            change = occupancy.leave(self.session, self.room.id)
        self.count_after = change.occupancy_people
        self.session.add(
            Crossing(
                event_id=event.id,
                room_id=self.room.id,
                station_id=self.station.id,
                door_id=self._door(event.door),
                direction=str(event.direction),
                source=event.source,
                at=event.at,
                counted=change.moved,
                occupancy_after=change.occupancy_people,
            )
        )

    def _screening(self, event: ScreeningEvent) -> None:
        self.session.add(
            Screening(
                event_id=event.id,
                room_id=self.room.id,
                station_id=self.station.id,
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
        )
        if event.override_by:
            audit.record(
                self.session,
                self._actor(event.override_by),
                "override",
                f"screening {event.id} at {self.station.name}: {event.decision} ({event.reason}); "
                f"why: {event.override_reason or '-'}",
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
        if event.value is not None:
            change = occupancy.set_to(self.session, self.room.id, event.value)
        else:
            change = occupancy.add(self.session, self.room.id, event.delta or 0)
        self.count_after = change.occupancy_people
        self.session.add(
            Correction(
                event_id=event.id,
                room_id=self.room.id,
                station_id=self.station.id,
                at=event.at,
                delta=event.delta,
                value=event.value,
                by=event.by,
                reason=event.reason,
                occupancy_after=change.occupancy_people,
            )
        )
        amount = f"set to {event.value}" if event.value is not None else f"{event.delta:+d}"
        audit.record(
            self.session,
            self._actor(event.by),
            "correction",
            f"{self.room.slug} {amount} -> {change.occupancy_people} at {self.station.name}; "
            f"why: {event.reason or '-'}",
        )

    def _actor(self, who: str) -> str:
        """A guard as the audit log names them: ``station/guard`` (the column holds 64 characters)."""
        return f"{self.station.name}/{who}"[:64]

    def _status(self, event: StatusEvent) -> None:
        self.session.add(
            StationStatus(
                event_id=event.id,
                station_id=self.station.id,
                at=event.at,
                device=event.device,
                state=event.state,
                detail=event.detail,
            )
        )

    def _queue(self, event: QueueEvent) -> None:
        status = TicketStatus(str(event.action))
        if event.action is not QueueAction.ISSUED:
            ticket = self.session.execute(
                select(QueueTicket)
                .where(QueueTicket.room_id == self.room.id, QueueTicket.ticket == event.ticket)
                .order_by(QueueTicket.issued_at.desc(), QueueTicket.id.desc())
                .limit(1)
            ).scalar_one_or_none()
            if ticket is not None:
                ticket.status = str(status)
                ticket.updated_at = event.at
                return
        self.session.add(
            QueueTicket(
                room_id=self.room.id,
                ticket=event.ticket,
                status=str(status),
                issued_at=event.at,
                updated_at=event.at,
            )
        )

    def _door(self, name: str) -> int:
        key = (self.station.id, name)
        known = self.doors.get(key) or self.new_doors.get(key)
        if known is None:
            insert_ignoring_conflicts(
                self.session, Door, {"station_id": self.station.id, "name": name}, ["station_id", "name"]
            )
            known = self.session.execute(
                select(Door.id).where(Door.station_id == self.station.id, Door.name == name)
            ).scalar_one()
            self.new_doors[key] = known
        return known

    def remember_doors(self) -> None:
        """Add the doors this batch found to the cache (after the commit: a rollback forgets them)."""
        if len(self.doors) + len(self.new_doors) > MAX_CACHED_DOORS:
            self.doors.clear()
        self.doors.update(self.new_doors)

    def _alert(self, kind: AlertKind, event: Event, detail: str) -> None:
        alert = Alert(
            kind=str(kind), room_id=self.room.id, station_id=self.station.id, at=event.at, detail=detail
        )
        self.session.add(alert)
        self.session.flush()
        live.publish(self.session, "alert", alert_payload(alert, self.room.slug, self.station.name))


def alert_payload(alert: Alert, room_slug: str | None, station_name: str | None) -> dict[str, Any]:
    """Return an alert as the live stream sends it."""
    return {
        "id": alert.id,
        "kind": alert.kind,
        "room": room_slug,
        "station": station_name,
        "at": alert.at.isoformat(),
        "detail": alert.detail,
    }
