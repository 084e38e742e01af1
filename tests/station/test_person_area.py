"""What one person's area at a line rests on (``PersonArea``), and how a line's totals say it."""

from __future__ import annotations

import pytest

from station.counting import TRUSTED_LONE_CROSSERS, AreaBasis, LineCount, PersonArea
from station.vision.sizes import PersonSizes


def _area(
    *, tracked: bool, events: int, singles: tuple[float, ...], given_px: float | None = None
) -> PersonArea:
    sizes = PersonSizes(400)
    if tracked:
        for track_id in (1, 2, 3):  # three people of 1,000 px near the line's height
            sizes.add(200, 1000, track_id)
        sizes.refresh()
    area = PersonArea(sizes, floor_px=100, given_px=given_px)
    for _ in range(events):
        area.learn(800, single=False)
    for single_px in singles:
        area.learn(single_px, single=True)
    return area


@pytest.mark.parametrize(
    ("tracked", "events", "singles", "given_px", "basis", "estimate_px", "sized"),
    [
        # nothing seen yet: no area, no basis
        (False, 0, (), None, None, None, False),
        # people tracked, nothing crossed yet: their size
        (True, 0, (), None, AreaBasis.TRACKED_PEOPLE, 1000, False),
        # crossings, but nobody tracked: the line's own crossings
        (False, 3, (), None, AreaBasis.EVENTS, 800, False),
        # tracked people of 1,000 px, fewer than five crossings: their size
        (True, 3, (), None, AreaBasis.TRACKED_PEOPLE, 1000, False),
        # five crossings smaller than the tracked size: a door of one at a time, the crossings win
        (True, 5, (), None, AreaBasis.EVENTS, 800, False),
        # one lone crosser is not trusted alone: the median of it and the tracked size
        (True, 5, (1200,), None, AreaBasis.LONE_CROSSERS, 1100, False),
        # nobody tracked: the one lone crosser is all there is
        (False, 5, (1200,), None, AreaBasis.LONE_CROSSERS, 1200, False),
        # two lone crossers are trusted alone: their median (pooled with the tracker it would be 1,200)
        (True, 5, (1200, 1600), None, AreaBasis.LONE_CROSSERS, 1400, True),
        # the installer's figure replaces everything
        (True, 5, (1200, 1600), 1500.0, AreaBasis.GIVEN, 1500, True),
        # but never below the smallest blob
        (True, 5, (1200, 1600), 50.0, AreaBasis.GIVEN, 100, True),
    ],
)
def test_the_area_and_what_it_rests_on(
    tracked: bool,
    events: int,
    singles: tuple[float, ...],
    given_px: float | None,
    basis: AreaBasis | None,
    estimate_px: float | None,
    sized: bool,
) -> None:
    area = _area(tracked=tracked, events=events, singles=singles, given_px=given_px)
    assert area.basis(200) == basis
    assert area.estimate(200) == estimate_px
    assert area.lone_crossers == len(singles)
    assert area.sized == sized


def test_crossings_smaller_than_the_floor_are_not_learnt() -> None:
    # a hand or a shadow's edge measures nothing, and is no lone crosser
    area = _area(tracked=False, events=0, singles=(50,))
    assert (area.lone_crossers, area.basis(200)) == (0, None)


def _totals(basis: AreaBasis | None, lone: int | None, area_px: float | None = 2250.0) -> LineCount:
    return LineCount(3, 1, 9000.0, area_px, person_area_from=basis, lone_crossers=lone)


@pytest.mark.parametrize(
    ("totals", "text"),
    [
        # the installer's figure: trusted as it is
        (_totals(AreaBasis.GIVEN, 0), "  (flow 9,000 px, one person 2,250 px, given)"),
        # enough lone crossers: learnt
        (
            _totals(AreaBasis.LONE_CROSSERS, TRUSTED_LONE_CROSSERS),
            "  (flow 9,000 px, one person 2,250 px, learnt from 5 lone crossers)",
        ),
        # one short of enough: a guess, and the text says what to do
        (
            _totals(AreaBasis.LONE_CROSSERS, TRUSTED_LONE_CROSSERS - 1),
            "  (flow 9,000 px, one person 2,250 px, a guess from 4 lone crossers:"
            " count a recorded clip by eye and give --person-area-px)",
        ),
        # one lone crosser is singular
        (
            _totals(AreaBasis.LONE_CROSSERS, 1),
            "  (flow 9,000 px, one person 2,250 px, a guess from 1 lone crosser:"
            " count a recorded clip by eye and give --person-area-px)",
        ),
        # nobody crossed alone: the tracker's sizes
        (
            _totals(AreaBasis.TRACKED_PEOPLE, 0),
            "  (flow 9,000 px, one person 2,250 px, a guess from tracked people:"
            " count a recorded clip by eye and give --person-area-px)",
        ),
        # nobody tracked either: the line's own crossings
        (
            _totals(AreaBasis.EVENTS, 0),
            "  (flow 9,000 px, one person 2,250 px, a guess from the line's own crossings:"
            " count a recorded clip by eye and give --person-area-px)",
        ),
        # an area without a basis (built by hand): the figures, no claim about them
        (_totals(None, None), "  (flow 9,000 px, one person 2,250 px)"),
        # nothing crossed: the flow alone
        (_totals(None, 0, area_px=None), "  (flow 9,000 px)"),
        # the tracks method measures no flow: nothing to say
        (LineCount(3, 1), ""),
    ],
)
def test_the_totals_say_what_one_persons_area_rests_on(totals: LineCount, text: str) -> None:
    assert totals.text() == text
