"""Training code that needs PyTorch (the ``train`` extra): skipped where it is not installed."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from station.vision.masks import LABELS, TRAINING_PRIOR, MaskClassifier, MaskLabel  # noqa: E402
from station.vision.training.augment import CONTEXT_PX  # noqa: E402
from station.vision.training.data import Sample, list_samples  # noqa: E402
from station.vision.training.net import MaskNet  # noqa: E402
from station.vision.training.train import (  # noqa: E402
    BARE,
    BARE_DRAW_SHARES,
    DRAWN_BELOW_NOSE,
    DRAWN_OVER_NOSE,
    PLAIN,
    Crops,
    TrainConfig,
    export,
    hard_variant_figures,
    make_training_crop,
    predict_torch,
    val_crops,
)


def test_cv2_dnn_runs_the_export_like_pytorch(tmp_path):
    torch.manual_seed(0)
    net = MaskNet()
    for module in net.modules():  # BatchNorm statistics a trained network could have
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 1.5)
            module.weight.data.uniform_(0.5, 1.5)
    path = tmp_path / "net.onnx"
    export(net, path)
    crops = np.random.default_rng(0).integers(0, 256, (5, 64, 64, 3), dtype=np.uint8)
    expected = predict_torch(net, crops)
    got = MaskClassifier(path, mirror=False, prior=None).probabilities(list(crops))
    np.testing.assert_allclose(got, expected, atol=1e-4)
    assert expected.std() > 1e-3  # the check compares something, not three equal thirds


def fake_crops():
    rng = np.random.default_rng(0)
    samples = [
        Sample(path=None, label=LABELS.index(MaskLabel.WITHOUT_MASK), source="fmd", split="train"),
        Sample(path=None, label=LABELS.index(MaskLabel.INCORRECT), source="mfn", split="train"),
    ]
    crops = rng.integers(60, 200, (2, CONTEXT_PX, CONTEXT_PX, 3), dtype=np.uint8)
    valid = np.full((2, CONTEXT_PX, CONTEXT_PX), 255, np.uint8)
    return Crops(samples, crops, valid, np.array([True, True]), crops.copy(), valid.copy())


@pytest.mark.parametrize(
    ("index", "kind", "label"),
    [
        # a bare face stays bare, hand or not
        (0, BARE, MaskLabel.WITHOUT_MASK),
        # a mask drawn over its nose makes it masked
        (0, DRAWN_OVER_NOSE, MaskLabel.WITH_MASK),
        # a mask drawn below its nose makes it incorrect
        (0, DRAWN_BELOW_NOSE, MaskLabel.INCORRECT),
        # a real image keeps its folder's label
        (1, PLAIN, MaskLabel.INCORRECT),
    ],
)
def test_training_draw_labels(index, kind, label):
    data = fake_crops()
    for seed in range(5):
        crop, got = make_training_crop(data, index, kind, np.array([1]), np.random.default_rng(seed))
        assert LABELS[got] is label
        assert crop.shape == (64, 64, 3)


def test_the_training_prior_is_the_share_of_each_class_in_the_draws(masks_dir):
    repeats = TrainConfig(data_dir=masks_dir, yunet_path=masks_dir, output=masks_dir).repeats
    counts = np.zeros(len(LABELS))
    for sample in list_samples(masks_dir):
        if sample.split != "train":
            continue
        label = LABELS[sample.label]
        draws = repeats[label.value]
        if label is MaskLabel.WITHOUT_MASK:
            counts[sample.label] += draws * BARE_DRAW_SHARES[BARE]
            counts[LABELS.index(MaskLabel.WITH_MASK)] += draws * BARE_DRAW_SHARES[DRAWN_OVER_NOSE]
            counts[LABELS.index(MaskLabel.INCORRECT)] += draws * BARE_DRAW_SHARES[DRAWN_BELOW_NOSE]
        else:
            counts[sample.label] += draws
    np.testing.assert_allclose(counts / counts.sum(), TRAINING_PRIOR, atol=0.01)


@pytest.mark.parametrize(
    ("prior", "mirror"),
    [
        # the network alone, as training reports it
        (None, False),
        # as the station runs it
        ((0.75, 0.18, 0.07), True),
    ],
)
def test_hard_variants_are_measured_for_the_classifier_given(prior, mirror):
    data = fake_crops()  # one bare face, one mask below the nose
    indices = np.arange(2)
    figures = hard_variant_figures(
        MaskClassifier(prior=prior, mirror=mirror), data, indices, val_crops(data, indices)
    )
    # bare-face variants are made from the bare face, the recoloured incorrect one from the other
    assert figures["bare_hand_over_face"]["n"] == 1
    assert figures["bare_mask_drawn_below_nose"]["n"] == 1
    assert figures["incorrect_recoloured"]["n"] == 1
    assert figures["with_mask_recoloured"]["n"] == 0
    assert figures["small_crop_24px"]["n"] == figures["small_crop_32px"]["n"] == 2
