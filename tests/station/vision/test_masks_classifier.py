"""The committed mask classifier through cv2.dnn: its contract, and its answers on unseen photos."""

import dataclasses

import cv2
import numpy as np
import pytest
from mask_samples import paste_scene, shared_image

from station.vision.align import CROP_SIZE_PX, align_face
from station.vision.masks import (
    DEFAULT_MODEL_PATH,
    DOOR_PRIOR,
    LABELS,
    TRAINING_PRIOR,
    MaskClassifier,
    MaskLabel,
    MaskVerdict,
    confusion_matrix,
    parse_prior,
    prior_weights,
    verdict_from_probabilities,
)
from station.vision.training.data import list_samples


def test_labels_are_the_contract_values_in_network_order():
    assert [label.value for label in LABELS] == ["with_mask", "without_mask", "incorrect"]
    assert MaskLabel("incorrect") is MaskLabel.INCORRECT
    assert MaskLabel.WITH_MASK == "with_mask"


def test_committed_model_is_small():
    assert DEFAULT_MODEL_PATH.is_file()
    assert DEFAULT_MODEL_PATH.stat().st_size <= 5 * 1024 * 1024


@pytest.mark.parametrize(
    ("probabilities", "label", "score"),
    [
        # clear mask
        ([0.9, 0.05, 0.05], MaskLabel.WITH_MASK, 0.9),
        # bare face
        ([0.1, 0.8, 0.1], MaskLabel.WITHOUT_MASK, 0.8),
        # mask below the nose
        ([0.3, 0.2, 0.5], MaskLabel.INCORRECT, 0.5),
        # likeliest with_mask, but less likely than not: safety first, the likelier of the other two
        ([0.45, 0.2, 0.35], MaskLabel.INCORRECT, 0.35),
    ],
)
def test_verdict_leans_to_safety(probabilities, label, score):
    verdict = verdict_from_probabilities(np.array(probabilities))
    assert verdict.label is label
    assert verdict.score == pytest.approx(score)
    assert verdict.probabilities == pytest.approx(tuple(probabilities))
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.score = 1.0


@pytest.mark.parametrize(
    ("truth", "predicted", "expected"),
    [
        # all right: the diagonal
        (["with_mask", "incorrect"], ["with_mask", "incorrect"], [[1, 0, 0], [0, 0, 0], [0, 0, 1]]),
        # a bare face called masked: row without_mask, column with_mask
        (["without_mask"], ["with_mask"], [[0, 0, 0], [1, 0, 0], [0, 0, 0]]),
        # nothing
        ([], [], [[0, 0, 0], [0, 0, 0], [0, 0, 0]]),
    ],
)
def test_confusion_matrix(truth, predicted, expected):
    assert confusion_matrix(truth, predicted).tolist() == expected


def test_probabilities_for_a_batch_match_one_by_one(classifier):
    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 256, (CROP_SIZE_PX, CROP_SIZE_PX, 3), dtype=np.uint8) for _ in range(3)]
    batch = classifier.probabilities(crops)
    assert batch.shape == (3, 3)
    np.testing.assert_allclose(batch.sum(axis=1), 1.0, atol=1e-5)
    for crop, row in zip(crops, batch, strict=True):
        np.testing.assert_allclose(classifier.probabilities([crop])[0], row, atol=1e-5)
    assert classifier.probabilities([]).shape == (0, 3)


@pytest.mark.parametrize(
    ("settings", "symmetric"),
    [
        # every crop looked at twice: a crop and its mirror image get the same verdict, to the last digit
        ({"mirror": True, "mirror_below": 1.01}, True),
        # one look only (what training compares with PyTorch): the two differ
        ({"mirror": False}, False),
    ],
)
def test_mirror_averaging_makes_a_face_and_its_mirror_image_agree(settings, symmetric):
    classifier = MaskClassifier(**settings)
    rng = np.random.default_rng(1)
    crop = rng.integers(0, 256, (CROP_SIZE_PX, CROP_SIZE_PX, 3), dtype=np.uint8)
    mirrored = np.ascontiguousarray(crop[:, ::-1])
    rows = classifier.probabilities([crop, mirrored])
    assert np.allclose(rows[0], rows[1], atol=1e-6) is symmetric
    np.testing.assert_allclose(rows.sum(axis=1), 1.0, atol=1e-5)


def test_only_unsure_crops_are_looked_at_twice(masks_dir, mask_detector):
    from station.vision.masks import MIRROR_BELOW, crop_landmarks

    crops = []
    for label in LABELS:  # real faces, most of them clear cases, and noise, which the network is unsure of
        for path in sorted((masks_dir / label.value).glob("*.jpg"))[:8]:
            image = cv2.imread(str(path))
            crops.append(align_face(image, crop_landmarks(mask_detector.detector, image)))
    crops += random_crops(8)
    once = MaskClassifier(mirror=False).probabilities(crops)
    twice = MaskClassifier(mirror_below=1.01).probabilities(crops)
    default = MaskClassifier().probabilities(crops)
    sure = once.max(axis=1) >= MIRROR_BELOW
    assert 0 < sure.sum() < len(crops)  # both kinds are here
    np.testing.assert_allclose(default[sure], once[sure], atol=1e-6)
    np.testing.assert_allclose(default[~sure], twice[~sure], atol=1e-6)


def random_crops(count: int, seed: int = 2) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (CROP_SIZE_PX, CROP_SIZE_PX, 3), dtype=np.uint8) for _ in range(count)]


