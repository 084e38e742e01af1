"""How many people an event's area is (``station.vision.flux.people_for``)."""

from __future__ import annotations

import pytest

from station.vision.flux import FluxSettings, people_for

SETTINGS = FluxSettings(min_person_share=0.4, two_ratio=1.6, group_two_ratio=1.3)


@pytest.mark.parametrize(
    ("ratio", "two_ratio", "people"),
    [
        (0.3, None, 0),  # a hand, a bag: nobody
        (0.5, None, 1),  # part of a person, cut by the frame's edge
        (1.5, None, 1),  # one big person (a lone tracked crosser keeps the wide margin)
        (1.5, 1.3, 2),  # the same area that no lone track vouches for: two who hide parts of each other
        (1.2, 1.3, 1),  # still one person with the group threshold
        (2.6, None, 3),  # a group: rounded
        (2.6, 1.3, 3),  # the group threshold changes only where two begins
    ],
)
def test_people_for_an_event(ratio: float, two_ratio: float | None, people: int) -> None:
    assert people_for(ratio * 1000.0, 1000.0, SETTINGS, two_ratio=two_ratio) == people
