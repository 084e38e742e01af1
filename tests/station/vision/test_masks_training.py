"""Training code that needs PyTorch (the ``train`` extra): skipped where it is not installed."""

from dataclasses import replace

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from station.vision.masks import (  # noqa: E402
    LABELS,
    NETWORK_OUTPUTS,
    NOT_FACE_INDEX,
    TRAINING_PRIOR,
    MaskClassifier,
    MaskLabel,
)
from station.vision.training.augment import CONTEXT_PX  # noqa: E402
from station.vision.training.data import Sample, list_samples  # noqa: E402
from station.vision.training.net import MaskNet  # noqa: E402
from station.vision.training.train import (  # noqa: E402
    BARE,
    BARE_DRAW_SHARES,
    DRAWN_BELOW_NOSE,
    DRAWN_OVER_NOSE,
    NEGATIVE,
    NEGATIVE_SHARE,
    PLAIN,
    Crops,
    TrainConfig,
    epoch_draws,
    export,
    hard_variant_figures,
    load_crops,
    load_negatives,
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


@pytest.mark.parametrize(
    ("width", "channels", "parameters"),
    [
        (1.0, [24, 32, 64, 128, 256], 159_076),  # the previous model
        (1.5, [32, 48, 96, 192, 384], 347_892),  # the committed model (TrainConfig's default)
    ],
)
def test_the_width_scales_every_layer(width, channels, parameters):
    net = MaskNet(NETWORK_OUTPUTS, width=width)
    widths = sorted({m.out_channels for m in net.modules() if isinstance(m, torch.nn.Conv2d)})
    assert widths == channels
    assert sum(p.numel() for p in net.parameters()) == parameters
    assert net(torch.zeros(2, 3, 64, 64)).shape == (2, NETWORK_OUTPUTS)


def test_training_builds_the_committed_width():
    from pathlib import Path

    assert TrainConfig(Path("d"), Path("y"), Path("o")).width == 1.5


def test_cv2_dnn_runs_a_four_output_export_like_pytorch(tmp_path):
    torch.manual_seed(1)
    net = MaskNet(NETWORK_OUTPUTS)
    path = tmp_path / "net.onnx"
    export(net.eval(), path)
    crops = np.random.default_rng(1).integers(0, 256, (3, 64, 64, 3), dtype=np.uint8)
    expected = predict_torch(net, crops)
    classifier = MaskClassifier(path, mirror=False)
    np.testing.assert_allclose(classifier.network_outputs(list(crops)), expected, atol=1e-4)
    probabilities, not_face = classifier.looks(list(crops))
    # the mask classes given a face: the first three outputs, normalised; not_face is the fourth
    masks = expected[:, :NOT_FACE_INDEX]
    np.testing.assert_allclose(probabilities, masks / masks.sum(axis=1, keepdims=True), atol=1e-4)
    np.testing.assert_allclose(not_face, expected[:, NOT_FACE_INDEX], atol=1e-4)


def split_of(config):
    return [(sample.path.name, sample.split) for sample in load_crops(config).samples]


def test_the_split_depends_on_split_seed_not_on_the_training_seed(tmp_path):
    # empty files: listing and splitting read only names, and a cache that matches them skips the aligning
    for label in LABELS:
        (tmp_path / label.value).mkdir()
        for number in range(40):
            (tmp_path / label.value / f"fmd_{number:03}.jpg").touch()
    paths = np.array([f"{label.value}/fmd_{number:03}.jpg" for label in LABELS for number in range(40)])
    cache = tmp_path / "crops.npz"
    empty = np.zeros(len(paths))
    np.savez(cache, paths=paths, crops=empty, valid=empty, found=empty, fallback=empty, fallback_valid=empty)
    default = TrainConfig(data_dir=tmp_path, yunet_path=None, output=None, cache=cache)
    assert default.seed == default.split_seed == 2026  # the committed model's split and training
    split = split_of(default)
    assert {kind for _, kind in split} == {"train", "val"}
    assert split == [(s.path.name, s.split) for s in list_samples(tmp_path, 2026)]
    # another training seed keeps every image on its side
    assert split_of(replace(default, seed=2027)) == split
    # another split seed moves images
    assert split_of(replace(default, split_seed=2027)) != split


@pytest.mark.parametrize(
    ("argv", "seed"),
    [
        # the committed model's seed by default
        ([], 2026),
        # --seed changes the training seed only
        (["--seed", "2027"], 2027),
    ],
)
def test_the_seed_flag_sets_the_training_seed_only(argv, seed):
    from station.vision.training.__main__ import parse_config

    config = parse_config(argv)
    assert (config.seed, config.split_seed) == (seed, 2026)


def fake_crops():
    rng = np.random.default_rng(0)
    samples = [
        Sample(path=None, label=LABELS.index(MaskLabel.WITHOUT_MASK), source="fmd", split="train"),
        Sample(path=None, label=LABELS.index(MaskLabel.INCORRECT), source="mfn", split="train"),
    ]
    crops = rng.integers(60, 200, (2, CONTEXT_PX, CONTEXT_PX, 3), dtype=np.uint8)
    valid = np.full((2, CONTEXT_PX, CONTEXT_PX), 255, np.uint8)
    negatives = rng.integers(0, 256, (3, CONTEXT_PX, CONTEXT_PX, 3), dtype=np.uint8)
    return Crops(samples, crops, valid, np.array([True, True]), crops.copy(), valid.copy(), negatives)


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


def test_a_negative_draw_is_not_a_face():
    data = fake_crops()
    for seed in range(3):
        crop, got = make_training_crop(data, 2, NEGATIVE, np.array([1]), np.random.default_rng(seed))
        assert got == NOT_FACE_INDEX
        assert crop.shape == (64, 64, 3)


def test_negatives_are_drawn_beside_the_faces():
    data = fake_crops()
    config = TrainConfig(data_dir=None, yunet_path=None, output=None)
    draws = epoch_draws(data, np.arange(2), config, np.random.default_rng(0))
    faces = [draw for draw in draws if draw[1] != NEGATIVE]
    negatives = [index for index, kind in draws if kind == NEGATIVE]
    assert len(negatives) == round(NEGATIVE_SHARE * len(faces))
    assert all(0 <= index < len(data.negatives) for index in negatives)


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


@pytest.mark.parametrize(
    ("cached_seed", "reused"),
    [
        # mined with this run's seed: read back, nothing mined
        (2027, True),
        # mined with another seed: mined again (here the missing detector file says so)
        (2026, False),
    ],
)
def test_the_negatives_cache_is_used_only_for_its_own_seed(tmp_path, cached_seed, reused):
    cache = tmp_path / "negatives.npz"
    crops = np.zeros((2, CONTEXT_PX, CONTEXT_PX, 3), np.uint8)
    np.savez(cache, crops=crops, seed=np.int64(cached_seed))
    config = TrainConfig(
        data_dir=tmp_path,
        yunet_path=tmp_path / "no-yunet.onnx",
        output=tmp_path / "m.onnx",
        negatives_cache=cache,
        video_dir=tmp_path,
        seed=2027,
    )
    if reused:
        assert load_negatives(config).shape == crops.shape
    else:
        with pytest.raises(cv2.error, match="no-yunet"):
            load_negatives(config)