def test_sureness_is_judged_after_the_prior():
    from station.vision.masks import MIRROR_BELOW

    crops = random_crops(8)  # noise: the network itself is unsure of most
    assert (MaskClassifier(prior=None, mirror=False).probabilities(crops).max(axis=1) < MIRROR_BELOW).any()
    # a site where everybody is expected masked: after that prior every crop is sure, so one look each
    everybody_masked = (1.0, 1e-3, 1e-3)
    once = MaskClassifier(prior=everybody_masked, mirror=False).probabilities(crops)
    assert (once.max(axis=1) >= MIRROR_BELOW).all()
    np.testing.assert_allclose(MaskClassifier(prior=everybody_masked).probabilities(crops), once, atol=1e-6)


def test_the_default_is_the_networks_own_probabilities():
    crops = random_crops(6)
    np.testing.assert_allclose(
        MaskClassifier(mirror=False).probabilities(crops),
        MaskClassifier(prior=None, mirror=False).probabilities(crops),
    )


def test_the_door_prior_is_applied_by_bayes_rule():
    crops = random_crops(6)
    raw = MaskClassifier(prior=None, mirror=False).probabilities(crops)
    door = MaskClassifier(prior=DOOR_PRIOR, mirror=False).probabilities(crops)
    expected = raw * (np.array(DOOR_PRIOR) / sum(DOOR_PRIOR) / np.array(TRAINING_PRIOR))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(door, expected, atol=1e-5)
    np.testing.assert_allclose(door.sum(axis=1), 1.0, atol=1e-5)
    # more masks expected at the door: every row leans towards with_mask, away from incorrect
    assert np.all(door[:, 0] > raw[:, 0])
    assert np.all(door[:, 2] < raw[:, 2])


def test_the_training_prior_leaves_the_network_as_it_is():
    crops = random_crops(4)
    np.testing.assert_allclose(
        MaskClassifier(prior=TRAINING_PRIOR).probabilities(crops),
        MaskClassifier(prior=None).probabilities(crops),
        atol=1e-5,
    )


@pytest.mark.parametrize(
    ("prior", "factors"),
    [
        # the training shares themselves: no change
        (TRAINING_PRIOR, [1.0, 1.0, 1.0]),
        # any positive numbers, normalised: 2:1:1 is 0.5, 0.25, 0.25
        ((2, 1, 1), [0.5 / 0.48, 0.25 / 0.26, 0.25 / 0.26]),
        # however large: no overflow
        ((1e308, 1e308, 1e308), [1 / 3 / 0.48, 1 / 3 / 0.26, 1 / 3 / 0.26]),
    ],
)
def test_prior_weights(prior, factors):
    np.testing.assert_allclose(prior_weights(prior), factors, rtol=1e-6)


@pytest.mark.parametrize(
    "prior",
    [
        # a class left out
        (0.5, 0.5),
        # a class that can never happen: its faces would be called something else, always
        (0.9, 0.1, 0.0),
        # negative
        (0.9, 0.2, -0.1),
        # not a number
        (0.8, float("nan"), 0.1),
        # so small beside the others that the class could never be told
        (1.0, 1e-50, 1e-50),
    ],
)
def test_a_bad_prior_is_refused_with_the_classes_named(prior):
    with pytest.raises(ValueError, match="with_mask, without_mask, incorrect"):
        MaskClassifier(prior=prior)


@pytest.fixture(scope="module")
def val_crops(masks_dir, mask_detector):
    """The first 25 validation photos of every class (never trained on), classified as face crops."""
    samples = [s for s in list_samples(masks_dir) if s.split == "val"]
    out = {}
    for index, label in enumerate(LABELS):
        chosen = [s for s in samples if s.label == index][:25]
        out[label] = [mask_detector.classify_crop(cv2.imread(str(s.path))) for s in chosen]
    return out


@pytest.mark.parametrize(
    ("label", "min_recall"),
    [
        # masks worn properly
        (MaskLabel.WITH_MASK, 0.8),
        # bare faces: the station must catch them
        (MaskLabel.WITHOUT_MASK, 0.9),
        # masks below the nose
        (MaskLabel.INCORRECT, 0.8),
    ],
)
def test_validation_photos_are_classified_right(val_crops, label, min_recall):
    verdicts = val_crops[label]
    assert all(isinstance(v, MaskVerdict) for v in verdicts)
    recall = np.mean([v.label is label for v in verdicts])
    assert recall >= min_recall


def test_detect_labels_every_face_of_a_scene(mask_detector):
    names = ["with_mask/rwmfd_0", "without_mask/fmd_0", "incorrect/mfn_0"]
    found = mask_detector.detect(paste_scene([shared_image(n) for n in names], face_px=130))
    assert len(found) == 3
    by_x = sorted(found, key=lambda item: item.face.box[0])
    assert [item.verdict.label for item in by_x] == [
        MaskLabel.WITH_MASK,
        MaskLabel.WITHOUT_MASK,
        MaskLabel.INCORRECT,
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the network's own probabilities
        ("none", None),
        (" None ", None),
        # three shares
        ("0.75,0.18,0.07", (0.75, 0.18, 0.07)),
        ("2, 1, 1", (2.0, 1.0, 1.0)),
        # not numbers, or too few
        ("masked", ValueError),
        ("0.5,0.5", ValueError),
    ],
)
def test_parse_prior(text, expected):
    if expected is ValueError:
        with pytest.raises(ValueError, match="with_mask, without_mask, incorrect"):
            parse_prior(text)
    else:
        assert parse_prior(text) == expected
