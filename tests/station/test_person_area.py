"""What one person's area at a line rests on (``PersonArea``), from nothing to an installer's figure."""

from __future__ import annotations

import pytest

from station.counting import AreaBasis, PersonArea
from station.vision.sizes import PersonSizes


def _area(*, tracked: bool, events: int, singles: int, given_px: float | None = None) -> PersonArea:
    sizes = PersonSizes(400)
    if tracked:
        for track_id in (1, 2, 3):  # three people of 1,000 px near the line's height
            sizes.add(200, 1000, track_id)
        sizes.refresh()
    area = PersonArea(sizes, floor_px=100, given_px=given_px)
    for _ in range(events):
        area.learn(800, single=False)
    for _ in range(singles):
        area.learn(1200, single=True)
    return area


@pytest.mark.parametrize(
    ("tracked", "events", "singles", "given_px", "basis", "estimate_px"),
    [
        # nothing crossed yet: no area, no basis
        (False, 0, 0, None, None, None),
        # crossings, but nobody tracked: the first crossings' own median
        (False, 3, 0, None, AreaBasis.FIRST_EVENTS, 800),
        # tracked people of 1,000 px, fewer than five crossings: their size
        (True, 3, 0, None, AreaBasis.TRACKED_PEOPLE, 1000),
        # five crossings smaller than the tracked size: a door of one at a time, the crossings win
        (True, 5, 0, None, AreaBasis.TRACKED_PEOPLE, 800),
        # one lone crosser is not trusted alone: the median of it and the tracked size
        (True, 5, 1, None, AreaBasis.LONE_CROSSERS, 1100),
        # nobody tracked: the one lone crosser is all there is
        (False, 5, 1, None, AreaBasis.LONE_CROSSERS, 1200),
        # two lone crossers measured at the line replace the tracker's size
        (True, 5, 2, None, AreaBasis.LONE_CROSSERS, 1200),
        # the installer's figure replaces everything
        (True, 5, 2, 1500.0, AreaBasis.GIVEN, 1500),
        # but never below the smallest blob
        (True, 5, 2, 50.0, AreaBasis.GIVEN, 100),
    ],
)
def test_the_area_and_what_it_rests_on(
    tracked: bool,
    events: int,
    singles: int,
    given_px: float | None,
    basis: AreaBasis | None,
    estimate_px: float | None,
) -> None:
    area = _area(tracked=tracked, events=events, singles=singles, given_px=given_px)
    assert area.basis(200) == basis
    assert area.estimate(200) == estimate_px
    assert area.lone_crossers == singles
    assert area.sized == (given_px is not None or singles >= 2)


def test_crossings_smaller_than_the_floor_are_not_learnt() -> None:
    # a hand or a shadow's edge measures nothing, and is no lone crosser
    area = _area(tracked=False, events=0, singles=0)
    area.learn(50, single=True)
    assert (area.lone_crossers, area.basis(200)) == (0, None)
