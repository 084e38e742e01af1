"""The station's camera observer: the real face detector and mask classifier on a frame."""

from datetime import UTC, datetime

import numpy as np
import pytest
from mask_samples import MODELS, paste_scene, shared_image

from station.config import parse
from station.events import Mask
from station.runner import Runner

AT = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def observe(tmp_path):
    config = parse(
        {
            "station": {"journal": str(tmp_path / "journal.sqlite3")},
            "camera": {"source": "0", "model_dir": str(MODELS), "guide": [0.0, 0.0, 1.0, 1.0]},
            "counting": {"source": "none"},
        }
    )
    return Runner(config)._face_observer()


@pytest.mark.parametrize(
    ("name", "mask"),
    [
        # a real masked face, large enough to measure
        ("with_mask/rwmfd_0", Mask.WITH_MASK),
        # a real bare face
        ("without_mask/fmd_0", Mask.WITHOUT_MASK),
    ],
)
def test_a_face_in_position_carries_its_probabilities(observe, name, mask):
    observation = observe(paste_scene([shared_image(name)], 240), AT)
    assert (observation.present, observation.in_position, observation.mask) == (True, True, mask)
    assert len(observation.mask_probabilities) == 3
    assert sum(observation.mask_probabilities) == pytest.approx(1.0, abs=1e-5)


def test_an_empty_frame_has_nobody(observe):
    observation = observe(np.full((480, 640, 3), 128, np.uint8), AT)
    assert (observation.present, observation.mask, observation.mask_probabilities) == (False, None, None)
