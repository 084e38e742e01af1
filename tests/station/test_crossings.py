from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sensors.crossing import Direction
from station.vision.crossings import DoorLine, LineCounter, Side, TrackPoint

AT = datetime(2026, 1, 1, tzinfo=UTC)

# A horizontal door line from (0, 100) to (200, 100); the room is above it (smaller y); band 10 px.
HORIZONTAL = DoorLine((0, 100), (200, 100), in_point=(100, 0), band_px=10)


def _run(line: DoorLine, points: list[tuple[float, float]], *, confirmed_from: int = 0) -> tuple[int, int]:
    counter = LineCounter(line)
    for index, point in enumerate(points):
        counter.trigger([TrackPoint(1, point, confirmed=index >= confirmed_from)], AT)
    return counter.in_count, counter.out_count


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        # Walks straight in: from below the band to above it.
        ([(100, 150), (100, 120), (100, 100), (100, 80), (100, 50)], (1, 0)),
        # Walks straight out.
        ([(100, 50), (100, 80), (100, 100), (100, 120), (100, 150)], (0, 1)),
        # One big step across the whole band still counts.
        ([(100, 150), (100, 50)], (1, 0)),
        # Lingers on the line, wobbling across it inside the band, then goes in: one count.
        ([(100, 150), (100, 105), (100, 95), (100, 104), (100, 92), (100, 101), (100, 60)], (1, 0)),
        # Lingers on the line and goes back out: nothing.
        ([(100, 150), (100, 105), (100, 95), (100, 104), (100, 92), (100, 150)], (0, 0)),
        # Turns back after reaching past the line but not clearly: nothing.
        ([(100, 150), (100, 120), (100, 95), (100, 91), (100, 120), (100, 150)], (0, 0)),
        # Flicker across the line, never leaving the band: nothing.
        ([(100, 95), (100, 105), (100, 95), (100, 105), (100, 95)], (0, 0)),
        # Goes in and comes back out: one each way.
        ([(100, 150), (100, 50), (100, 150)], (1, 1)),
        # In, out, in again: two in, one out.
        ([(100, 150), (100, 50), (100, 150), (100, 50)], (2, 1)),
        # In, then wanders about inside the room: still one.
        ([(100, 150), (100, 50), (150, 60), (30, 40), (100, 85)], (1, 0)),
        # Stands still inside the room for a long time: nothing.
        ([(100, 50)] * 30, (0, 0)),
        # Passes round the end of the line (x = 260, beyond end + band): nothing.
        ([(260, 150), (260, 50)], (0, 0)),
        # Crosses just beyond the end, within the band's reach (x = 205): counts.
        ([(205, 150), (205, 50)], (1, 0)),
        # First seen on the line, then goes in: where it came from is unknown, nothing.
        ([(100, 100), (100, 50)], (0, 0)),
    ],
)
def test_one_track_on_a_horizontal_line(points: list[tuple[float, float]], expected: tuple[int, int]) -> None:
    assert _run(HORIZONTAL, points) == expected


@pytest.mark.parametrize(
    ("line", "points", "expected"),
    [
        # Vertical line, room on the right.
        (DoorLine((100, 0), (100, 200), in_point=(180, 100), band_px=5), [(50, 100), (150, 100)], (1, 0)),
        # The same line with the room on the left: the same walk is an exit.
        (DoorLine((100, 0), (100, 200), in_point=(20, 100), band_px=5), [(50, 100), (150, 100)], (0, 1)),
        # Diagonal line, room above-right.
        (DoorLine((0, 0), (200, 200), in_point=(150, 20), band_px=5), [(20, 150), (150, 30)], (1, 0)),
        # Diagonal line given with its ends swapped: the in-point alone decides.
        (DoorLine((200, 200), (0, 0), in_point=(150, 20), band_px=5), [(20, 150), (150, 30)], (1, 0)),
        # Zero band: any side change through the segment counts.
        (DoorLine((0, 100), (200, 100), in_point=(100, 0), band_px=0), [(100, 101), (100, 99)], (1, 0)),
    ],
)
def test_any_orientation_with_a_stated_in_side(
    line: DoorLine, points: list[tuple[float, float]], expected: tuple[int, int]
) -> None:
    assert _run(line, points) == expected


