"""The station's hub: joins the screening, the room's ledger, the queue, the journal and the gate.

Every input arrives here (a reading, a camera frame's face, a door crossing, a guard's action),
under one lock. Every decision and change is journalled before the kiosk's state changes, so what
the kiosk has shown is never lost. Nothing here touches hardware directly: the gate output is a
``Switch`` passed in, time comes from a clock passed in.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from sensors.relay import Switch
from station import screening as sc
from station.events import (
    CorrectionEvent,
    CrossingEvent,
    Decision,
    Direction,
    Event,
    Mask,
    QueueAction,
    QueueEvent,
    ScreeningEvent,
    StatusEvent,
    utc_now,
)
from station.journal import Journal, JournalError
from station.kiosk_states import LIGHT_WORDS, ROWS, Light, detail_of, scene_of
from station.occupancy import Ledger, RoomState
from station.queue import Queue, Ticket
from station.rooms import CONFIRM_JUMP_PEOPLE, needs_confirmation

log = logging.getLogger(__name__)


class ConfirmationNeededError(ValueError):
    """A correction too large to take on one tap: above the room's capacity or a jump of more than 10.

    Attributes:
        current_people: The count now (unchanged).
        target_people: The count the correction asked for.
        capacity_people: The room's capacity.
    """

    def __init__(self, current_people: int, target_people: int, capacity_people: int) -> None:
        super().__init__(
            f"setting the count from {current_people} to {target_people} (capacity {capacity_people}) "
            'needs confirmation: send it again with "confirm": true'
        )
        self.current_people = current_people
        self.target_people = target_people
        self.capacity_people = capacity_people


__all__ = [
    "CONFIRM_JUMP_PEOPLE",
    "ConfirmationNeededError",
    "FaceObservation",
    "KioskState",
    "Light",
    "Station",
]


@dataclass(frozen=True, slots=True)
class FaceObservation:
    """What one camera frame says of the visitor in front of the station.

    Attributes:
        at: When the frame was taken.
        present: A face is in view.
        in_position: The face is inside the guide and large enough.
        mask: The mask verdict of that face, or None when not classified.
        mask_probabilities: The classifier's probabilities of with_mask, without_mask and incorrect
            behind ``mask`` (pooled over frames by the screening), or None (``mask`` counts alone).
    """

    at: datetime
    present: bool
    in_position: bool = False
    mask: Mask | None = None
    mask_probabilities: tuple[float, ...] | None = None


@dataclass(slots=True)
class KioskState:
    """Everything the kiosk shows, as sent to it over Server-Sent Events."""

    light: Light = Light.GREY
    #: The scene of the kiosk's table (``kiosk_states``) and what it shows: the light's word, an
    #: icon, a headline and a detail (text keys).
    scene: str = "welcome"
    light_word: str = "light_ready"
    icon: str = ""
    headline: str = "head_welcome"
    detail: str = "welcome"
    message: str = sc.Message.WELCOME
    state: str = sc.State.IDLE
    raw_c: float | None = None
    body_c: float | None = None
    mask: str | None = None
    decision: str | None = None
    reason: str | None = None
    occupancy_people: int = 0
    limit_people: int = 0
    #: Where the limit comes from: ``config``, ``dashboard``, or ``last_known`` (offline, kept).
    limit_source: str = "config"
    room_state: str = RoomState.OPEN
    queue_ticket: int | None = None
    queue_waiting: list[int] = field(default_factory=list)
    queue_called: int | None = None
    queue_wait_min: float | None = None
    retest_ticket: int | None = None
    retest_wait_s: float | None = None
    devices: dict[str, str] = field(default_factory=dict)
    #: Today's crossings per door: ``{"main": {"in": 12, "out": 9}}``.
    doors: dict[str, dict[str, int]] = field(default_factory=dict)
    #: Events the dashboard refused, kept in the journal (``gerbang station resend``).
    set_aside: int = 0
    journal_ok: bool = True
    seq: int = 0

    def as_json(self) -> dict:
        """Return the state as a JSON object."""
        return {
            key: str(value) if isinstance(value, StrEnum) else value for key, value in asdict(self).items()
        }


class Station:
    """The hub. Thread-safe: every public method takes the lock.

    Args:
        screening: The screening's rules.
        ledger: The room's ledger.
        journal: Where every event goes first.
        gate: The door lock or traffic light, or None.
        gate_open_s: How long the gate stays open after an admission.
        camera: Whether a camera watches the visitor (without one, presence comes from the
            thermometer and masks are not checked).
        clock: Returns the current time (UTC).
        on_change: Called with the new kiosk state after every change.
        on_decision: Called with each decision's latency in seconds: from the input that decided it
            to the decision journaled (the station's metrics).
        call_timeout_s: How long a called ticket waits for its holder before it is a no-show.
    """

    def __init__(
        self,
        screening: sc.ScreeningConfig,
        ledger: Ledger,
        journal: Journal,
        *,
        gate: Switch | None = None,
        gate_open_s: float = 5.0,
        camera: bool = True,
        clock: Callable[[], datetime] = utc_now,
        on_change: Callable[[KioskState], None] | None = None,
        on_decision: Callable[[float], None] | None = None,
        call_timeout_s: float = 120.0,
    ) -> None:
        if not camera:
            screening = sc.ScreeningConfig(**{**asdict(screening), "mask_check": False})
        self.screening = sc.Screening(screening)
        self.ledger = ledger
        self.queue = Queue()
        self.journal = journal
        self._gate = gate
        self._gate_open_s = gate_open_s
        self._gate_until: datetime | None = None
        self._camera = camera
        self._clock = clock
        self._on_change = on_change
        self._on_decision = on_decision
        self._lock = threading.RLock()
        self._state = KioskState()
        self._held: list[Event] = []
        self._visitor_ticket: int | None = None
        self._call_timeout = timedelta(seconds=call_timeout_s)
        self._refresh()

    # inputs ---------------------------------------------------------------------------------------

    def reading(
        self, at: datetime, raw_c: float | None, ambient_c: float | None, body_c: float | None
    ) -> None:
        """Take a thermometer reading."""
        with self._lock:
            if not self._camera:
                present = (raw_c if raw_c is not None else body_c or 0.0) >= self.screening.config.raw_min_c
                self._feed(sc.Presence(at, present, present))
            self._feed(sc.Sample(at, raw_c, ambient_c, body_c))
            self._refresh()

    def face(self, observation: FaceObservation) -> None:
        """Take one camera frame's observation of the visitor."""
        with self._lock:
            self._feed(sc.Presence(observation.at, observation.present, observation.in_position))
            if observation.in_position and observation.mask is not None:
                self._feed(sc.MaskVote(observation.at, observation.mask, observation.mask_probabilities))
            self._refresh()

    def crossing(
        self, direction: Direction, door: str = "main", source: str = "camera", at: datetime | None = None
    ) -> None:
        """Count a person crossing the room's door."""
        with self._lock:
            at = at or self._clock()
            self._record(CrossingEvent(direction=direction, door=door, source=source, at=at))
            self.ledger.cross(direction, at)
            door_counts = self._state.doors.setdefault(door, {"in": 0, "out": 0})
            door_counts[str(direction)] += 1
            if direction is Direction.IN:
                self._serve(at)  # the called ticket's holder walked in
            self._call_if_room(at)
            self._refresh()

    def device(self, name: str, state: str, detail: str = "") -> None:
        """Record a device's state change (``thermometer`` offline, ``dashboard`` online ...)."""
        with self._lock:
            if self._state.devices.get(name) == state:
                return
            self._state.devices[name] = state
            if name == "thermometer" and state == "offline":
                self._feed(sc.SensorLost(self._clock()))
            if name == "thermometer" and state == "online":
                self._feed(sc.SensorFound(self._clock()))
            if name == "dashboard" and state == "offline":
                self.ledger.offline()
            if name != "dashboard":
                self._record(StatusEvent(device=name, state=state, detail=detail, at=self._clock()))
            self._refresh()

    def set_aside(self, count: int, detail: str = "") -> None:
        """Note how many events the dashboard refused (kept in the journal); the dashboard hears it too."""
        with self._lock:
            if self._state.set_aside == count:
                return
            self._state.set_aside = count
            state = "set_aside" if count else "online"
            detail = detail or (f"{count} event(s) refused, kept in the journal" if count else "")
            self._record(StatusEvent(device="uplink", state=state, detail=detail[:500], at=self._clock()))
            self._refresh()

    def tick(self) -> None:
        """Let time pass: timeouts, the gate closing, a called ticket expiring, retrying the journal."""
        with self._lock:
            now = self._clock()
            self._feed(sc.Tick(now))
            if self._gate_until is not None and now >= self._gate_until:
                self._gate_until = None
                self._switch(False)
            if self.queue.overdue(now, self._call_timeout):
                self._close_call(self.queue.no_show(), QueueAction.NO_SHOW, now)
                self._call_if_room(now)
            if self._held:
                self._flush_held()
            self._refresh()

    # guard actions ----------------------------------------------------------------------------------

    def override(self, decision: Decision, by: str, reason: str) -> None:
        """A guard admits (or turns away) the visitor in front of the station, with a reason."""
        with self._lock:
            if not reason.strip():
                raise ValueError("an override needs a reason")
            view = self.screening.view
            now = self._clock()
            event = ScreeningEvent(
                decision=decision,
                reason="override",
                raw_c=view.raw_c,
                body_c=view.body_c,
                mask=view.mask,
                temperature_policy=self.screening.config.temperature_policy,
                mask_policy=self.screening.config.mask_policy,
                override_by=by,
                override_reason=reason.strip(),
                at=now,
            )
            self._record(event)
            self._state.decision, self._state.reason = str(decision), "override"
            if decision is Decision.ALLOW:
                self._admit(now)
            self._refresh(keep_decision=True)

    def correct(
        self,
        by: str,
        reason: str,
        *,
        delta: int | None = None,
        value: int | None = None,
        confirm: bool = False,
    ) -> int:
        """A guard corrects the room's count (+1, -1, or set to N), saying why; return the new count.

        Raises:
            ConfirmationNeededError: The count would go above the room's capacity or move by more than
                ``CONFIRM_JUMP_PEOPLE`` (``station.rooms``), and ``confirm`` is false; nothing changed.
            ValueError: No reason, or not exactly one of ``delta`` and ``value``.
        """
        with self._lock:
            if not reason.strip():
                raise ValueError("a correction needs a reason")
            if (delta is None) == (value is None):
                raise ValueError("give exactly one of delta and value")
            current = self.ledger.occupancy_people
            target = max(0, current + delta if delta is not None else (value or 0))
            capacity = self.ledger.capacity_people
            if not confirm and needs_confirmation(current, target, capacity):
                raise ConfirmationNeededError(current, target, capacity)
            self.ledger.correct(delta=delta, value=value)
            now = self._clock()
            self._record(CorrectionEvent(delta=delta, value=value, by=by, reason=reason.strip(), at=now))
            self._call_if_room(now)
            self._refresh()
            return self.ledger.occupancy_people

    def call_next(self) -> Ticket | None:
        """The guard calls the next queue ticket now (None when nobody waits: nothing changes).

        A ticket still called and not yet served becomes a no-show: the guard moved on.
        """
        with self._lock:
            now = self._clock()
            if not self.queue.waiting:
                return None
            if self.queue.called is not None:
                self._close_call(self.queue.no_show(), QueueAction.NO_SHOW, now)
            ticket = self._call(now)
            self._refresh()
            return ticket

    def start_retest(self, ticket: int) -> tuple[sc.Message, float | None]:
        """The visitor with re-test ticket ``ticket`` is back after the rest.

        Returns:
            What the screening said (``retest_ready``, ``retest_wait`` with the seconds of rest
            left, or ``retest_unknown``).
        """
        with self._lock:
            self._feed(sc.StartRetest(self._clock(), ticket))
            self._refresh()
            view = self.screening.view
            return view.message, view.retest_wait_s

    def reconcile(self, occupancy_people: int, journal_seq: int | None = None) -> None:
        """Take the dashboard's figure for the room (all doors).

        Args:
            occupancy_people: The dashboard's figure.
            journal_seq: The journal's newest sequence number when the figure was asked for; when
                the station has journalled anything since, the figure is behind and is ignored.
        """
        with self._lock:
            if journal_seq is not None and self.journal.last_seq() != journal_seq:
                return
            self.ledger.reconcile(occupancy_people)
            self._state.devices["dashboard"] = "online"
            self._call_if_room(self._clock())
            self._refresh()

    def set_limit(self, limit_people: int, capacity_people: int | None = None) -> None:
        """Take the room's limit from the dashboard (its settings win over the station's file)."""
        with self._lock:
            self.ledger.set_limit(limit_people, capacity_people)
            self._state.devices["dashboard"] = "online"
            self._call_if_room(self._clock())
            self._refresh()

    def restore_limit(self, limit_people: int, capacity_people: int) -> None:
        """Take the dashboard's last limit, kept from before a restart (shown as ``last_known``)."""
        with self._lock:
            self.ledger.restore_limit(limit_people, capacity_people)
            self._refresh()

    def new_day(self) -> None:
        """Closing time: counts and the queue start again."""
        with self._lock:
            self.ledger.reset()
            self.queue.reset()
            self._state.doors = {}
            self._visitor_ticket = None
            self._refresh()

    @property
    def state(self) -> KioskState:
        """A copy of what the kiosk shows now."""
        with self._lock:
            current = self._state
            return replace(
                current,
                queue_waiting=list(current.queue_waiting),
                devices=dict(current.devices),
                doors={door: dict(counts) for door, counts in current.doors.items()},
            )

    # inside -----------------------------------------------------------------------------------------

    def _feed(self, event: sc.Input) -> None:
        outcome = self.screening.handle(event)
        if self.screening.state is sc.State.IDLE:
            self._visitor_ticket = None
        if outcome is not None:
            self._decided(outcome)

    def _decided(self, outcome: sc.Outcome) -> None:
        ticket = outcome.ticket
        full = outcome.decision is Decision.ALLOW and not self.ledger.has_room
        queued = self.queue.issue(outcome.at) if full else None
        if queued is not None:
            self._visitor_ticket = queued.number
        self._record(
            ScreeningEvent(
                decision=outcome.decision,
                reason=str(outcome.reason),
                raw_c=outcome.raw_c,
                body_c=outcome.body_c,
                mask=outcome.mask,
                temperature_policy=outcome.temperature_policy,
                mask_policy=outcome.mask_policy,
                retest=outcome.retest,
                ticket=self._visitor_ticket if full else ticket,
                at=outcome.at,
            )
        )
        if self._on_decision is not None:
            self._on_decision((self._clock() - outcome.at).total_seconds())
        if queued is not None:
            self._record(QueueEvent(ticket=queued.number, action=QueueAction.ISSUED, at=outcome.at))
        elif outcome.decision is Decision.ALLOW:
            self._admit(outcome.at)
        self._state.decision, self._state.reason = str(outcome.decision), str(outcome.reason)

    def _admit(self, at: datetime) -> None:
        self._serve(at)  # an admission after a call is the called ticket's holder coming in
        if self._gate is not None:
            self._switch(True)
            self._gate_until = at + timedelta(seconds=self._gate_open_s)

    def _switch(self, closed: bool) -> None:
        if self._gate is not None and not self._gate.set(closed):
            log.warning("the gate output did not take the command (closed=%s)", closed)

    def _call_if_room(self, at: datetime) -> None:
        if self.queue.waiting and self.ledger.has_room and self.queue.called is None:
            self._call(at)

    def _call(self, at: datetime) -> Ticket | None:
        ticket = self.queue.call_next(at)
        if ticket is not None:
            self._record(QueueEvent(ticket=ticket.number, action=QueueAction.CALLED, at=at))
        return ticket

    def _serve(self, at: datetime) -> None:
        self._close_call(self.queue.serve(), QueueAction.SERVED, at)

    def _close_call(self, ticket: Ticket | None, action: QueueAction, at: datetime) -> None:
        if ticket is not None:
            self._record(QueueEvent(ticket=ticket.number, action=action, at=at))

    def _record(self, event: Event) -> None:
        if self._held:
            self._flush_held()
        if self._held:
            self._held.append(event)
            return
        try:
            self._state.seq = self.journal.append(event)
            self._state.journal_ok = True
        except JournalError as err:
            log.error("%s; holding events in memory until it can write again", err)
            self._state.journal_ok = False
            self._held.append(event)

    def _flush_held(self) -> None:
        while self._held:
            try:
                self._state.seq = self.journal.append(self._held[0])
            except JournalError:
                self._state.journal_ok = False
                return
            self._held.pop(0)
        self._state.journal_ok = True

    def _refresh(self, keep_decision: bool = False) -> None:
        view, ledger, state = self.screening.view, self.ledger, self._state
        state.state, state.message = str(view.state), str(view.message)
        state.raw_c, state.body_c = view.raw_c, view.body_c
        state.mask = str(view.mask) if view.mask is not None else None
        state.retest_ticket, state.retest_wait_s = view.retest_ticket, view.retest_wait_s
        if view.outcome is not None and view.outcome.decision is Decision.RETEST:
            state.retest_ticket = view.outcome.ticket  # the ticket the visitor takes to the rest
        if view.outcome is None and view.state is not sc.State.DECIDED and not keep_decision:
            state.decision = state.reason = None
        state.occupancy_people, state.limit_people = ledger.occupancy_people, ledger.limit_people
        state.limit_source = str(ledger.limit_source)
        state.room_state = str(ledger.state)
        state.queue_waiting = [t.number for t in self.queue.waiting]
        state.queue_called = self.queue.called.number if self.queue.called else None
        state.queue_ticket = self._visitor_ticket
        pace = ledger.exits_per_minute(self._clock())
        state.queue_wait_min = (
            self.queue.estimated_wait_min(self._visitor_ticket, pace) if self._visitor_ticket else None
        )
        scene = scene_of(
            decision=state.decision,
            reason=state.reason,
            message=state.message,
            state=state.state,
            queue_ticket=state.queue_ticket,
            queue_called=state.queue_called,
            room_state=state.room_state,
        )
        row = ROWS[scene]
        state.scene, state.icon, state.headline = str(scene), row.icon, row.headline
        state.detail = detail_of(row, state.message, state.reason)
        state.light = row.light
        state.light_word = LIGHT_WORDS[row.light]
        if self._on_change is not None:
            self._on_change(self.state)
