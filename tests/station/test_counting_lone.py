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


def _frames() -> list[tuple[np.ndarray, np.ndarray, float]]:
    """A textured body walking down across MIDDLE: (grey, foreground, its centre's height) per frame."""
    rng = np.random.default_rng(7)
    floor = rng.integers(90, 150, (SIZE[1], SIZE[0]), dtype=np.uint8)
    cloth = rng.integers(0, 255, (BODY_H, BODY_W), dtype=np.uint8)
    frames = []
    for index in range(70):
        cy = 120 + SPEED_PX * index
        top = round(cy - BODY_H / 2)
        grey, foreground = floor.copy(), np.zeros_like(floor)
        rows = slice(max(0, top), min(SIZE[1], top + BODY_H))
        grey[rows, 364:404] = cloth[rows.start - top : rows.stop - top]
        foreground[rows, 364:404] = 255
        frames.append((grey, foreground, cy))
    return frames


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
    ],
)
def test_a_lone_crosser_is_measured_by_all_the_area_it_swept(tracked_share: float) -> None:
    counter = FluxLineCounter(MIDDLE, SIZE, PersonSizes(SIZE[1]), FluxSettings(hold_s=0.2))
    swept_px = 0.0
    voted = False
    for index, (grey, foreground, cy) in enumerate(_frames()):
        at = T0 + timedelta(seconds=index / 25.0)
        counter.trigger(grey, foreground, at)
        swept_px += float(np.clip(-counter.flux.flux_px, 0.0, None).sum())
        if not voted and cy > 216 + 12:  # the tracker tells the crossing once the centre is past the band
            counter.vote(Direction.OUT, at, _track(cy, tracked_share * BODY_W), alone=True)
            voted = True
    assert counter.person.lone_crossers == 1
    # nobody else was tracked, so the one lone crosser is the whole estimate (a guess until a second)
    assert not counter.person.sized
    assert counter.person.estimate(216) == pytest.approx(swept_px, rel=0.05)
