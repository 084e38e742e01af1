"""The synthetic camera used by the demo and the station's tests."""

import numpy as np
import pytest

from sensors.emulators.camera import SyntheticCamera, Visitor, drawn_face


@pytest.mark.parametrize(
    ("elapsed_s", "present", "in_position", "label"),
    [
        # nobody during the first idle time
        (1.0, False, False, None),
        # the first visitor stepping up: present, not yet in position
        (3.2, True, False, "with_mask"),
        # standing in front of the station
        (5.0, True, True, "with_mask"),
        # leaving
        (8.9, True, False, "with_mask"),
        # the second visitor, in position
        (14.0, True, True, "without_mask"),
        # the visitors come round again
        (23.0, True, True, "with_mask"),
    ],
)
def test_truth_follows_the_timeline(elapsed_s, present, in_position, label):
    camera = SyntheticCamera([Visitor(None, "with_mask"), Visitor(None, "without_mask")], clock=lambda: 0.0)
    truth = camera.truth(elapsed_s)
    assert (truth.present, truth.in_position, truth.label) == (present, in_position, label)


def test_frames_show_a_face_only_when_someone_is_there():
    camera = SyntheticCamera([Visitor(None, "incorrect")], clock=lambda: 0.0)
    empty, visited = camera.render(1.0), camera.render(5.0)
    assert empty.shape == visited.shape == (480, 640, 3)
    assert np.abs(visited.astype(int) - empty.astype(int)).sum(axis=2).astype(bool).mean() > 0.1


def test_drawn_mask_positions_differ():
    assert not np.array_equal(drawn_face("with_mask"), drawn_face("incorrect"))


def test_needs_visitors():
    with pytest.raises(ValueError, match="at least one visitor"):
        SyntheticCamera([])
