"""The shared room rules: the one limit, near and full both the station and the dashboard use."""

from decimal import Decimal

import pytest

from station.rooms import (
    RoomState,
    ShareError,
    limit_from_ppm,
    near_from,
    over_limit,
    room_limit,
    room_state,
    share_ppm,
    share_text,
)


@pytest.mark.parametrize(
    ("capacity", "share", "limit"),
    [
        # the first case: 333.5 floors to 333 (per mille rounding gave 334 on the dashboard)
        (1000, 0.3335, 333),
        # the second: 0.995 floors to 0 (per mille gave 1)
        (10, 0.0995, 0),
        # typed as text, the same
        (1000, "0.3335", 333),
        # a Decimal, the same
        (10, Decimal("0.0995"), 0),
        # 0.7 is not exact in binary floating point, but 10 x 0.7 is exactly 7
        (10, 0.7, 7),
        # 3 x 0.1 in floats is 0.30000000000000004; exactly 0.3, floor 0
        (3, 0.1, 0),
        # the transitional rule
        (40, 0.5, 20),
        # the whole room
        (30, 1, 30),
    ],
)
def test_the_limit_is_floor_of_capacity_times_share_exactly(capacity, share, limit):
    assert room_limit(capacity, share) == limit
    assert limit_from_ppm(capacity, share_ppm(share)) == limit


@pytest.mark.parametrize(
    ("share", "message"),
    [
        # above the whole room
        (1.5, "at most 1"),
        # nobody at all
        (0, "more than 0"),
        # finer than a millionth cannot be kept exactly
        ("0.1234567", "six decimal places"),
        # not a number
        ("half", "a number"),
    ],
)
def test_a_bad_share_is_refused_with_a_clear_message(share, message):
    with pytest.raises(ShareError, match=message):
        share_ppm(share)


@pytest.mark.parametrize(
    ("ppm", "text"),
    [
        # a half
        (500_000, "0.5"),
        # four places
        (333_500, "0.3335"),
        # the whole room
        (1_000_000, "1"),
    ],
)
def test_a_share_reads_back_as_its_shortest_decimal(ppm, text):
    assert share_text(ppm) == text


@pytest.mark.parametrize(
    ("limit", "near_share", "near"),
    [
        # 80 % of 20
        (20, 0.8, 16),
        # 80 % of 6 is 4.8: near from 5
        (6, 0.8, 5),
        # 0.7 x 10 is exactly 7 (floats give 7.000000000000001, which would round up to 8)
        (10, 0.7, 7),
    ],
)
def test_near_starts_at_the_ceiling_of_the_share_of_the_limit(limit, near_share, near):
    assert near_from(limit, near_share) == near


@pytest.mark.parametrize(
    ("occupancy", "limit", "state", "over"),
    [
        # well below: open
        (3, 6, RoomState.OPEN, False),
        # from ceil(0.8 x 6) = 5: near
        (5, 6, RoomState.NEAR, False),
        # at the limit: full, not over
        (6, 6, RoomState.FULL, False),
        # one above: full and over
        (7, 6, RoomState.FULL, True),
        # a limit of 0 is always full
        (0, 0, RoomState.FULL, False),
    ],
)
def test_open_near_full_and_over(occupancy, limit, state, over):
    assert room_state(occupancy, limit, 0.8) is state
    assert over_limit(occupancy, limit) is over
