"""The station's hub: decisions, the gate, the room limit, the queue, guard actions, the journal."""

from datetime import UTC, datetime, timedelta

import pytest

from station.core import ConfirmationNeededError, FaceObservation, Light, Station
from station.events import Decision, Direction, Mask, StatusEvent
from station.journal import Journal, JournalError
from station.occupancy import Ledger
from station.screening import ScreeningConfig

T0 = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += timedelta(seconds=seconds)


class Gate:
    def __init__(self):
        self.commands = []

    def set(self, closed):
        self.commands.append(closed)
        return True


@pytest.fixture
def rig(tmp_path):
    clock, gate = Clock(), Gate()
    journal = Journal(tmp_path / "journal.sqlite3")
    station = Station(
        ScreeningConfig(), Ledger(capacity_people=4), journal, gate=gate, clock=clock
    )  # limit 2
    return station, clock, gate, journal


def screen(station, clock, raw_c=34.4, mask=Mask.WITH_MASK, leave=True, probabilities=None):
    """One visitor: steps up, is measured and looked at, then leaves."""
    for _ in range(8):
        clock.advance(0.1)
        station.face(FaceObservation(clock.now, True, True, mask, probabilities))
        station.reading(clock.now, raw_c, 25.0, None)
    state = station.state
    if leave:
        clock.advance(1.5)
        station.face(FaceObservation(clock.now, False))
        station.tick()
    return state


def kinds(journal):
    return [(e["type"], e.get("decision") or e.get("direction") or e.get("action")) for e in journal.events()]


def test_a_healthy_visitor_is_admitted_and_the_gate_opens_then_closes(rig):
    station, clock, gate, journal = rig
    state = screen(station, clock, leave=False)
    assert (state.light, state.decision, state.body_c, state.mask) == (
        Light.GREEN,
        "allow",
        36.9,
        "with_mask",
    )
    assert gate.commands == [True]
    clock.advance(5.1)
    station.tick()
    assert gate.commands == [True, False]
    assert kinds(journal) == [("screening", "allow")]


@pytest.mark.parametrize(
    ("probabilities", "decision", "mask"),
    [
        # every frame labelled with_mask, but only 0.45 likely: the pooled probabilities decide, not labels
        ((0.45, 0.4, 0.15), "deny", "without_mask"),
        # sure frames: admitted
        ((0.9, 0.05, 0.05), "allow", "with_mask"),
    ],
)
def test_the_frames_probabilities_reach_the_screening(rig, probabilities, decision, mask):
    station, clock, _, _ = rig
    state = screen(station, clock, leave=False, probabilities=probabilities)
    assert (state.decision, state.mask) == (decision, mask)


@pytest.mark.parametrize(
    ("raw_c", "mask", "light", "decision", "message"),
    [
        # fever: a re-test ticket, red light, the door stays shut
        (35.0, Mask.WITH_MASK, Light.RED, "retest", "fever_retest"),
        # no mask: denied
        (34.4, Mask.WITHOUT_MASK, Light.RED, "deny", "no_mask"),
        # mask below the nose: denied with its own message
        (34.4, Mask.INCORRECT, Light.RED, "deny", "mask_below_nose"),
    ],
)
def test_refusals_keep_the_gate_shut(rig, raw_c, mask, light, decision, message):
    station, clock, gate, _ = rig
    state = screen(station, clock, raw_c, mask, leave=False)
    assert (state.light, state.decision, state.message) == (light, decision, message)
    assert gate.commands == []


def test_full_room_gives_a_queue_ticket_and_a_freed_place_calls_it(rig):
    station, clock, gate, journal = rig
    station.crossing(Direction.IN)
    station.crossing(Direction.IN)  # limit 2 reached
    state = screen(station, clock, leave=False)
    assert (state.light, state.queue_ticket, state.queue_waiting) == (Light.AMBER, 1, [1])
    assert gate.commands == []
    screen(station, clock)
    station.crossing(Direction.OUT)
    state = station.state
    assert (state.queue_called, state.queue_waiting) == (1, [])
    assert [k for k in kinds(journal) if k[0] == "queue"] == [("queue", "issued"), ("queue", "called")]


def test_guard_override_is_journalled_with_who_and_why(rig):
    station, clock, gate, journal = rig
    screen(station, clock, 34.4, Mask.WITHOUT_MASK, leave=False)
    station.override(Decision.ALLOW, by="pak-budi", reason="mask handed out at the door")
    assert station.state.light is Light.GREEN
    assert gate.commands == [True]
    override = journal.events()[-1]
    assert (override["reason"], override["override_by"], override["override_reason"]) == (
        "override",
        "pak-budi",
        "mask handed out at the door",
    )
    with pytest.raises(ValueError, match="needs a reason"):
        station.override(Decision.ALLOW, by="pak-budi", reason=" ")


def test_corrections_move_the_count_and_are_journalled(rig):
    station, _, _, journal = rig
    station.crossing(Direction.IN)
    station.correct("bu-sri", "two came in together", delta=1)
    station.correct("bu-sri", "recount", value=1)
    assert station.state.occupancy_people == 1
    corrections = [e for e in journal.events() if e["type"] == "correction"]
    assert [(c["delta"], c["value"], c["by"]) for c in corrections] == [
        (1, None, "bu-sri"),
        (None, 1, "bu-sri"),
    ]


def test_thermometer_unplugged_mid_measurement_says_so(rig):
    station, clock, _, journal = rig
    for _ in range(4):
        clock.advance(0.1)
        station.face(FaceObservation(clock.now, True, True, Mask.WITH_MASK))
        station.reading(clock.now, 34.4, 25.0, None)
    station.device("thermometer", "offline", "unplugged")
    assert (station.state.state, station.state.message) == ("present", "sensor_offline")
    assert journal.events()[-1]["type"] == "status"


