"""Rendered door scenes with a known truth, through the whole pipeline: exact counts per line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from door_scenes import FPS, HEIGHT, Scene, Walker, pause, walk

from station.counting import DoorCounter
from station.vision.crossings import DoorLine
from station.vision.sizes import SizeSettings
from station.vision.tracking import TrackerSettings

T0 = datetime(2026, 1, 1, tzinfo=UTC)

# Across the middle of a 768x432 frame; the room is the upper half.
MIDDLE = DoorLine((64, 216), (704, 216), in_point=(384, 60), band_px=12)
# Close to the bottom edge: people walking up are past it before they are wholly in view.
NEAR_EDGE = DoorLine((64, HEIGHT - 18), (704, HEIGHT - 18), in_point=(384, 100), band_px=12)
# Close to the top edge, the room above it: people are out of view soon after crossing.
NEAR_TOP = DoorLine((64, 12), (704, 12), in_point=(384, 2), band_px=12)
# A lobby seeing two doors: a diagonal one (room above-right) and a vertical one (room on the right).
DIAGONAL = DoorLine((50, 100), (400, 400), in_point=(400, 100), band_px=12, name=0)
VERTICAL = DoorLine((650, 20), (650, 420), in_point=(760, 200), band_px=12, name=1)

RED = (40, 60, 170)
BLUE = (160, 60, 40)
GREEN = (60, 150, 50)


def count(
    scene: Scene, lines: tuple[DoorLine, ...], tracking: TrackerSettings | None = None
) -> list[tuple[int, int]]:
    counter = DoorCounter(lines, scene.size, tracking=tracking)
    for index, image in enumerate(scene.frames()):
        counter.process(image, T0 + timedelta(seconds=index / FPS))
    counter.finish()
    return [(c.in_count, c.out_count) for c in counter.counters]


SCENES = [
    pytest.param(
        # One person walks straight in from the bottom edge to the top edge.
        Scene((Walker(walk((384, 460), (384, -30), start_s=1.0)),), 6.0),
        (MIDDLE,),
        [(1, 0)],
        id="walk-in",
    ),
    pytest.param(
        # One person walks out, slightly diagonally.
        Scene((Walker(walk((300, -30), (340, 460), start_s=1.0)),), 6.0),
        (MIDDLE,),
        [(0, 1)],
        id="walk-out",
    ),
    pytest.param(
        # Walks up to the line, lingers on it for 3 s shuffling across it, then goes in.
        Scene(
            (
                Walker(
                    pause(
                        walk((384, 420), (384, 222), start_s=1.0), 3.0, ((392, 208), (384, 216), (384, -30))
                    )
                ),
            ),
            10.0,
        ),
        (MIDDLE,),
        [(1, 0)],
        id="linger-on-the-line-then-in",
    ),
    pytest.param(
        # Walks onto the line, stands on it for 3 s, and goes back out the way they came.
        Scene((Walker(pause(walk((384, 460), (384, 212), start_s=1.0), 3.0, ((384, 460),))),), 10.0),
        (MIDDLE,),
        [(0, 0)],
        id="linger-on-the-line-then-back",
    ),
    pytest.param(
        # Turns back just before crossing.
        Scene((Walker(walk((384, 460), (384, 214), (384, 460), start_s=1.0)),), 7.0),
        (MIDDLE,),
        [(0, 0)],
        id="turn-back",
    ),
    pytest.param(
        # Two people walk in side by side, a small gap between them.
        Scene(
            (
                Walker(walk((330, 460), (330, -30), start_s=1.0), colour=RED),
                Walker(walk((418, 460), (418, -30), start_s=1.0), colour=BLUE),
            ),
            6.0,
        ),
        (MIDDLE,),
        [(2, 0)],
        id="two-side-by-side",
    ),
    pytest.param(
        # Two people walk in one behind the other.
        Scene(
            (
                Walker(walk((384, 460), (384, -30), start_s=1.0), colour=RED),
                Walker(walk((384, 460), (384, -30), start_s=1.7), colour=BLUE),
            ),
            7.0,
        ),
        (MIDDLE,),
        [(2, 0)],
        id="one-behind-another",
    ),
    pytest.param(
        # Two people pass each other in opposite directions.
        Scene(
            (
                Walker(walk((330, 460), (330, -30), start_s=1.0), colour=RED),
                Walker(walk((460, -30), (460, 460), start_s=1.0), colour=BLUE),
            ),
            6.0,
        ),
        (MIDDLE,),
        [(1, 1)],
        id="two-passing-each-other",
    ),
    pytest.param(
        # Enters from the bottom edge with the line close to it, then leaves by the left side.
        Scene((Walker(walk((384, 480), (384, 100), (-60, 100), start_s=1.0)),), 9.0),
        (NEAR_EDGE,),
        [(1, 0)],
        id="enter-at-the-edge-already-past-the-line",
    ),
    pytest.param(
        # Enters from the left edge on the room's side and leaves by the right: never crossed.
        Scene((Walker(walk((-60, 100), (830, 120), start_s=1.0)),), 9.0),
        (MIDDLE,),
        [(0, 0)],
        id="enter-at-the-side-inside-the-room",
    ),
    pytest.param(
        # A shadow alone sweeps across the line: no one.
        Scene((Walker(walk((384, 460), (384, -30), start_s=1.0), shadow_of_light=True),), 6.0),
        (MIDDLE,),
        [(0, 0)],
        id="shadow-alone",
    ),
    pytest.param(
        # A person with a long shadow beside them: one.
        Scene((Walker(walk((300, 460), (300, -30), start_s=1.0), casts_shadow=True),), 6.0),
        (MIDDLE,),
        [(1, 0)],
        id="person-with-a-shadow",
    ),
    pytest.param(
        # The light brightens by 30 % over 2 s while someone walks in.
        Scene(
            (Walker(walk((384, 420), (384, 20), start_s=1.0)),),
            7.0,
            light=lambda t_s: 1.0 + 0.3 * min(max(t_s - 1.5, 0.0) / 2.0, 1.0),
        ),
        (MIDDLE,),
        [(1, 0)],
        id="gradual-light-change",
    ),
    pytest.param(
        # A lamp switches on (35 % brighter at once) while someone walks in.
        Scene(
            (Walker(walk((384, 420), (384, 20), start_s=1.0)),),
            7.0,
            light=lambda t_s: 1.0 if t_s < 2.2 else 1.35,
        ),
        (MIDDLE,),
        [(1, 0)],
        id="sudden-light-change",
    ),
    pytest.param(
        # Walks in, stands still for 10 s (long enough to fade into the background), walks back out.
        Scene((Walker(pause(walk((384, 420), (384, 100), start_s=1.0), 10.0, ((384, 460),))),), 18.0),
        (MIDDLE,),
        [(1, 1)],
        id="stand-still-then-leave",
    ),
    pytest.param(
        # In, out and in again, by a winding path.
        Scene(
            (Walker(walk((384, 420), (384, 60), (500, 60), (500, 400), (600, 400), (600, 60), start_s=1.0)),),
            14.0,
        ),
        (MIDDLE,),
        [(2, 1)],
        id="in-out-in",
    ),
    pytest.param(
        # A line close to the top edge: one person leaves the frame across it, one enters across it.
        Scene(
            (
                Walker(walk((300, 460), (300, -60), start_s=1.0), colour=RED),
                Walker(walk((500, -60), (500, 460), start_s=1.0), colour=BLUE),
            ),
            7.0,
        ),
        (NEAR_TOP,),
        [(1, 1)],
        id="leave-and-enter-across-a-line-at-the-edge",
    ),
    pytest.param(
        # Two lines: one person goes in through the diagonal door, another out through the vertical one.
        Scene(
            (
                Walker(walk((100, 400), (350, 60), start_s=1.0), colour=RED),
                Walker(walk((800, 200), (540, 200), start_s=1.0), colour=GREEN),
            ),
            7.0,
        ),
        (DIAGONAL, VERTICAL),
        [(1, 0), (0, 1)],
        id="two-doors-in-a-lobby",
    ),
]


@pytest.mark.parametrize(("scene", "lines", "expected"), SCENES)
def test_scene_counts_exactly(
    scene: Scene, lines: tuple[DoorLine, ...], expected: list[tuple[int, int]]
) -> None:
    assert count(scene, lines) == expected


# A room seen side-on: people come in from the bottom edge across ENTRY, wait at a table in the middle,
# and leave by the right edge across EXIT (the room is on the left of it).
ENTRY = DoorLine((100, 380), (668, 380), in_point=(384, 200), band_px=12, name="entry")
EXIT = DoorLine((700, 30), (700, 420), in_point=(400, 200), band_px=12, name="exit")


def side_on_visitor(index: int) -> Walker:
    """The index-th visitor: tall (seen from the side), in at 4 s intervals, waits 5 s, leaves right."""
    x = 260 + 60 * index
    path = pause(walk((x, 500), (x, 230), start_s=1.0 + 4.0 * index), 5.0, ((840, 230 + 8 * index),))
    return Walker(path, size=(22, 58), colour=((50 * index) % 200 + 40, 70, 150 - (20 * index) % 100))


@pytest.mark.slow
def test_a_side_on_room_counts_each_visitor_once_per_line() -> None:
    # Six visitors, one after another, each waiting at the table while the next comes in.
    scene = Scene(tuple(side_on_visitor(i) for i in range(6)), 36.0)
    assert count(scene, (ENTRY, EXIT)) == [(6, 0), (0, 6)]


def test_shoulder_to_shoulder_counts_two_when_groups_are_counted() -> None:
    # Three people walk in one at a time, then two shoulder to shoulder (one blob): five.
    scene = Scene(
        (
            *(
                Walker(walk((200 + 160 * i, 460), (210 + 160 * i, -30), start_s=1.0 + 1.5 * i))
                for i in range(3)
            ),
            Walker(walk((350, 460), (350, -30), start_s=7.0), colour=RED),
            Walker(walk((418, 460), (418, -30), start_s=7.0), colour=BLUE),
        ),
        12.0,
    )
    assert count(scene, (MIDDLE,), TrackerSettings(sizes=SizeSettings(max_people=2))) == [(5, 0)]


def side_on_visitor_sized(index: int, size: tuple[int, int]) -> Walker:
    """Like ``side_on_visitor``, but of the given size (a child is half an adult's height)."""
    x = 260 + 60 * index
    path = pause(walk((x, 500), (x, 230), start_s=1.0 + 4.0 * index), 5.0, ((840, 230 + 8 * index),))
    return Walker(path, size=size, colour=((50 * index) % 200 + 40, 70, 150 - (20 * index) % 100))


@pytest.mark.slow
def test_a_child_first_does_not_make_each_adult_after_them_two() -> None:
    # A child comes in first (the line's first size of a person), then four adults, one at a time: each
    # adult sweeps three times the child's area, yet each was tracked alone, so each is one person.
    sizes = [(13, 32), (22, 58), (22, 58), (22, 58), (22, 58)]
    scene = Scene(tuple(side_on_visitor_sized(i, size) for i, size in enumerate(sizes)), 32.0)
    assert count(scene, (ENTRY, EXIT)) == [(5, 0), (0, 5)]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("x", "stand_s", "exit_speed_px_s", "shadow"),
    [
        (384, 15.0, 120.0, False),  # stands mid-picture for 15 s, leaves at a walk
        (300, 20.0, 90.0, False),  # stands longer, further left, leaves slowly
        (384, 15.0, 120.0, True),  # with a shadow beside them all the way
    ],
)
def test_a_visitor_who_stands_at_the_table_crosses_each_line_once(
    x: float, stand_s: float, exit_speed_px_s: float, shadow: bool
) -> None:
    # The held-out side-on room: in from the bottom edge, a long wait at the table (long enough to fade
    # into a motion-only background), out by the right edge. Each line sees one crossing, no phantom
    # crossing the other way after the exit, and the person stays one track throughout.
    path = pause(walk((x, 500), (x, 230), start_s=1.0), stand_s, ((840, 240),), speed_px_s=exit_speed_px_s)
    visitor = Walker(path, size=(22, 58), casts_shadow=shadow)
    scene = Scene((visitor,), 1.0 + 270 / 120 + stand_s + 460 / exit_speed_px_s + 2.0)
    counter = DoorCounter((ENTRY, EXIT), scene.size)
    crossings = []
    track_ids: set[int] = set()
    for index, image in enumerate(scene.frames()):
        crossings += counter.process(image, T0 + timedelta(seconds=index / FPS))
        track_ids |= {track.track_id for track in counter.tracks}
    crossings += counter.finish()
    assert [(c.line, c.direction.value) for c in crossings] == [("entry", "in"), ("exit", "out")]
    assert [(c.in_count, c.out_count) for c in counter.counters] == [(1, 0), (0, 1)]
    assert len(track_ids) <= 2
