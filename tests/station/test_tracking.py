from __future__ import annotations

import pytest

from station.vision.motion import Blob
from station.vision.sizes import SizeSettings
from station.vision.tracking import Tracker, TrackerSettings

SIZE = (400, 300)


def blob(cx: float, cy: float, w: float = 40, h: float = 40) -> Blob:
    return Blob(x=cx - w / 2, y=cy - h / 2, w=w, h=h, area_px=w * h * 0.8, cx=cx, cy=cy)


def test_a_walking_person_keeps_one_id_and_settles() -> None:
    tracker = Tracker(SIZE)
    ids = []
    confirmed = []
    for step in range(10):
        tracks = tracker.update([blob(200, 250 - 15 * step)])
        ids += [t.track_id for t in tracks]
        confirmed += [t.confirmed for t in tracks]
    assert set(ids) == {1}
    assert confirmed[:2] == [False, False]
    assert all(confirmed[2:])


@pytest.mark.parametrize(
    ("frames", "expected_ids"),
    [
        # Flicker: the blob vanishes for three frames, the track coasts and keeps its id.
        ([[blob(200, 250 - 10 * i)] for i in range(6)] + [[], [], []] + [[blob(200, 160)]], {1}),
        # Two people side by side: two ids.
        ([[blob(150, 200), blob(250, 200)]] * 3, {1, 2}),
        # A small fragment inside a tracked person's box: still one id.
        ([[blob(200, 200)], [blob(200, 195), blob(205, 180, 12, 12)], [blob(200, 190)]], {1}),
    ],
)
def test_ids(frames: list[list[Blob]], expected_ids: set[int]) -> None:
    tracker = Tracker(SIZE)
    seen: set[int] = set()
    for blobs in frames:
        seen |= {t.track_id for t in tracker.update(blobs)}
    assert seen == expected_ids


def test_two_people_merging_and_splitting_keep_their_ids() -> None:
    tracker = Tracker(SIZE)
    for step in range(4):  # two people walk down side by side
        tracker.update([blob(170, 50 + 10 * step), blob(230, 50 + 10 * step)])
    for step in range(4, 10):  # they touch: one wide blob
        tracks = tracker.update([blob(200, 50 + 10 * step, w=100)])
        assert {t.track_id for t in tracks} == {1, 2}
    tracks = tracker.update([blob(170, 150), blob(230, 150)])  # they part again
    assert {t.track_id: round(t.anchor[0]) for t in tracks} == {1: 170, 2: 230}


def test_a_person_born_at_the_edge_carries_the_border_point() -> None:
    tracker = Tracker(SIZE)
    tracks = tracker.update([Blob(x=180, y=280, w=40, h=20, area_px=600, cx=200, cy=290)])
    assert tracks[0].origin == (200, 319.0)  # half a body below the bottom edge
    tracks = tracker.update([blob(200, 150)])  # far from the first: a new person in the middle
    assert any(t.origin is None for t in tracks)


def test_a_person_standing_still_comes_back_as_a_child_of_the_dormant_track() -> None:
    tracker = Tracker(SIZE, TrackerSettings(max_missed=2))
    for step in range(5):
        tracker.update([blob(200, 250 - 10 * step)])
    for _ in range(20):  # stands still and fades into the background
        tracker.update([])
    assert tracker.update([]) == []
    tracks = tracker.update([blob(205, 205)])
    assert [(t.track_id, t.parent_id) for t in tracks] == [(2, 1)]


def test_tracks_leaving_the_frame_are_removed() -> None:
    tracker = Tracker(SIZE, TrackerSettings(max_missed=1))
    for step in range(5):
        tracker.update([blob(370 + 5 * step, 150)])
    removed: list[int] = []
    for _ in range(4):
        tracker.update([])
        removed += tracker.removed
    assert removed == [1]


def test_a_person_leaving_by_the_edge_is_reported_at_the_border_point() -> None:
    tracker = Tracker(SIZE, TrackerSettings(max_missed=1))
    for step in range(5):
        tracker.update([blob(200, 60 - 10 * step)])  # walks up and out of the top edge
    exited = []
    for _ in range(3):
        tracker.update([])
        exited += tracker.exited
    assert [(t.track_id, t.anchor) for t in exited] == [(1, (200, -20.0))]  # half a body beyond the top


def test_a_person_splitting_off_a_group_is_its_child() -> None:
    tracker = Tracker(SIZE)
    for _ in range(4):
        tracker.update([blob(200, 100, w=120, h=60)])  # a group standing in a doorway
    tracks = tracker.update([blob(190, 95, w=90, h=50), blob(250, 140)])  # one steps out of it
    assert {t.track_id: t.parent_id for t in tracks} == {1: None, 2: 1}


def test_a_person_appearing_beside_another_is_not_their_child() -> None:
    tracker = Tracker(SIZE)
    for step in range(4):
        tracker.update([blob(200, 100 + 10 * step)])
    tracks = tracker.update([blob(200, 140), blob(200, 158)])  # someone close behind, out of an occlusion
    assert {t.track_id: t.parent_id for t in tracks} == {1: None, 2: None}


def _walk_alone(tracker: Tracker, x: float, w: float, steps: int = 30) -> list[int]:
    people = []
    for step in range(steps):
        for track in tracker.update([blob(x, 280 - 8 * step, w=w)]):
            people.append(track.people)
    for _ in range(10):
        tracker.update([])
    return people


@pytest.mark.parametrize(
    ("width", "people"),
    [
        (40, 1),  # as wide as the people seen before: one
        (60, 1),  # half as wide again (a big coat, a bag): still one
        (80, 2),  # twice as wide: two walking shoulder to shoulder
        (120, 3),  # three abreast
    ],
)
def test_a_blob_twice_the_usual_size_is_two_people(width: float, people: int) -> None:
    tracker = Tracker(SIZE, TrackerSettings(sizes=SizeSettings(max_people=3)))
    for x in (80, 200, 320):  # three people walk past, one at a time
        assert set(_walk_alone(tracker, x, 40)) == {1}
    assert max(_walk_alone(tracker, 200, width)) == people


def test_no_group_sizes_before_enough_people_were_seen() -> None:
    tracker = Tracker(SIZE, TrackerSettings(sizes=SizeSettings(max_people=3)))
    assert set(_walk_alone(tracker, 200, 40)) == {1}
    assert set(_walk_alone(tracker, 200, 120)) == {1}  # only one person seen before: no guess


def test_groups_are_one_track_of_one_person_by_default() -> None:
    tracker = Tracker(SIZE)
    for x in (80, 200, 320):
        _walk_alone(tracker, x, 40)
    assert set(_walk_alone(tracker, 200, 80)) == {1}


def test_scraps_far_smaller_than_people_start_no_track() -> None:
    tracker = Tracker(SIZE)
    for x in (80, 200, 320):
        _walk_alone(tracker, x, 40)
    assert tracker.update([blob(200, 150, w=8, h=8)]) == []  # a tenth of a person's area
    assert len(tracker.update([blob(100, 150, w=30, h=30)])) == 1  # a child: about half