def test_a_full_journal_holds_events_and_catches_up(tmp_path):
    clock = Clock()
    journal = Journal(tmp_path / "j.sqlite3", max_size_mb=0.05)
    station = Station(ScreeningConfig(), Ledger(capacity_people=100), journal, clock=clock)

    def fill():
        while True:
            journal.append(StatusEvent(device="filler", state="x" * 200, at=T0))

    with pytest.raises(JournalError):
        fill()
    station.crossing(Direction.IN)
    station.crossing(Direction.IN)
    assert station.state.journal_ok is False
    assert station.state.occupancy_people == 2  # the station keeps working
    journal.set_max_size(1.0)  # space again
    station.tick()
    assert station.state.journal_ok is True
    assert [e["direction"] for e in journal.events() if e["type"] == "crossing"] == ["in", "in"]


def test_without_a_camera_presence_comes_from_the_thermometer(tmp_path):
    clock = Clock()
    station = Station(
        ScreeningConfig(),
        Ledger(capacity_people=10),
        Journal(tmp_path / "j.sqlite3"),
        camera=False,
        clock=clock,
    )
    for raw in [26.0, 26.0, 34.4, 34.4, 34.4, 34.4, 34.4, 34.4, 34.4]:
        clock.advance(0.1)
        station.reading(clock.now, raw, 25.0, None)
    assert (station.state.decision, station.state.mask) == ("allow", None)


def test_the_dashboards_limit_wins_and_offline_the_last_one_is_kept_and_said(rig):
    station, _, _, _ = rig  # the station's own file: capacity 4, limit 2
    assert (station.state.limit_people, station.state.limit_source) == (2, "config")
    station.set_limit(6, capacity_people=12)
    assert (station.state.limit_people, station.state.limit_source) == (6, "dashboard")
    station.device("dashboard", "offline", "unreachable")
    assert (station.state.limit_people, station.state.limit_source) == (6, "last_known")
    station.set_limit(3)
    assert (station.state.limit_people, station.state.limit_source) == (3, "dashboard")


@pytest.mark.parametrize(
    ("start", "correction", "needs_confirmation"),
    [
        # a jump of exactly 10 is taken on one tap
        (20, {"value": 30}, False),
        # a jump of 11 up needs the second tap
        (20, {"value": 31}, True),
        # and 11 down
        (20, {"delta": -11}, True),
        # above the capacity (100), however small the step
        (100, {"delta": 1}, True),
        # a small step inside the room
        (20, {"delta": -1}, False),
    ],
)
def test_large_corrections_need_confirmation_and_change_nothing_without(
    tmp_path, start, correction, needs_confirmation
):
    station = Station(ScreeningConfig(), Ledger(capacity_people=100), Journal(tmp_path / "j.sqlite3"))
    station.reconcile(start)
    if needs_confirmation:
        with pytest.raises(ConfirmationNeededError):
            station.correct("budi", "recount", **correction)
        assert station.state.occupancy_people == start
        assert [e for e in station.journal.events() if e["type"] == "correction"] == []
        station.correct("budi", "recount", confirm=True, **correction)
    else:
        station.correct("budi", "recount", **correction)
    assert station.state.occupancy_people != start


def queue_actions(journal):
    return [(e["ticket"], e["action"]) for e in journal.events() if e["type"] == "queue"]


def fill_and_queue(station, clock):
    """The room (limit 2) full, one visitor queued with ticket 1, then someone leaves: 1 is called."""
    station.crossing(Direction.IN)
    station.crossing(Direction.IN)
    screen(station, clock)
    station.crossing(Direction.OUT)
    assert station.state.queue_called == 1


def test_a_called_ticket_is_served_when_its_holder_walks_in(rig):
    station, clock, _, journal = rig
    fill_and_queue(station, clock)
    state = station.state
    assert (state.scene, state.light, state.headline) == ("called", Light.GREEN, "head_called")
    station.crossing(Direction.IN)
    assert queue_actions(journal) == [(1, "issued"), (1, "called"), (1, "served")]
    assert (station.state.queue_called, station.state.scene) == (None, "full")


def test_a_called_ticket_is_served_by_an_admission_after_the_call(rig):
    station, clock, _, journal = rig
    fill_and_queue(station, clock)
    screen(station, clock, leave=False)  # the holder is screened again and admitted
    assert queue_actions(journal)[-1] == (1, "served")


def test_a_called_ticket_nobody_comes_for_is_a_no_show_and_the_next_is_called(tmp_path):
    clock = Clock()
    station = Station(
        ScreeningConfig(),
        Ledger(capacity_people=4),
        Journal(tmp_path / "j.sqlite3"),
        clock=clock,
        call_timeout_s=60,
    )
    station.crossing(Direction.IN)
    station.crossing(Direction.IN)
    screen(station, clock)  # ticket 1
    screen(station, clock)  # ticket 2
    station.crossing(Direction.OUT)
    clock.advance(59)
    station.tick()
    assert station.state.queue_called == 1  # still waiting for its holder
    clock.advance(2)
    station.tick()
    assert queue_actions(station.journal) == [
        (1, "issued"),
        (2, "issued"),
        (1, "called"),
        (1, "no_show"),
        (2, "called"),
    ]
    assert station.state.queue_called == 2


def test_call_next_on_an_empty_queue_changes_nothing(rig):
    station, _, _, journal = rig
    assert station.call_next() is None
    assert queue_actions(journal) == []
