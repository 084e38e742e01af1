"""The screening state machine, rule by rule: scripts of inputs and the decisions they must make."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from station.events import Decision, Mask, Policy
from station.screening import (
    MaskVote,
    Message,
    Presence,
    Reason,
    Sample,
    Screening,
    ScreeningConfig,
    SensorFound,
    SensorLost,
    StartRetest,
    State,
    Tick,
)

T0 = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
RULES = ScreeningConfig()  # fever 37.3, offset 2.5, 2 discarded, plateau of 5 within 0.3
W, WO, INC = Mask.WITH_MASK, Mask.WITHOUT_MASK, Mask.INCORRECT


def at(seconds):
    return T0 + timedelta(seconds=seconds)


def visit(raws, masks=(W,) * 5, start_s=0.0, body=None):
    """A visitor steps into position, the sensor gives ``raws``, the camera ``masks``."""
    inputs = [Presence(at(start_s), True)]
    for index, mask in enumerate(masks):
        inputs.append(MaskVote(at(start_s + 0.05 * index), mask))
    for index, raw in enumerate(raws):
        t = start_s + 0.1 + 0.1 * index
        inputs += [Presence(at(t), True), Sample(at(t), raw, 25.0, body)]
    return inputs


def visit_p(raws, rows, start_s=0.0):
    """As ``visit``, with the classifier's probabilities in every frame's vote (label: the likeliest)."""
    masks = [(W, WO, INC)[max(range(3), key=row.__getitem__)] for row in rows]
    inputs = visit(raws, (), start_s)
    votes = [
        MaskVote(at(start_s + 0.05 * i), mask, row)
        for i, (mask, row) in enumerate(zip(masks, rows, strict=True))
    ]
    return inputs[:1] + votes + inputs[1:]


def stay(from_s, to_s):
    """The visitor stays in position: a camera frame every 0.2 s."""
    return [Presence(at(from_s + 0.2 * i), True) for i in range(int((to_s - from_s) / 0.2) + 1)]


def leave(start_s):
    return [Presence(at(start_s), False), Tick(at(start_s + 1.5))]


def run(inputs, config=RULES, machine=None):
    machine = machine or Screening(config)
    outcomes = [o for o in (machine.handle(i) for i in inputs) if o is not None]
    return machine, outcomes


HEALTHY = [33.0, 34.0, 34.4, 34.5, 34.4, 34.5, 34.4]  # two ramp-up samples, then a plateau at 34.4-34.5
FEVER = [33.0, 34.5, 35.0, 35.0, 35.1, 35.0, 35.0]  # body 37.5


@pytest.mark.parametrize(
    ("inputs", "config", "expected"),
    [
        # healthy, masked: allowed; the first two samples are discarded, body = median raw + 2.5
        (visit(HEALTHY), RULES, [(Decision.ALLOW, Reason.OK, 34.4, 36.9, W, Message.WELCOME_IN)]),
        # fever on the first test: a re-test ticket, not a refusal
        (visit(FEVER), RULES, [(Decision.RETEST, Reason.FEVER, 35.0, 37.5, W, Message.FEVER_RETEST)]),
        # exactly at the threshold is a fever (>= 37.3)
        (visit([34.8] * 7), RULES, [(Decision.RETEST, Reason.FEVER, 34.8, 37.3, W, Message.FEVER_RETEST)]),
        # just below the threshold is not
        (visit([34.79] * 7), RULES, [(Decision.ALLOW, Reason.OK, 34.79, 37.29, W, Message.WELCOME_IN)]),
        # fever under a SOFT temperature policy: allowed, logged as fever
        (
            visit(FEVER),
            replace(RULES, temperature_policy=Policy.SOFT),
            [(Decision.ALLOW, Reason.FEVER, 35.0, 37.5, W, Message.FEVER_NOTED)],
        ),
        # no mask, HARD: denied
        (
            visit(HEALTHY, (WO,) * 5),
            RULES,
            [(Decision.DENY, Reason.NO_MASK, 34.4, 36.9, WO, Message.NO_MASK)],
        ),
        # mask below the nose gets its own message
        (
            visit(HEALTHY, (INC,) * 5),
            RULES,
            [(Decision.DENY, Reason.MASK_BELOW_NOSE, 34.4, 36.9, INC, Message.MASK_BELOW_NOSE)],
        ),
        # no mask, SOFT: allowed, logged
        (
            visit(HEALTHY, (WO,) * 5),
            replace(RULES, mask_policy=Policy.SOFT),
            [(Decision.ALLOW, Reason.NO_MASK, 34.4, 36.9, WO, Message.MASK_NOTED)],
        ),
        # label-only votes (all their weight on the label) are pooled too: one stray frame does not decide
        (
            visit(HEALTHY, (W, W, WO, W, W)),
            RULES,
            [(Decision.ALLOW, Reason.OK, 34.4, 36.9, W, Message.WELCOME_IN)],
        ),
        # a tie: with_mask at 1/3 is under 0.5, and no mask beats below the nose in a tie
        (
            visit(HEALTHY, (W, W, INC, INC, WO, WO)),
            RULES,
            [(Decision.DENY, Reason.NO_MASK, 34.4, 36.9, WO, Message.NO_MASK)],
        ),
        # fever and no mask: the fever decides (re-test), the mask is kept in the record
        (
            visit(FEVER, (WO,) * 5),
            RULES,
            [(Decision.RETEST, Reason.FEVER, 35.0, 37.5, WO, Message.FEVER_RETEST)],
        ),
        # a sample outside the plausible raw range breaks the plateau: background 26 C, then a person
        (
            visit([26.0, 26.0, 26.0, 34.4, 34.4, 34.4, 34.4, 34.4, 34.4, 34.4]),
            RULES,
            [(Decision.ALLOW, Reason.OK, 34.4, 36.9, W, Message.WELCOME_IN)],
        ),
        # a wandering reading (spread over 0.3) is no plateau: no decision
        (visit([33.0, 33.5, 34.0, 34.5, 35.0, 34.0, 34.6, 33.9]), RULES, []),
        # a device's own body value is used as the body estimate, raw kept beside it
        (
            visit([34.0] * 7, body=36.8),
            RULES,
            [(Decision.ALLOW, Reason.OK, 34.0, 36.8, W, Message.WELCOME_IN)],
        ),
        # a body-only device (no raw value)
        (
            visit([None] * 7, body=37.6),
            RULES,
            [(Decision.RETEST, Reason.FEVER, None, 37.6, W, Message.FEVER_RETEST)],
        ),
        # probabilities are pooled, not labels voted: three frames barely masked (0.55) and two surely bare
        # (0.96) pool to 0.34 masked; a vote on labels would have let the visitor in
        (
            visit_p(HEALTHY, [(0.55, 0.4, 0.05)] * 3 + [(0.02, 0.96, 0.02)] * 2),
            RULES,
            [(Decision.DENY, Reason.NO_MASK, 34.4, 36.9, WO, Message.NO_MASK)],
        ),
        # every frame's likeliest class is with_mask, but under 0.5: not called masked (safety first),
        # the likelier of the rest decides (below the nose here)
        (
            visit_p(HEALTHY, [(0.45, 0.15, 0.4)] * 5),
            RULES,
            [(Decision.DENY, Reason.MASK_BELOW_NOSE, 34.4, 36.9, INC, Message.MASK_BELOW_NOSE)],
        ),
        # the same frames with with_mask_min 0: the likeliest class, masked
        (
            visit_p(HEALTHY, [(0.45, 0.15, 0.4)] * 5),
            replace(RULES, with_mask_min=0.0),
            [(Decision.ALLOW, Reason.OK, 34.4, 36.9, W, Message.WELCOME_IN)],
        ),
        # surely masked frames pool to masked
        (
            visit_p(HEALTHY, [(0.9, 0.05, 0.05), (0.8, 0.1, 0.1), (0.95, 0.03, 0.02)] * 2),
            RULES,
            [(Decision.ALLOW, Reason.OK, 34.4, 36.9, W, Message.WELCOME_IN)],
        ),
        # masks not checked (no camera): decided on temperature alone
        (
            visit(HEALTHY, ()),
            replace(RULES, mask_check=False),
            [(Decision.ALLOW, Reason.OK, 34.4, 36.9, None, Message.WELCOME_IN)],
        ),
    ],
)
def test_decisions(inputs, config, expected):
    _, outcomes = run(inputs, config)
    assert [(o.decision, o.reason, o.raw_c, o.body_c, o.mask, o.message) for o in outcomes] == expected


def test_ambient_compensation_changes_the_decision():
    # 34.4 + 2.5 + 0.1 x (30 - 25) = 37.4: a fever only with compensation on
    config = replace(RULES, ambient_coefficient=0.1, ambient_reference_c=30.0)
    _, outcomes = run(visit(HEALTHY), config)
    assert outcomes[0].decision is Decision.RETEST


def test_state_walk_and_face_leaving():
    machine = Screening(RULES)
    assert machine.state is State.IDLE
    machine.handle(Presence(at(0), True, in_position=False))
    assert (machine.state, machine.view.message) == (State.PRESENT, Message.STEP_CLOSER)
    machine.handle(Presence(at(0.1), True))
    assert (machine.state, machine.view.message) == (State.MEASURING, Message.HOLD_STILL)
    run([Sample(at(0.2 + i / 10), 34.4) for i in range(7)], machine=machine)
    assert machine.state is State.MASK_CHECK
    assert machine.view.body_c == 36.9
    _, outcomes = run([MaskVote(at(1 + i / 10), W) for i in range(5)], machine=machine)
    assert machine.state is State.DECIDED
    assert len(outcomes) == 1
    # the face flickers off for half a second: still decided
    # (the last verdict came at 1.4 s)
    machine.handle(Presence(at(1.6), False))
    machine.handle(Tick(at(2.2)))
    assert machine.state is State.DECIDED
    # gone for more than a second: back to idle, ready for the next visitor
    machine.handle(Tick(at(2.6)))
    assert (machine.state, machine.view.message, machine.view.outcome) == (State.IDLE, Message.WELCOME, None)


def test_visitor_leaving_mid_measurement_decides_nothing():
    machine, outcomes = run(
        visit(HEALTHY[:4]) + leave(1.0) + [Sample(at(3.0 + i / 10), 34.4) for i in range(7)]
    )
    assert outcomes == []
    assert machine.state is State.IDLE


def test_mask_timeout_decides_with_the_votes_so_far():
    # only two verdicts arrive (the visitor looks away); after mask_timeout_s the machine decides with them
    inputs = [*visit(HEALTHY, (W, W)), *stay(1.0, 3.6)]
    assert run(inputs)[1] == []  # 2.9 s after the measurement: still waiting for votes
    inputs += [*stay(3.6, 4.0), Tick(at(4.0))]
    _, outcomes = run(inputs)
    assert [(o.decision, o.mask) for o in outcomes] == [(Decision.ALLOW, W)]


def test_measurement_timeout_asks_to_measure_again():
    wandering = [33.0, 33.5, 34.0, 34.5, 35.0, 34.0, 34.6, 33.9]
    machine, _ = run([*visit(wandering), *stay(1.0, 11.0), Tick(at(11.0))])
    assert (machine.state, machine.view.message) == (State.MEASURING, Message.MEASURE_AGAIN)
    # a plateau after the restart still decides
    _, outcomes = run([Sample(at(11.1 + i / 10), 34.4) for i in range(7)], machine=machine)
    assert [o.decision for o in outcomes] == [Decision.ALLOW]


def test_thermometer_lost_mid_measurement_restarts_and_says_so():
    machine, _ = run(visit(HEALTHY[:4]))
    machine.handle(SensorLost(at(0.5)))
    assert (machine.state, machine.view.message) == (State.PRESENT, Message.SENSOR_OFFLINE)
    # while the sensor is away, the visitor in position is not measured: the kiosk keeps saying so
    run(stay(0.5, 1.0), machine=machine)
    assert (machine.state, machine.view.message) == (State.PRESENT, Message.SENSOR_OFFLINE)
    machine.handle(SensorFound(at(1.1)))
    # the samples before the loss are not mixed with the ones after it
    _, outcomes = run(
        [*stay(0.6, 2.0), *(Sample(at(2.1 + i / 10), 35.0) for i in range(7)), *stay(2.1, 2.9)],
        machine=machine,
    )
    assert [(o.decision, o.raw_c) for o in outcomes] == [(Decision.RETEST, 35.0)]


@pytest.mark.parametrize(
    ("retest_raws", "policy", "expected"),
    [
        # fever again after the rest: refused
        (FEVER, Policy.HARD, (Decision.DENY, Reason.FEVER_RETEST, Message.FEVER_DENIED)),
        # fine after the rest: allowed
        (HEALTHY, Policy.HARD, (Decision.ALLOW, Reason.OK, Message.WELCOME_IN)),
    ],
)
def test_retest_after_the_rest(retest_raws, policy, expected):
    machine, first = run(visit(FEVER) + leave(2.0))
    ticket = first[0].ticket
    assert ticket == 1
    assert machine.retests == {1: first[0].at + timedelta(minutes=5)}
    # too early: the kiosk says how long to wait, nothing is armed
    machine.handle(StartRetest(at(60), ticket))
    assert machine.view.message is Message.RETEST_WAIT
    assert machine.view.retest_wait_s == pytest.approx(300 - 60 + 0.7, abs=0.5)
    # after five minutes the guard starts the re-test
    machine.handle(StartRetest(at(305), ticket))
    assert machine.view.message is Message.RETEST_READY
    _, outcomes = run(visit(retest_raws, start_s=306), machine=machine)
    assert [(o.decision, o.reason, o.message) for o in outcomes] == [expected]
    assert outcomes[0].retest
    assert outcomes[0].ticket == ticket
    assert machine.retests == {}  # the ticket is used up


def test_unknown_retest_ticket():
    machine = Screening(RULES)
    machine.handle(StartRetest(at(0), 42))
    assert machine.view.message is Message.RETEST_UNKNOWN


def test_tickets_count_up():
    machine, first = run(visit(FEVER) + leave(2.0))
    _, second = run(visit(FEVER, start_s=10), machine=machine)
    assert [first[0].ticket, second[0].ticket] == [1, 2]
