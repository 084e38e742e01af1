"""The end-to-end proxy's synthetic scenes: every photo lands inside its frame, where the scorer looks."""

import itertools
from pathlib import Path

import numpy as np
import pytest

from station.vision.training.scenes import STREET_SIZES_PX, _whole_face, pasted_frame, run, street_frame


def photos_and_faces(count: int) -> tuple[list[np.ndarray], list[tuple[float, float, float, float]]]:
    rng = np.random.default_rng(1)
    photos = [rng.integers(0, 256, (120 + 10 * i, 100, 3), dtype=np.uint8) for i in range(count)]
    faces = [(20.0, 25.0, 80.0, 95.0) for _ in photos]  # a 60 px face in each photo
    return photos, faces


@pytest.mark.parametrize(
    ("size", "count", "band"),
    [
        # the smallest street frame, three faces of 32-48 px
        (STREET_SIZES_PX[0], 3, (32, 48)),
        # the usual test-photo size, three faces of 64-128 px
        ((512, 366), 3, (64, 128)),
        # the largest frame, six faces of 64-128 px
        (STREET_SIZES_PX[-1], 6, (64, 128)),
    ],
)
def teststreet_frame_places_every_photo_inside_the_frame(size, count, band):
    photos, faces = photos_and_faces(count)
    frame, placed = street_frame(np.random.default_rng(2), photos, faces, np.arange(count), *band, size)
    assert frame.shape == (size[1], size[0], 3)
    assert frame.dtype == np.uint8
    assert [index for index, _ in placed] == list(range(count))
    for _, (x1, y1, x2, y2) in placed:
        assert 0 <= x1 < x2 <= size[0]
        assert 0 <= y1 < y2 <= size[1]
        # the face is scaled into the band, or shrunk to fit its column and the frame's upper part
        assert (x2 - x1) * 60 / 100 <= band[1] + 1
    # one photo per column: the boxes never overlap
    boxes = sorted(box for _, box in placed)
    assert all(left[2] <= right[0] for left, right in itertools.pairwise(boxes))


def testpasted_frame_is_the_original_640x480_scene():
    photos, faces = photos_and_faces(4)
    frame, placed = pasted_frame(np.random.default_rng(3), photos, faces, np.arange(4), 64, 128)
    assert frame.shape == (480, 640, 3)
    assert [index for index, _ in placed] == [0, 1, 2, 3]
    for slot, (index, (x1, y1, x2, y2)) in enumerate(placed):
        # each photo keeps its shape (100 px wide, 120 + 10 * index tall), scaled so its face is 64-128 px
        assert (y2 - y1) / (x2 - x1) == pytest.approx((120 + 10 * index) / 100, abs=0.05)
        assert 64 <= (x2 - x1) * 60 / 100 <= 129
        # in its own column of the four
        assert slot * 160 <= x1 < (slot + 1) * 160


def test_an_unknown_kind_of_scene_is_refused():
    with pytest.raises(ValueError, match="kind"):
        run(Path("model.onnx"), Path("data"), Path("yunet.onnx"), kind="crowd")


def test_an_unknown_split_is_refused():
    with pytest.raises(ValueError, match="split"):
        run(Path("model.onnx"), Path("data"), Path("yunet.onnx"), split="test")


@pytest.mark.parametrize(
    ("box", "whole"),
    [
        # a face inside a 100x120 photo, 60 % of its width: a whole face
        ((20, 25, 80, 95), True),
        # YuNet's box a little past the side edges (2 % of the face's width): still whole
        ((-1, 25, 101, 115), True),
        # the forehead cut off: the box starts above the photo
        ((20, -8, 80, 70), False),
        # the chin cut off: the box ends below the photo
        ((20, 60, 80, 130), False),
        # a wide shot: the face is a fifth of the photo's width
        ((40, 20, 60, 45), False),
    ],
)
def test_whole_face(box, whole):
    assert _whole_face(box, 100, 120) is whole


@pytest.mark.parametrize(
    ("truth", "guess", "expected"),
    [
        # no face in the subset: every figure is null (JSON), not NaN, and nothing crashes
        (
            [],
            [],
            {"faces": 0, "found": None, "end_to_end": None, "crowd_mix": None},
        ),
        # masked faces, none found: found 0, no label figure
        ([0, 0], [None, None], {"found": 0.0, "end_to_end": 0.0, "label_accuracy_when_found": None}),
        # one of each class, all right: the crowd mix is 1 whatever the weights
        ([0, 1, 2], [0, 1, 2], {"end_to_end": 1.0, "crowd_mix": 1.0, "bare_caught_when_found": 1.0}),
        # a masked face missed, a bare one right: crowd mix 0.79 * 0 + 0.18 * 1, over 0.97
        ([0, 1], [None, 1], {"end_to_end": 0.5, "crowd_mix": round(0.18 / 0.97, 4)}),
    ],
)
def test_score(truth, guess, expected):
    from station.vision.training.scenes import _score

    figures = _score(truth, guess)
    for key, value in expected.items():
        assert figures[key] == value
