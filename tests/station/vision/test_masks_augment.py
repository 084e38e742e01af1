"""Training augmentations (numpy and OpenCV only) and the data split: they must change what they claim to."""

import cv2
import numpy as np
import pytest

from station.vision.align import CROP_SIZE_PX, template_px
from station.vision.masks import LABELS
from station.vision.training import augment
from station.vision.training.augment import CONTEXT_PX, PAD_PX
from station.vision.training.data import VAL_SHARE, list_samples

POINTS = template_px(CROP_SIZE_PX, PAD_PX)
NOSE = tuple(np.round(POINTS[2]).astype(int))
MOUTH = tuple(np.round(POINTS[3:].mean(axis=0)).astype(int))
FOREHEAD = (round(POINTS[:2, 0].mean()), round(POINTS[0, 1] - 10))


def bare_face():
    """A context crop of a plain skin-coloured face on a grey background."""
    crop = np.full((CONTEXT_PX, CONTEXT_PX, 3), 70, np.uint8)
    centre = (round(POINTS[:, 0].mean()), round(POINTS[2, 1]))
    cv2.ellipse(crop, centre, (22, 30), 0, 0, 360, (120, 150, 200), -1)
    return crop


def masked_face():
    """The same face with a light-blue mask from just above the nose down to the chin."""
    crop = bare_face()
    top = round(POINTS[2, 1] - 4)
    cv2.rectangle(
        crop, (round(POINTS[0, 0] - 8), top), (round(POINTS[1, 0] + 8), top + 26), (230, 200, 150), -1
    )
    return crop


def changed(before, after, point, size=2):
    x, y = point
    a = before[y - size : y + size + 1, x - size : x + size + 1].astype(int)
    b = after[y - size : y + size + 1, x - size : x + size + 1].astype(int)
    return np.abs(a - b).mean() > 10


@pytest.mark.parametrize(
    ("seed", "over_nose"),
    [
        # masks worn properly cover the nose tip and the mouth
        (1, True),
        (2, True),
        # masks worn wrong leave the nose tip bare but cover the chin
        (3, False),
        (4, False),
        (5, False),
    ],
)
def test_drawn_mask_covers_the_nose_only_when_worn_properly(seed, over_nose):
    face = bare_face()
    out = augment.draw_mask(face, np.random.default_rng(seed), over_nose=over_nose)
    chin = (MOUTH[0], MOUTH[1] + 8)
    assert changed(face, out, chin)
    assert changed(face, out, NOSE) == over_nose
    assert not changed(face, out, FOREHEAD)


@pytest.mark.parametrize(
    "seed",
    [
        # several draws: hue shifts and painted fabrics alike
        0,
        1,
        2,
        3,
    ],
)
def test_recolour_changes_the_mask_not_the_forehead(seed):
    face = masked_face()
    out = augment.recolour_mask(face, np.random.default_rng(seed))
    assert changed(face, out, (MOUTH[0], MOUTH[1] - 2), size=3)
    assert not changed(face, out, FOREHEAD)


def test_mask_region_finds_the_mask_and_not_the_bare_skin():
    alpha = augment.mask_region(masked_face())
    assert alpha[MOUTH[1], MOUTH[0]] > 0.9
    assert alpha[FOREHEAD[1], FOREHEAD[0]] < 0.1
    assert augment.mask_region(bare_face()).max() < 0.1


def test_hand_covers_the_lower_face_in_skin_tone():
    face = bare_face()
    rng = np.random.default_rng(5)
    out = augment.draw_hand(face, rng)
    difference = np.abs(out.astype(int) - face.astype(int)).sum(axis=2) > 20
    assert difference[round(POINTS[2, 1]) :].any()
    assert not difference[: round(POINTS[0, 1]) - 12].any()
    # the hand is painted in the face's own tone, not in a mask colour
    skin = face[NOSE[1], NOSE[0] - 15].astype(float)
    painted = out[difference].astype(float).mean(axis=0)
    assert np.abs(painted - skin).max() < 60


def test_fill_background_replaces_only_the_replicated_edges():
    face = bare_face()
    valid = np.zeros((CONTEXT_PX, CONTEXT_PX), np.uint8)
    valid[20:76, 20:76] = 255
    background = np.full_like(face, 10)
    background[..., 2] = 250
    out = augment.fill_background(face, valid, background, np.random.default_rng(0))
    np.testing.assert_array_equal(out[24:72, 24:72], face[24:72, 24:72])
    assert np.abs(out[:10].astype(int) - face[:10].astype(int)).mean() > 20
    full = np.full_like(valid, 255)
    np.testing.assert_array_equal(
        augment.fill_background(face, full, background, np.random.default_rng(0)), face
    )


def test_geometric_without_jitter_is_the_runtime_crop():
    context = np.random.default_rng(0).integers(0, 256, (CONTEXT_PX, CONTEXT_PX, 3), dtype=np.uint8)
    crop = augment.geometric(context, np.random.default_rng(0), jitter=False)
    np.testing.assert_array_equal(crop, context[PAD_PX:-PAD_PX, PAD_PX:-PAD_PX])


@pytest.mark.parametrize(
    "seed",
    [
        # different draws of blur, noise, JPEG and shrinking
        0,
        1,
        2,
    ],
)
def test_photometric_and_degrade_keep_shape_and_type(seed):
    rng = np.random.default_rng(seed)
    crop = augment.geometric(masked_face(), rng)
    out = augment.degrade(augment.photometric(crop, rng), rng)
    assert out.shape == (CROP_SIZE_PX, CROP_SIZE_PX, 3)
    assert out.dtype == np.uint8


def test_split_is_by_image_fixed_and_stratified(masks_dir):
    samples = list_samples(masks_dir)
    again = list_samples(masks_dir)
    assert [s.split for s in samples] == [s.split for s in again]
    assert {s.split for s in samples} == {"train", "val"}
    for index, label in enumerate(LABELS):
        of_class = [s for s in samples if s.label == index]
        assert all(s.path.parent.name == label.value for s in of_class)
        share = sum(s.split == "val" for s in of_class) / len(of_class)
        assert abs(share - VAL_SHARE) < 0.04
    # another seed gives another split
    assert [s.split for s in list_samples(masks_dir, seed=1)] != [s.split for s in samples]
