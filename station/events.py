"""The wire schema: the events a station emits and the dashboard's API v1 accepts.

This module is the only one the dashboard imports from the station. Every event is a frozen
dataclass with an ``id`` (a UUID the station makes once, so the dashboard can ingest idempotently),
a ``type`` and ``at`` (ISO 8601 with a time zone). ``parse_event`` checks a JSON object field by
field and raises ``EventError`` naming the field; ``to_json`` gives the object back.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import MISSING, asdict, dataclass, field, fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

API_VERSION = "v1"
MAX_TEXT = 500


class EventType(StrEnum):
    """What happened."""

    CROSSING = "crossing"
    SCREENING = "screening"
    CORRECTION = "correction"
    STATUS = "status"
    QUEUE = "queue"


class Direction(StrEnum):
    """Which way a person crossed the door."""

    IN = "in"
    OUT = "out"


class Decision(StrEnum):
    """The outcome of a screening."""

    ALLOW = "allow"
    DENY = "deny"
    RETEST = "retest"


class Policy(StrEnum):
    """What a failed check does: HARD denies (and logs), SOFT allows (and logs)."""

    HARD = "hard"
    SOFT = "soft"


class Mask(StrEnum):
    """The mask verdict, as the wire carries it."""

    WITH_MASK = "with_mask"
    WITHOUT_MASK = "without_mask"
    INCORRECT = "incorrect"


class QueueAction(StrEnum):
    """What happened to a queue ticket."""

    ISSUED = "issued"
    CALLED = "called"
    SERVED = "served"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


class EventError(ValueError):
    """An event that does not match the schema.

    Attributes:
        field: The offending field's name (``events[3].body_c`` style when raised by ``parse_batch``).
    """

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


def new_id() -> str:
    """Return a fresh event id."""
    return str(uuid.uuid4())


def utc_now() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Fields every event has."""

    type: ClassVar[EventType]
    id: str = field(default_factory=new_id)
    at: datetime = field(default_factory=utc_now)

    def to_json(self) -> dict[str, Any]:
        """Return the event as the API's JSON object."""
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return {
            "type": str(self.type),
            **{k: str(v) if isinstance(v, StrEnum) else v for k, v in data.items()},
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CrossingEvent(Event):
    """A person crossed a door of the station's room.

    Attributes:
        direction: ``in`` or ``out`` of the room.
        door: Which door or line (the station's own name for it).
        source: ``camera``, ``beams`` or ``manual``.
    """

    type: ClassVar[EventType] = EventType.CROSSING
    direction: Direction
    door: str = "main"
    source: str = "camera"


@dataclass(frozen=True, slots=True, kw_only=True)
class ScreeningEvent(Event):
    """A visitor was screened.

    Attributes:
        decision: ``allow``, ``deny`` or ``retest`` (fever on a first test: rest, then measure again).
        reason: Why, as a code: ``ok``, ``fever``, ``fever_retest``, ``no_mask``, ``mask_below_nose``,
            ``override``, ``full`` ...
        raw_c: What the sensor read (skin), or None when no temperature was taken.
        body_c: The body estimate from ``raw_c`` (or the device's own), or None.
        mask: The mask verdict, or None when masks are not checked.
        temperature_policy: HARD or SOFT for the temperature check.
        mask_policy: HARD or SOFT for the mask check.
        retest: Whether this was the measurement after the rest.
        ticket: A queue or re-test ticket number given to the visitor, or None.
        override_by: The guard who overrode the machine's decision, or None.
        override_reason: Why they did.
    """

    type: ClassVar[EventType] = EventType.SCREENING
    decision: Decision
    reason: str = "ok"
    raw_c: float | None = None
    body_c: float | None = None
    mask: Mask | None = None
    temperature_policy: Policy = Policy.HARD
    mask_policy: Policy = Policy.HARD
    retest: bool = False
    ticket: int | None = None
    override_by: str | None = None
    override_reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CorrectionEvent(Event):
    """A guard corrected the room's count: by ``delta``, or to ``value``.

    Attributes:
        delta: People to add (negative to remove); None when ``value`` is given.
        value: The count to set; None when ``delta`` is given.
        by: Who corrected.
        reason: Why.
    """

    type: ClassVar[EventType] = EventType.CORRECTION
    delta: int | None = None
    value: int | None = None
    by: str
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusEvent(Event):
    """A part of the station changed state (a device offline, the journal's disk full ...).

    Attributes:
        device: ``station``, ``thermometer``, ``camera``, ``beams``, ``relay``, ``journal`` ...
        state: ``online``, ``offline``, ``error`` ...
        detail: A sentence for the supervisor.
    """

    type: ClassVar[EventType] = EventType.STATUS
    device: str
    state: str
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueEvent(Event):
    """A queue ticket was issued, called, served (its holder walked in), a no-show or cancelled.

    Attributes:
        ticket: The ticket number.
        action: What happened to it.
    """

    type: ClassVar[EventType] = EventType.QUEUE
    ticket: int
    action: QueueAction


EVENT_CLASSES: dict[EventType, type[Event]] = {
    cls.type: cls for cls in (CrossingEvent, ScreeningEvent, CorrectionEvent, StatusEvent, QueueEvent)
}


def parse_event(data: object) -> Event:
    """Check a JSON object and build its event.

    Raises:
        EventError: A field is missing, unknown or of the wrong type or value.
    """
    if not isinstance(data, dict):
        raise EventError("event", "expected a JSON object")
    kind = data.get("type")
    try:
        cls = EVENT_CLASSES[EventType(str(kind))]
    except (ValueError, TypeError):
        raise EventError("type", f"expected one of {', '.join(EventType)}, got {kind!r}") from None
    specs = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(specs) - {"type"})
    if unknown:
        raise EventError(unknown[0], "unknown field")
    values: dict[str, Any] = {}
    for name, spec in specs.items():
        if name not in data:
            if _required(spec):
                raise EventError(name, "missing")
            continue
        values[name] = _check(name, str(spec.type), data[name])
    if cls is CorrectionEvent and (values.get("delta") is None) == (values.get("value") is None):
        raise EventError("delta", "give exactly one of delta and value")
    return cls(**values)


