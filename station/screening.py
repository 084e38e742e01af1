"""The screening at the door as a pure state machine: no I/O inside, time comes in with the inputs.

idle -> present (a face in the guide area, large enough) -> measuring (the first samples are
discarded, then ``plateau_samples`` consecutive samples within ``plateau_spread_c`` and inside the
plausible raw range make the reading) -> mask check (several frames' mask probabilities, gathered from
the moment the visitor is present, pooled by their mean, then decided leaning to safety: masked only when
that is at least ``with_mask_min`` probable, see ``station.mask_rule``) -> decided -> idle once the face
has left.

Fever (defaults from Indonesia's KMK HK.01.07/MENKES/382/2020): a body estimate at or above
``fever_c`` gets a re-test ticket and ``retest_delay_s`` of rest; a re-test at or above it is refused.
Each check has its policy: HARD denies, SOFT allows; both are logged with their reason.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from station import mask_rule
from station.events import Decision, Mask, Policy

#: The classifier's class order, as ``mask_rule`` counts them.
MASK_ORDER: tuple[Mask, ...] = (Mask.WITH_MASK, Mask.WITHOUT_MASK, Mask.INCORRECT)


class State(StrEnum):
    """Where the screening of the visitor in front of the station stands."""

    IDLE = "idle"
    PRESENT = "present"
    MEASURING = "measuring"
    MASK_CHECK = "mask_check"
    DECIDED = "decided"


class Message(StrEnum):
    """What the kiosk tells the visitor (keys of the kiosk's translated texts)."""

    WELCOME = "welcome"
    STEP_CLOSER = "step_closer"
    HOLD_STILL = "hold_still"
    MEASURE_AGAIN = "measure_again"
    SENSOR_OFFLINE = "sensor_offline"
    LOOK_AT_CAMERA = "look_at_camera"
    WELCOME_IN = "welcome_in"
    FEVER_RETEST = "fever_retest"
    FEVER_DENIED = "fever_denied"
    FEVER_NOTED = "fever_noted"
    NO_MASK = "no_mask"
    MASK_BELOW_NOSE = "mask_below_nose"
    MASK_NOTED = "mask_noted"
    RETEST_WAIT = "retest_wait"
    RETEST_READY = "retest_ready"
    RETEST_UNKNOWN = "retest_unknown"


class Reason(StrEnum):
    """Why a decision was made, as logged and reported."""

    OK = "ok"
    FEVER = "fever"
    FEVER_RETEST = "fever_retest"
    NO_MASK = "no_mask"
    MASK_BELOW_NOSE = "mask_below_nose"


@dataclass(frozen=True, slots=True)
class ScreeningConfig:
    """The rules of the screening; every value comes from the station's configuration.

    Attributes:
        fever_c: Body estimate at or above which a visitor has a fever.
        retest_delay_s: Rest before a re-test.
        offset_c: Added to the raw (skin) reading to estimate the body temperature.
        ambient_reference_c: Ambient temperature at which ``offset_c`` was calibrated.
        ambient_coefficient: Extra offset per degree the ambient is below the reference (skin cools
            in a cold room); 0 turns ambient compensation off.
        raw_min_c: Lowest plausible raw reading of a person's skin.
        raw_max_c: Highest plausible raw reading.
        discard_samples: Samples thrown away after measuring starts (the visitor still moving).
        plateau_samples: Consecutive samples that make a reading.
        plateau_spread_c: Largest spread (max - min) of those samples.
        measure_timeout_s: Give up and ask to measure again after this long without a plateau.
        mask_check: Whether masks are checked at all (a station without a camera does not).
        mask_votes: Frames of mask verdicts gathered before deciding.
        with_mask_min: The pooled probability of ``with_mask`` needed to call the visitor masked
            (``mask_rule.decide``); 0 takes the most probable class.
        mask_timeout_s: After the temperature is known, decide with the votes so far after this long.
        face_lost_s: A face missing for this long has left (flicker shorter than this is ignored).
        temperature_policy: HARD or SOFT for fevers.
        mask_policy: HARD or SOFT for missing or badly worn masks.
    """

    fever_c: float = 37.3
    retest_delay_s: float = 300.0
    offset_c: float = 2.5
    ambient_reference_c: float = 25.0
    ambient_coefficient: float = 0.0
    raw_min_c: float = 30.0
    raw_max_c: float = 43.0
    discard_samples: int = 2
    plateau_samples: int = 5
    plateau_spread_c: float = 0.3
    measure_timeout_s: float = 10.0
    mask_check: bool = True
    mask_votes: int = 5
    with_mask_min: float = mask_rule.WITH_MASK_MIN
    mask_timeout_s: float = 3.0
    face_lost_s: float = 1.0
    temperature_policy: Policy = Policy.HARD
    mask_policy: Policy = Policy.HARD


# Inputs -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Presence:
    """What the camera (or the thermometer) says of the visitor, once per frame.

    Attributes:
        at: When.
        present: A face (or a person) is there.
        in_position: The face is inside the guide area and large enough to measure.
    """

    at: datetime
    present: bool
    in_position: bool = True


@dataclass(frozen=True, slots=True)
class Sample:
    """A thermometer reading, as the sensor gave it."""

    at: datetime
    raw_c: float | None
    ambient_c: float | None = None
    device_body_c: float | None = None


@dataclass(frozen=True, slots=True)
class MaskVote:
    """One frame's mask verdict for the visitor in position.

    Attributes:
        at: When.
        mask: The frame's label.
        probabilities: The classifier's probabilities of with_mask, without_mask and incorrect; ``None``
            counts the label alone (all its weight on ``mask``).
    """

    at: datetime
    mask: Mask
    probabilities: tuple[float, ...] | None = None

    def row(self) -> tuple[float, ...]:
        """The vote's probabilities: the classifier's, or all the weight on its label."""
        if self.probabilities is not None:
            return self.probabilities
        return tuple(1.0 if mask is self.mask else 0.0 for mask in MASK_ORDER)


@dataclass(frozen=True, slots=True)
class SensorLost:
    """The thermometer went offline."""

    at: datetime


@dataclass(frozen=True, slots=True)
class SensorFound:
    """The thermometer is (back) online."""

    at: datetime


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passes (timeouts are checked on every input; a tick is an input with no news)."""

    at: datetime


@dataclass(frozen=True, slots=True)
class StartRetest:
    """The guard (or the visitor's ticket) says the next screening is the re-test for ``ticket``."""

    at: datetime
    ticket: int


Input = Presence | Sample | MaskVote | SensorLost | SensorFound | Tick | StartRetest


# Output -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """A decision about one visitor.

    Attributes:
        at: When it was made.
        decision: ALLOW, DENY or RETEST.
        reason: Why.
        raw_c: The plateau of raw readings, or None when the device gives only a body value.
        body_c: The body estimate the decision used.
        mask: The mask verdict, or None when masks are not checked.
        retest: Whether this was the re-test after the rest.
        ticket: The re-test ticket (given on RETEST, presented on a re-test).
        message: What the kiosk shows.
        temperature_policy: The temperature policy in force.
        mask_policy: The mask policy in force.
    """

    at: datetime
    decision: Decision
    reason: Reason
    raw_c: float | None
    body_c: float | None
    mask: Mask | None
    retest: bool
    ticket: int | None
    message: Message
    temperature_policy: Policy
    mask_policy: Policy


@dataclass(frozen=True, slots=True)
class View:
    """What the kiosk shows now."""

    state: State
    message: Message
    raw_c: float | None = None
    body_c: float | None = None
    mask: Mask | None = None
    outcome: Outcome | None = None
    retest_ticket: int | None = None
    retest_wait_s: float | None = None


@dataclass(slots=True)
class _Visit:
    """What the machine knows of the visitor in front of it."""

    samples: list[Sample] = field(default_factory=list)
    measuring_since: datetime | None = None
    measured_at: datetime | None = None
    raw_c: float | None = None
    body_c: float | None = None
    votes: list[MaskVote] = field(default_factory=list)
    retest_ticket: int | None = None


class Screening:
    """The state machine. Feed it inputs with ``handle``; read ``view`` for the kiosk.

    Args:
        config: The rules.
        first_ticket: The number of the first re-test ticket to give.
    """

    def __init__(self, config: ScreeningConfig, first_ticket: int = 1) -> None:
        self.config = config
        self.state = State.IDLE
        self._message = Message.WELCOME
        self._visit = _Visit()
        self._last_face: datetime | None = None
        self._outcome: Outcome | None = None
        self._next_ticket = first_ticket
        self._armed_retest: int | None = None
        self._retest_wait_s: float | None = None
        self._sensor_ok = True
        #: Re-test tickets waiting: ticket -> when the rest ends.
        self.retests: dict[int, datetime] = {}

    @property
    def view(self) -> View:
        """The kiosk's view of the current state."""
        visit = self._visit
        return View(
            state=self.state,
            message=self._message,
            raw_c=visit.raw_c,
            body_c=visit.body_c,
            mask=_pooled(visit.votes, self.config.with_mask_min) if visit.votes else None,
            outcome=self._outcome,
            retest_ticket=self._armed_retest,
            retest_wait_s=self._retest_wait_s,
        )

    def handle(self, event: Input) -> Outcome | None:
        """Take one input; return the decision it completed, if any."""
        if isinstance(event, MaskVote) and self.state is not State.IDLE:
            self._last_face = event.at  # a mask verdict means a face in view
        self._expire_face(event.at)
        match event:
            case Presence():
                return self._presence(event)
            case Sample():
                return self._sample(event)
            case MaskVote():
                return self._mask_vote(event)
            case SensorLost():
                self._sensor_lost()
            case SensorFound():
                self._sensor_ok = True
                if self.state is State.PRESENT:
                    self._message = Message.STEP_CLOSER
            case StartRetest():
                self._start_retest(event)
            case Tick():
                return self._check_timeouts(event.at)
        return None

    # transitions ---------------------------------------------------------------------------------

    def _presence(self, event: Presence) -> Outcome | None:
        if not event.present:
            return self._check_timeouts(event.at)
        self._last_face = event.at
        if self.state is State.IDLE:
            self._enter(State.PRESENT, Message.STEP_CLOSER)
        if self.state is State.PRESENT and not self._sensor_ok:
            self._message = Message.SENSOR_OFFLINE  # no measuring until the thermometer is back
        elif self.state is State.PRESENT and event.in_position:
            self._visit.measuring_since = event.at
            self._enter(State.MEASURING, Message.HOLD_STILL)
        elif self.state is State.PRESENT:
            self._message = Message.STEP_CLOSER
        return self._check_timeouts(event.at)

    def _sample(self, event: Sample) -> Outcome | None:
        if self.state is not State.MEASURING:
            return self._check_timeouts(event.at)
        config, visit = self.config, self._visit
        value = event.raw_c if event.raw_c is not None else event.device_body_c
        plausible = event.raw_c is None or config.raw_min_c <= event.raw_c <= config.raw_max_c
        if value is None or not plausible:
            visit.samples.clear()  # a plateau needs consecutive plausible samples
            return self._check_timeouts(event.at)
        visit.samples.append(event)
        window = visit.samples[config.discard_samples :][-config.plateau_samples :]
        if len(window) < config.plateau_samples:
            return self._check_timeouts(event.at)
        # each sample in the window is plausible: it has a raw value or the device's body value
        values = [v for s in window if (v := s.raw_c if s.raw_c is not None else s.device_body_c) is not None]
        if max(values) - min(values) > config.plateau_spread_c:
            return self._check_timeouts(event.at)
        self._measured(window, event.at)
        return self._maybe_decide(event.at)

    def _measured(self, window: list[Sample], at: datetime) -> None:
        visit, config = self._visit, self.config
        raws = [s.raw_c for s in window if s.raw_c is not None]
        bodies = [s.device_body_c for s in window if s.device_body_c is not None]
        raw_c = round(statistics.median(raws), 2) if raws else None
        visit.raw_c = raw_c
        if bodies and len(bodies) == len(window):
            visit.body_c = round(statistics.median(bodies), 2)
        elif raw_c is not None:  # not every sample has a body value, so some have a raw one
            ambients = [s.ambient_c for s in window if s.ambient_c is not None]
            compensation = 0.0
            if config.ambient_coefficient and ambients:
                compensation = config.ambient_coefficient * (
                    config.ambient_reference_c - statistics.median(ambients)
                )
            visit.body_c = round(raw_c + config.offset_c + compensation, 2)
        visit.measured_at = at
        self._enter(State.MASK_CHECK, Message.LOOK_AT_CAMERA)

    def _mask_vote(self, event: MaskVote) -> Outcome | None:
        if self.state in (State.PRESENT, State.MEASURING, State.MASK_CHECK):
            self._visit.votes.append(event)
        return self._maybe_decide(event.at) if self.state is State.MASK_CHECK else None

    def _maybe_decide(self, at: datetime) -> Outcome | None:
        visit, config = self._visit, self.config
        if self.state is not State.MASK_CHECK:
            return None
        enough = not config.mask_check or len(visit.votes) >= config.mask_votes
        waited = (
            visit.measured_at is not None
            and (at - visit.measured_at).total_seconds() >= config.mask_timeout_s
        )
        if not (enough or waited):
            return None
        return self._decide(at)

    def _decide(self, at: datetime) -> Outcome:
        visit, config = self._visit, self.config
        mask = _pooled(visit.votes, config.with_mask_min) if config.mask_check and visit.votes else None
        if config.mask_check and mask is None:
            mask = Mask.WITHOUT_MASK  # nobody looked at the camera long enough: no mask was seen
        body_c = visit.body_c if visit.body_c is not None else 0.0
        retest = visit.retest_ticket is not None
        ticket = visit.retest_ticket
        fever = body_c >= config.fever_c
        decision, reason, message = Decision.ALLOW, Reason.OK, Message.WELCOME_IN
        if fever and config.temperature_policy is Policy.SOFT:
            reason, message = (Reason.FEVER_RETEST if retest else Reason.FEVER), Message.FEVER_NOTED
        elif fever and retest:
            decision, reason, message = Decision.DENY, Reason.FEVER_RETEST, Message.FEVER_DENIED
        elif fever:
            decision, reason, message = Decision.RETEST, Reason.FEVER, Message.FEVER_RETEST
            ticket = self._next_ticket
            self._next_ticket += 1
            self.retests[ticket] = at + timedelta(seconds=config.retest_delay_s)
        if retest and ticket is not None and decision is not Decision.RETEST:
            self.retests.pop(ticket, None)
        if decision is Decision.ALLOW and mask in (Mask.WITHOUT_MASK, Mask.INCORRECT):
            reason = Reason.NO_MASK if mask is Mask.WITHOUT_MASK else Reason.MASK_BELOW_NOSE
            if config.mask_policy is Policy.HARD:
                decision = Decision.DENY
                message = Message.NO_MASK if mask is Mask.WITHOUT_MASK else Message.MASK_BELOW_NOSE
            elif message is Message.WELCOME_IN:
                message = Message.MASK_NOTED
        outcome = Outcome(
            at=at,
            decision=decision,
            reason=reason,
            raw_c=visit.raw_c,
            body_c=visit.body_c,
            mask=mask,
            retest=retest,
            ticket=ticket,
            message=message,
            temperature_policy=config.temperature_policy,
            mask_policy=config.mask_policy,
        )
        self._outcome = outcome
        self._armed_retest = None
        self._enter(State.DECIDED, message)
        return outcome

    def _sensor_lost(self) -> None:
        self._sensor_ok = False
        if self.state in (State.MEASURING, State.MASK_CHECK):
            retest = self._visit.retest_ticket
            votes = self._visit.votes
            self._visit = replace(_Visit(), retest_ticket=retest, votes=votes)
            self._enter(State.PRESENT, Message.SENSOR_OFFLINE)

    def _start_retest(self, event: StartRetest) -> None:
        ready_at = self.retests.get(event.ticket)
        if ready_at is None:
            self._message, self._retest_wait_s = Message.RETEST_UNKNOWN, None
            return
        wait_s = (ready_at - event.at).total_seconds()
        if wait_s > 0:
            self._message, self._retest_wait_s = Message.RETEST_WAIT, wait_s
            return
        self._armed_retest, self._retest_wait_s = event.ticket, None
        self._message = Message.RETEST_READY
        if self.state in (State.IDLE, State.PRESENT, State.MEASURING):
            self._visit.retest_ticket = event.ticket

    def _check_timeouts(self, at: datetime) -> Outcome | None:
        visit, config = self._visit, self.config
        if self.state is State.MASK_CHECK:
            return self._maybe_decide(at)
        if (
            self.state is State.MEASURING
            and visit.measuring_since is not None
            and (at - visit.measuring_since).total_seconds() > config.measure_timeout_s
        ):
            visit.samples.clear()
            visit.measuring_since = at
            self._message = Message.MEASURE_AGAIN
        return None

    def _expire_face(self, at: datetime) -> None:
        if self.state is State.IDLE or self._last_face is None:
            return
        if (at - self._last_face).total_seconds() > self.config.face_lost_s:
            self._visit = _Visit(retest_ticket=self._armed_retest)
            self._outcome = None
            self._enter(State.IDLE, Message.WELCOME)

    def _enter(self, state: State, message: Message) -> None:
        self.state = state
        self._message = message
        if state is State.PRESENT and self._armed_retest is not None:
            self._visit.retest_ticket = self._armed_retest


def _pooled(votes: list[MaskVote], with_mask_min: float) -> Mask:
    """The frames' probabilities pooled by their mean, then decided leaning to safety (``mask_rule``)."""
    return MASK_ORDER[mask_rule.decide(mask_rule.pool([vote.row() for vote in votes]), with_mask_min)]
