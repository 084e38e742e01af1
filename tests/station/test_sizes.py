from __future__ import annotations

import pytest

from station.vision.sizes import PersonSizes, SizeSettings


def _sizes(max_people: int = 3) -> PersonSizes:
    """Three people of 1000 px near the top of a 400 px frame, three of 4000 px near the bottom."""
    sizes = PersonSizes(400, SizeSettings(max_people=max_people))
    for track_id, area in ((1, 950), (2, 1000), (3, 1050)):
        sizes.add(50, area, track_id)
    for track_id, area in ((4, 3900), (5, 4000), (6, 4100)):
        sizes.add(350, area, track_id)
    sizes.refresh()
    return sizes


@pytest.mark.parametrize(
    ("cy", "area", "people"),
    [
        (50, 1000, 1),  # the usual size near the top
        (50, 1700, 1),  # 1.7 times: a big coat or a bag, still one
        (50, 2000, 2),  # twice: two shoulder to shoulder
        (50, 3000, 3),  # three times: three abreast
        (50, 9000, 3),  # never more than three from one blob
        (350, 4000, 1),  # near the camera people are bigger: the same area is one person here
        (350, 8000, 2),  # and twice that is two
        (200, 5000, 1),  # in the middle nobody was seen yet: no guess
    ],
)
def test_people_by_area_and_height(cy: float, area: float, people: int) -> None:
    assert _sizes().people(cy, area) == people


def test_one_person_seen_many_times_is_one_vote() -> None:
    sizes = PersonSizes(400)
    for _ in range(50):
        sizes.add(50, 1000, track_id=1)
    sizes.add(50, 2000, track_id=2)
    sizes.refresh()
    assert sizes.typical_area_px(50) is None  # two people seen, not fifty


def test_groups_are_not_counted_unless_asked() -> None:
    sizes = PersonSizes(400)
    for track_id in (1, 2, 3):
        sizes.add(50, 1000, track_id)
    sizes.refresh()
    assert sizes.typical_area_px(50) == 1000  # still known: fragments are judged by it
    assert sizes.people(50, 3000) == 1