def parse_batch(data: object, *, max_events: int = 500) -> list[Event]:
    """Check a ``{"events": [...]}`` body; one bad event rejects the whole batch.

    Raises:
        EventError: With ``field`` naming the event by index and id, then the field.
    """
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise EventError("events", 'expected {"events": [...]}')
    if set(data) - {"events"}:
        raise EventError(sorted(set(data) - {"events"})[0], "unknown field")
    raw = data["events"]
    if len(raw) > max_events:
        raise EventError("events", f"at most {max_events} events per batch, got {len(raw)}")
    events = []
    for index, item in enumerate(raw):
        try:
            events.append(parse_event(item))
        except EventError as err:
            ident = item.get("id") if isinstance(item, dict) else None
            where = f"events[{index}]" + (f" ({ident})" if isinstance(ident, str) else "")
            raise EventError(f"{where}.{err.field}", err.message) from None
    return events


def _required(spec: Any) -> bool:
    return spec.default is MISSING and spec.default_factory is MISSING


_ENUMS: dict[str, type[StrEnum]] = {
    "Direction": Direction,
    "Decision": Decision,
    "Policy": Policy,
    "Mask": Mask,
    "QueueAction": QueueAction,
}


def _check(name: str, type_text: str, value: object) -> Any:
    optional = type_text.endswith("| None")
    base = type_text.removesuffix(" | None")
    if value is None:
        if optional:
            return None
        raise EventError(name, "must not be null")
    if name == "id":
        return _uuid(value)
    if base == "datetime":
        return _timestamp(name, value)
    if base in _ENUMS:
        enum = _ENUMS[base]
        if not isinstance(value, str) or value not in {member.value for member in enum}:
            raise EventError(name, f"expected one of {', '.join(enum)}, got {str(value)[:64]!r}")
        return enum(value)
    if base == "bool":
        if not isinstance(value, bool):
            raise EventError(name, "expected true or false")
        return value
    if base == "int":
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > 1_000_000:
            raise EventError(name, "expected a whole number")
        return value
    if base == "float":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise EventError(name, "expected a number")
        if not -100.0 <= value <= 200.0:
            raise EventError(name, "out of range (-100 to 200 degrees C)")
        return float(value)
    if not isinstance(value, str):
        raise EventError(name, "expected text")
    if len(value) > MAX_TEXT:
        raise EventError(name, f"longer than {MAX_TEXT} characters")
    return value


def _uuid(value: object) -> str:
    if not isinstance(value, str):
        raise EventError("id", "expected a UUID")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise EventError("id", f"expected a UUID, got {value[:40]!r}") from None


def _timestamp(name: str, value: object) -> datetime:
    if not isinstance(value, str):
        raise EventError(name, "expected an ISO 8601 time")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise EventError(name, f"expected an ISO 8601 time, got {value[:40]!r}") from None
    if moment.tzinfo is None:
        raise EventError(name, "needs a time zone (such as Z or +07:00)")
    return moment.astimezone(UTC)