@pytest.mark.parametrize(
    ("points", "confirmed_from", "expected"),
    [
        # Confirmed after crossing: the crossing counts once it is confirmed.
        ([(100, 150), (100, 50), (100, 45), (100, 40)], 3, (1, 0)),
        # Never confirmed (a flicker blob): nothing.
        ([(100, 150), (100, 50), (100, 45)], 99, (0, 0)),
        # Crossed and came back before being confirmed: nothing.
        ([(100, 150), (100, 50), (100, 150), (100, 150)], 3, (0, 0)),
    ],
)
def test_unsettled_tracks(
    points: list[tuple[float, float]], confirmed_from: int, expected: tuple[int, int]
) -> None:
    assert _run(HORIZONTAL, points, confirmed_from=confirmed_from) == expected


@pytest.mark.parametrize(
    ("origin", "points", "expected"),
    [
        # Line near the bottom edge: born at the edge already past it, counts as in.
        ((100, 119), [(100, 80), (100, 60)], (1, 0)),
        # Born at the left edge on the room's side: came from inside, nothing.
        ((0, 50), [(20, 50), (60, 50)], (0, 0)),
        # Born at the bottom edge but beyond the line's end: went round it, nothing.
        ((300, 119), [(300, 80), (300, 60)], (0, 0)),
        # Born at the edge on the line itself: unknown, nothing until it really crosses.
        ((100, 100), [(100, 80), (100, 60)], (0, 0)),
    ],
)
def test_tracks_born_at_the_frame_edge(
    origin: tuple[float, float], points: list[tuple[float, float]], expected: tuple[int, int]
) -> None:
    counter = LineCounter(HORIZONTAL)
    for point in points:
        counter.trigger([TrackPoint(7, point, origin=origin)], AT)
    assert (counter.in_count, counter.out_count) == expected


def test_a_track_continuing_a_lost_one_keeps_its_side() -> None:
    counter = LineCounter(HORIZONTAL)
    counter.trigger([TrackPoint(1, (100, 150))], AT)  # seen outside, then faded into the background
    counter.trigger([TrackPoint(2, (100, 98), parent_id=1)], AT)  # moves again on the line
    crossings = counter.trigger([TrackPoint(2, (100, 50), parent_id=1)], AT)
    assert [(c.direction, c.track_id, c.line, c.source) for c in crossings] == [
        (Direction.IN, 2, 0, "camera")
    ]


def test_tracks_are_counted_independently_and_forgotten() -> None:
    counter = LineCounter(HORIZONTAL)
    counter.trigger([TrackPoint(1, (50, 150)), TrackPoint(2, (150, 150))], AT)
    crossings = counter.trigger([TrackPoint(1, (50, 50)), TrackPoint(2, (150, 50))], AT)
    assert sorted(c.track_id for c in crossings if c.track_id is not None) == [1, 2]
    counter.forget([1, 2])
    counter.trigger([TrackPoint(1, (50, 40))], AT)  # id 1 again after forgetting: starts afresh
    assert (counter.in_count, counter.out_count) == (2, 0)


@pytest.mark.parametrize(
    ("point", "side"),
    [
        ((100, 50), Side.IN),  # above the band
        ((100, 150), Side.OUT),  # below the band
        ((100, 91), Side.ON),  # inside the band, room side
        ((100, 109), Side.ON),  # inside the band, other side
    ],
)
def test_side(point: tuple[float, float], side: Side) -> None:
    assert HORIZONTAL.side(point) is side


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        # Zero-length line.
        ({"start": (5, 5), "end": (5, 5), "in_point": (0, 0)}, "same point"),
        # In-point on the line itself.
        ({"start": (0, 0), "end": (10, 0), "in_point": (20, 0)}, "lies on the line"),
        # Negative band.
        ({"start": (0, 0), "end": (10, 0), "in_point": (5, 5), "band_px": -1}, "band_px"),
        # A person of no area: no count could be made with it.
        ({"start": (0, 0), "end": (10, 0), "in_point": (5, 5), "person_area_px": 0}, "person_area_px"),
        # Less than a pixel: an area copied from a rounded summary, or a typo.
        ({"start": (0, 0), "end": (10, 0), "in_point": (5, 5), "person_area_px": 0.3}, "at least 1 pixel"),
        # Not a number.
        (
            {"start": (0, 0), "end": (10, 0), "in_point": (5, 5), "person_area_px": float("nan")},
            "person_area_px",
        ),
        # Infinite.
        (
            {"start": (0, 0), "end": (10, 0), "in_point": (5, 5), "person_area_px": float("inf")},
            "person_area_px",
        ),
    ],
)
def test_bad_lines_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DoorLine(**kwargs)
