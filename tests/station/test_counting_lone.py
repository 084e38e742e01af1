"""How one person's area is measured at a line from a lone tracked crosser (``FluxLineCounter.vote``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from sensors.crossing import Direction
from station.counting import FluxLineCounter
from station.vision.crossings import DoorLine
from station.vision.flux import FluxSettings
from station.vision.sizes import PersonSizes
from station.vision.tracking import Track

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SIZE = (768, 432)
# Across the middle of the frame; the room is the upper half, so walking down is going out.
MIDDLE = DoorLine((64, 216), (704, 216), in_point=(384, 60), band_px=12)
BODY_W, BODY_H, SPEED_PX = 40, 60, 4.0


def _frames(lefts_px: tuple[int, ...] = (364,)) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Textured bodies walking down across MIDDLE side by side, their left edges at ``lefts_px``.

    Returns (grey, foreground, the bodies' centre height) per frame.
    """
    rng = np.random.default_rng(7)
    floor = rng.integers(90, 150, (SIZE[1], SIZE[0]), dtype=np.uint8)
    cloths = [rng.integers(0, 255, (BODY_H, BODY_W), dtype=np.uint8) for _ in lefts_px]
    frames = []
    for index in range(70):
        cy = 120 + SPEED_PX * index
        top = round(cy - BODY_H / 2)
        grey, foreground = floor.copy(), np.zeros_like(floor)
        rows = slice(max(0, top), min(SIZE[1], top + BODY_H))
        for left, cloth in zip(lefts_px, cloths, strict=True):
            grey[rows, left : left + BODY_W] = cloth[rows.start - top : rows.stop - top]
            foreground[rows, left : left + BODY_W] = 255
        frames.append((grey, foreground, cy))
    return frames


def _walk(counter: FluxLineCounter, lefts_px: tuple[int, ...], tracked_w_px: float) -> np.ndarray:
    """Walk the bodies across, the one centred at x 384 voted a lone crosser; return each bin's swept area."""
    swept_px = np.zeros(counter.flux.bins)
    voted = False
    for index, (grey, foreground, cy) in enumerate(_frames(lefts_px)):
        at = T0 + timedelta(seconds=index / 25.0)
        counter.trigger(grey, foreground, at)
        swept_px += np.clip(-counter.flux.flux_px, 0.0, None)
        if not voted and cy > 216 + 12:  # the tracker tells the crossing once the centre is past the band
            counter.vote(Direction.OUT, at, _track(cy, tracked_w_px), alone=True)
            voted = True
    return swept_px


def _track(cy: float, width_px: float) -> Track:
    """The tracked blob of the body: only its middle ``width_px`` (a fragment, as dark clothes make)."""
    return Track(
        track_id=1,
        box=(384 - width_px / 2, cy - BODY_H / 2, width_px, BODY_H),
        anchor=(384, cy),
        velocity=(0.0, SPEED_PX),
        hits=20,
        confirmed=True,
        origin=None,
        parent_id=None,
        coasting=False,
        missed=0,
        travelled_px=100.0,
    )


@pytest.mark.parametrize(
    "tracked_share",
    [
        1.0,  # the whole body is tracked
        0.6,  # only the middle of the body is tracked (the sides fell into holes of the mask)
        0.4,  # a fragment: its window along the line is narrower than the body, whose own event counts
    ],
)
def test_a_lone_crosser_is_measured_by_all_the_area_it_swept(tracked_share: float) -> None:
    counter = FluxLineCounter(MIDDLE, SIZE, PersonSizes(SIZE[1]), FluxSettings(hold_s=0.2))
    swept_px = _walk(counter, (364,), tracked_share * BODY_W)
    assert counter.person.lone_crossers == 1
    # nobody else was tracked, so the one lone crosser is the whole estimate (a guess until a second)
    assert not counter.person.sized
    assert counter.person.estimate(216) == pytest.approx(swept_px.sum(), rel=0.05)


def test_a_lone_crosser_in_a_row_of_people_is_measured_only_in_its_window() -> None:
    # three bodies shoulder to shoulder make one event three bodies wide: not one person's area
    counter = FluxLineCounter(MIDDLE, SIZE, PersonSizes(SIZE[1]), FluxSettings(hold_s=0.2))
    swept_px = _walk(counter, (324, 364, 404), BODY_W)
    # the lone crosser's window along the line: lone_reach box widths and a bin either side of its centre
    bin_px = counter.flux.bin_px
    half_px = counter.settings.lone_reach * BODY_W + bin_px
    along_px = 384 - MIDDLE.start[0]
    window = slice(int((along_px - half_px) // bin_px), int((along_px + half_px) // bin_px) + 1)
    assert counter.person.lone_crossers == 1
    assert counter.person.estimate(216) == pytest.approx(swept_px[window].sum(), rel=0.05)
    assert counter.person.estimate(216) < 0.7 * swept_px.sum()  # not the row's whole area
