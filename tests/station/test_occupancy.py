"""The room's ledger and the queue at the door."""

from datetime import UTC, datetime, timedelta

import pytest

from station.events import Direction
from station.occupancy import Ledger, RoomState, room_limit, room_state
from station.queue import Queue

T0 = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
IN, OUT = Direction.IN, Direction.OUT


@pytest.mark.parametrize(
    ("capacity", "share", "limit"),
    [
        # the transitional rule: half the room
        (40, 0.5, 20),
        # an odd capacity rounds down (never more than the share)
        (41, 0.5, 20),
        # a share that is not exact in binary floating point
        (10, 0.7, 7),
        # the whole room
        (30, 1.0, 30),
        # a room of one at half: nobody
        (1, 0.5, 0),
    ],
)
def test_room_limit(capacity, share, limit):
    assert room_limit(capacity, share) == limit


@pytest.mark.parametrize(
    ("occupancy", "limit", "state"),
    [
        # well below: open
        (10, 20, RoomState.OPEN),
        # 80 % of the limit: near
        (16, 20, RoomState.NEAR),
        # one below the limit: near
        (19, 20, RoomState.NEAR),
        # at the limit: full
        (20, 20, RoomState.FULL),
        # over the limit (corrections, other doors): full
        (23, 20, RoomState.FULL),
        # a limit of 0 is always full
        (0, 0, RoomState.FULL),
    ],
)
def test_room_state(occupancy, limit, state):
    assert room_state(occupancy, limit, 0.8) is state


@pytest.mark.parametrize(
    ("crossings", "occupancy"),
    [
        # three in, one out
        ([IN, IN, IN, OUT], 2),
        # an exit while the room reads 0 moves nothing, and the entries after it count from 0
        ([OUT, IN, IN], 2),
        # never below zero
        ([IN, OUT, OUT, OUT], 0),
    ],
)
def test_ledger_counts(crossings, occupancy):
    ledger = Ledger(capacity_people=40)
    for direction in crossings:
        ledger.cross(direction, T0)
    assert ledger.occupancy_people == occupancy
    assert ledger.counted_in == crossings.count(IN)
    assert ledger.counted_out == crossings.count(OUT)


@pytest.mark.parametrize(
    ("corrections", "occupancy"),
    [
        # +1 (someone slipped past the camera)
        ([{"delta": 1}], 6),
        # -1 twice
        ([{"delta": -1}, {"delta": -1}], 3),
        # set to N after a recount
        ([{"value": 12}], 12),
        # a correction below zero stops at zero
        ([{"delta": -9}], 0),
    ],
)
def test_corrections_are_kept_beside_the_counts(corrections, occupancy):
    ledger = Ledger(capacity_people=40)
    for _ in range(5):
        ledger.cross(IN, T0)
    for correction in corrections:
        ledger.correct(**correction)
    assert ledger.occupancy_people == occupancy
    assert (ledger.counted_in, ledger.corrections) == (5, len(corrections))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        # neither
        ({}, "exactly one"),
        # both
        ({"delta": 1, "value": 3}, "exactly one"),
        # a negative count
        ({"value": -1}, "fewer than 0"),
    ],
)
def test_bad_corrections_are_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        Ledger(capacity_people=40).correct(**arguments)


def test_dashboard_figure_is_the_authority_and_counting_goes_on_offline():
    ledger = Ledger(capacity_people=10)  # limit 5
    ledger.cross(IN, T0)
    ledger.reconcile(4)  # the other door let three more in
    assert (ledger.occupancy_people, ledger.state, ledger.snapshot().online) == (4, RoomState.NEAR, True)
    ledger.offline()
    ledger.cross(IN, T0)
    assert (ledger.occupancy_people, ledger.state, ledger.has_room) == (5, RoomState.FULL, False)


def test_daily_reset():
    ledger = Ledger(capacity_people=10)
    ledger.cross(IN, T0)
    ledger.correct(delta=2)
    ledger.reset()
    snapshot = ledger.snapshot()
    assert (snapshot.occupancy_people, snapshot.limit_people, snapshot.state) == (0, 5, RoomState.OPEN)
    assert (snapshot.counted_in, snapshot.counted_out, snapshot.corrections) == (0, 0, 0)


def test_queue_calls_in_order_and_estimates_the_wait():
    queue = Queue()
    tickets = [queue.issue(T0 + timedelta(seconds=i)).number for i in range(3)]
    assert tickets == [1, 2, 3]
    assert queue.position(3) == 3
    assert queue.estimated_wait_min(3, exits_per_minute=0.5) == 6.0
    assert queue.estimated_wait_min(3, exits_per_minute=0.0) is None  # no pace yet
    assert queue.cancel(2)
    assert queue.call_next().number == 1
    assert queue.call_next().number == 3
    assert queue.call_next() is None
    assert queue.position(1) is None


def test_exit_pace_from_recent_exits():
    ledger = Ledger(capacity_people=40)
    for minute in range(10):
        ledger.cross(IN, T0)
        ledger.cross(OUT, T0 + timedelta(minutes=minute))
    assert ledger.exits_per_minute(T0 + timedelta(minutes=10)) == pytest.approx(1.0)
    assert ledger.exits_per_minute(T0 + timedelta(hours=2)) == 0.0
