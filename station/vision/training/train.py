"""Train the mask classifier, check it on the validation split, export it to ONNX and check the export."""

from __future__ import annotations

import json
import logging
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from station.mask_rule import decide
from station.vision.faces import FaceDetector
from station.vision.masks import LABELS, NETWORK_OUTPUTS, NOT_FACE_INDEX, MaskClassifier, MaskLabel
from station.vision.training import augment, negatives
from station.vision.training.data import Sample, context_crops, fallback_crops, list_samples
from station.vision.training.net import Exported, MaskNet

logger = logging.getLogger(__name__)

WITH, WITHOUT, INCORRECT = (LABELS.index(label) for label in MaskLabel)
NOT_FACE = NOT_FACE_INDEX

#: What a training draw does to its image.
PLAIN, BARE, DRAWN_OVER_NOSE, DRAWN_BELOW_NOSE = "plain", "bare", "drawn_over_nose", "drawn_below_nose"
#: A draw of a hard negative (``negatives.mine``): its index is into the negatives, its label ``not_face``.
NEGATIVE = "not_face"
#: Negative draws per epoch, as a share of the face draws.
NEGATIVE_SHARE = 0.2
#: What a bare-face draw becomes: bare (a hand over it in a quarter of them), a mask drawn over the nose, or
#: one drawn below it. With ``TrainConfig.repeats`` this fixes each class's share of the crops trained on
#: (``masks.TRAINING_PRIOR``, which the station's prior correction starts from).
BARE_DRAW_SHARES = {BARE: 0.55, DRAWN_OVER_NOSE: 0.17, DRAWN_BELOW_NOSE: 0.28}


@dataclass(frozen=True)
class TrainConfig:
    """Training settings (the committed model used the defaults).

    Attributes:
        data_dir: Folder with one sub-folder of images per class.
        yunet_path: YuNet face detector model.
        output: ONNX file to write.
        cache: Context crops of the data set, aligned once.
        negatives_cache: Mined hard negatives.
        video_dir: Videos to mine the negatives from (default: ``video`` beside ``data_dir``).
        metrics: Validation figures to write.
        epochs: Training epochs.
        batch_size: Crops per optimiser step.
        learning_rate: Peak learning rate of the one-cycle schedule.
        seed: Training randomness: weights, draws, augmentation, batch order and negatives mining.
            It does not change the split.
        split_seed: The train/validation split of the images (``data.list_samples``) and nothing else.
        threads: PyTorch threads.
        width: Channel multiplier of the network.
        repeats: Draws per epoch of each image kind.
    """

    data_dir: Path
    yunet_path: Path
    output: Path
    cache: Path = Path("build/mask_crops.npz")
    negatives_cache: Path = Path("build/mask_negatives.npz")
    video_dir: Path | None = None
    metrics: Path = Path("build/mask_metrics.json")
    epochs: int = 18
    batch_size: int = 128
    learning_rate: float = 3e-3
    seed: int = 2026
    split_seed: int = 2026
    threads: int = 1
    width: float = 1.5  # the channel multiplier (1.5: 32 to 384 channels)
    # Draws per epoch of each image kind: bare faces are few and feed three kinds of draws.
    repeats: dict[str, float] = field(
        default_factory=lambda: {"with_mask": 1.5, "without_mask": 3.0, "incorrect": 2.0}
    )


@dataclass
class Crops:
    """Context crops of the whole data set, aligned once."""

    samples: list[Sample]
    crops: np.ndarray
    valid: np.ndarray
    found: np.ndarray
    fallback: np.ndarray
    fallback_valid: np.ndarray
    negatives: np.ndarray | None = None


def load_crops(config: TrainConfig) -> Crops:
    """Align the data set's images into context crops, or read them from the cache.

    Args:
        config: Settings.

    Returns:
        The crops.
    """
    samples = list_samples(config.data_dir, config.split_seed)
    paths = np.array([str(sample.path.relative_to(config.data_dir)) for sample in samples])
    if config.cache.is_file():
        cached = np.load(config.cache)
        if cached["paths"].shape == paths.shape and (cached["paths"] == paths).all():
            logger.info("context crops read from %s", config.cache)
            return Crops(
                samples, *(cached[key] for key in ("crops", "valid", "found", "fallback", "fallback_valid"))
            )
    detector = FaceDetector(config.yunet_path)
    crops, found, valid = context_crops(samples, detector)
    fallback, fallback_valid = fallback_crops(samples)
    config.cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        config.cache,
        paths=paths,
        crops=crops,
        valid=valid,
        found=found,
        fallback=fallback,
        fallback_valid=fallback_valid,
    )
    return Crops(samples, crops, valid, found, fallback, fallback_valid)


class TrainSet(Dataset):
    """One epoch of augmented draws; every draw's randomness is fixed by (seed, epoch, position)."""

    def __init__(self, data: Crops, draws: list[tuple[int, str]], backgrounds: np.ndarray, seed: int):
        self.data = data
        self.draws = draws
        self.backgrounds = backgrounds
        self.seed = seed
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.draws)

    def __getitem__(self, position: int) -> tuple[torch.Tensor, int]:
        rng = np.random.default_rng([self.seed, self.epoch, position])
        index, kind = self.draws[position]
        image, label = make_training_crop(self.data, index, kind, self.backgrounds, rng)
        tensor = torch.from_numpy(image.transpose(2, 0, 1).astype(np.float32) / 255.0)
        return tensor, label


def make_training_crop(
    data: Crops, index: int, kind: str, backgrounds: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, int]:
    """Build one augmented training crop and its label.

    Args:
        data: All context crops.
        index: Which image.
        kind: ``PLAIN``, ``BARE``, ``DRAWN_OVER_NOSE`` or ``DRAWN_BELOW_NOSE``.
        backgrounds: Indices of images with real surroundings, to put tight crops on.
        rng: Random generator.

    Returns:
        ``(crop, label)``: BGR aligned crop and class index.
    """
    if kind == NEGATIVE:
        assert data.negatives is not None
        context = augment.photometric(data.negatives[index], rng)
        return augment.degrade(augment.geometric(context, rng), rng), NOT_FACE
    sample = data.samples[index]
    if rng.random() < 0.1:  # as if YuNet had missed the face in a crop
        context, valid = data.fallback[index], data.fallback_valid[index]
    else:
        context, valid = data.crops[index], data.valid[index]
    label = sample.label
    if kind == BARE and rng.random() < 0.25:
        context = augment.draw_hand(context, rng)
    elif kind == DRAWN_OVER_NOSE:
        context, label = augment.draw_mask(context, rng, over_nose=True), WITH
    elif kind == DRAWN_BELOW_NOSE:
        context, label = augment.draw_mask(context, rng, over_nose=False), INCORRECT
    elif label in (WITH, INCORRECT):
        recolour_p = 0.5 if (label == WITH and sample.source != "mfn") else 0.75
        if rng.random() < recolour_p:
            context = augment.recolour_mask(context, rng)
    if rng.random() < 0.75:
        context = augment.fill_background(context, valid, data.crops[rng.choice(backgrounds)], rng)
    context = augment.photometric(context, rng)
    crop = augment.geometric(context, rng)
    return augment.degrade(crop, rng), label


def epoch_draws(
    data: Crops, train_indices: np.ndarray, config: TrainConfig, rng: np.random.Generator
) -> list:
    """List one epoch's draws: every image ``repeats`` times, bare faces split over three kinds.

    Args:
        data: All context crops.
        train_indices: Images of the training split.
        config: Settings.
        rng: Random generator.

    Returns:
        ``(index, kind)`` pairs.
    """
    draws = []
    for index in train_indices:
        label = LABELS[data.samples[index].label]
        repeats = config.repeats[label.value]
        count = int(repeats) + (rng.random() < repeats - int(repeats))
        for _ in range(count):
            if label is MaskLabel.WITHOUT_MASK:
                kind = rng.choice(list(BARE_DRAW_SHARES), p=list(BARE_DRAW_SHARES.values()))
                draws.append((int(index), str(kind)))
            else:
                draws.append((int(index), PLAIN))
    if data.negatives is not None and len(data.negatives):
        count = round(NEGATIVE_SHARE * len(draws))
        draws += [(int(i), NEGATIVE) for i in rng.integers(0, len(data.negatives), count)]
    return draws


def val_crops(data: Crops, indices: np.ndarray) -> np.ndarray:
    """The plain aligned crops of some images, as the runtime makes them."""
    rng = np.random.default_rng(0)
    return np.stack([augment.geometric(data.crops[index], rng, jitter=False) for index in indices])


def predict_torch(net: nn.Module, crops: np.ndarray) -> np.ndarray:
    """Class probabilities from the PyTorch network for BGR crops."""
    net.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(crops), 256):
            batch = torch.from_numpy(
                crops[start : start + 256].transpose(0, 3, 1, 2).astype(np.float32) / 255.0
            )
            out.append(torch.softmax(net(batch), dim=1).numpy())
    return np.concatenate(out) if out else np.zeros((0, NETWORK_OUTPUTS), np.float32)


def _batches(loader: DataLoader) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    yield from loader


def train(config: TrainConfig) -> dict:
    """Train, export and check the mask classifier.

    Args:
        config: Settings.

    Returns:
        The validation metrics (also written to ``config.metrics``).
    """
    started = time.monotonic()
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    # OpenCV's thread pool does not survive the fork of a data-loader worker: keep it single-threaded.
    cv2.setNumThreads(1)
    data = load_crops(config)
    data.negatives = load_negatives(config)
    splits = np.array([sample.split for sample in data.samples])
    train_indices = np.where(splits == "train")[0]
    val_indices = np.where(splits == "val")[0]
    backgrounds = np.array([i for i in train_indices if data.samples[i].source != "fmd"])
    logger.info("%s training and %s validation images", len(train_indices), len(val_indices))

    rng = np.random.default_rng(config.seed)
    net = MaskNet(NETWORK_OUTPUTS, width=config.width)
    optimiser = torch.optim.AdamW(net.parameters(), lr=config.learning_rate, weight_decay=5e-4)
    draws = epoch_draws(data, train_indices, config, rng)
    steps_per_epoch = (len(draws) + config.batch_size - 1) // config.batch_size
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser,
        max_lr=config.learning_rate,
        total_steps=config.epochs * (steps_per_epoch + 2),
        pct_start=0.15,
    )
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)
    dataset = TrainSet(data, draws, backgrounds, config.seed)
    val_images = val_crops(data, val_indices)
    val_labels = np.array([data.samples[i].label for i in val_indices])
    for epoch in range(config.epochs):
        dataset.draws = epoch_draws(data, train_indices, config, rng)
        dataset.epoch = epoch
        loader = DataLoader(
            dataset,
            batch_size=config.batch_size,
            shuffle=True,
            num_workers=1,
            worker_init_fn=_worker_init,
            generator=torch.Generator().manual_seed(config.seed + epoch),
        )
        net.train()
        total, correct, loss_sum = 0, 0, 0.0
        for step, (images, labels) in enumerate(_batches(loader)):
            if step % 20 == 0:
                logger.debug("epoch %s step %s/%s", epoch + 1, step, steps_per_epoch)
            logits = net(images)
            loss = loss_fn(logits, labels)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += len(labels)
            correct += int((logits.argmax(1) == labels).sum())
            loss_sum += loss.item() * len(labels)
        val_guess = predict_torch(net, val_images)[:, : len(LABELS)].argmax(1)
        val_accuracy = float((val_guess == val_labels).mean())
        logger.info(
            "epoch %s/%s: loss %.3f, train accuracy %.3f, val accuracy %.3f (%.0f s)",
            epoch + 1,
            config.epochs,
            loss_sum / total,
            correct / total,
            val_accuracy,
            time.monotonic() - started,
        )
    export(net, config.output)
    metrics = evaluate(net, config.output, data, val_indices)
    metrics["train_seconds"] = round(time.monotonic() - started)
    metrics["train_images"] = len(train_indices)
    metrics["val_images"] = len(val_indices)
    config.metrics.parent.mkdir(parents=True, exist_ok=True)
    config.metrics.write_text(json.dumps(metrics, indent=1))
    return metrics


def load_negatives(config: TrainConfig) -> np.ndarray:
    """Mine the hard negatives (``negatives.mine``), or read them from the cache.

    Args:
        config: Settings.

    Returns:
        Context crops of negatives.
    """
    if config.negatives_cache.is_file():
        with np.load(config.negatives_cache) as cached:
            seed = int(cached["seed"]) if "seed" in cached else None
            if seed == config.seed:
                logger.info("negatives read from %s", config.negatives_cache)
                return cached["crops"]
        logger.info(
            "negatives in %s were mined with seed %s, not %s: mining again",
            config.negatives_cache,
            seed,
            config.seed,
        )
    video_dir = config.video_dir or config.data_dir.parent / "video"
    detector = FaceDetector(config.yunet_path)
    crops = negatives.mine(detector, video_dir, config.seed)
    config.negatives_cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(config.negatives_cache, crops=crops, seed=np.int64(config.seed))
    logger.info("%s negatives mined", len(crops))
    return crops


def _worker_init(_worker_id: int) -> None:
    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def export(net: MaskNet, path: Path) -> None:
    """Export the network, with its softmax, to ONNX (opset 17, any batch size).

    Args:
        net: Trained network.
        path: ONNX file to write.
    """
    model = Exported(net).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(
            model,
            torch.rand(1, 3, 64, 64),
            str(path),
            opset_version=17,
            input_names=["crops"],
            output_names=["probabilities"],
            dynamic_axes={"crops": {0: "batch"}, "probabilities": {0: "batch"}},
            dynamo=False,
        )
    logger.info("exported %s (%s bytes)", path, path.stat().st_size)


def confusion(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Confusion matrix: rows true class, columns predicted class, in ``LABELS`` order."""
    matrix = np.zeros((len(LABELS), len(LABELS)), dtype=int)
    for truth, guess in zip(labels, predicted, strict=True):
        matrix[truth, guess] += 1
    return matrix


def summarise(labels: np.ndarray, predicted: np.ndarray) -> dict:
    """Accuracy, per-class recall and precision, bare faces and masks below the nose caught, confusion.

    Args:
        labels: True class indices.
        predicted: Predicted class indices.

    Returns:
        The figures (a class's recall or precision only where it is defined).
    """
    matrix = confusion(labels, predicted)
    out: dict = {
        "n": len(labels),
        "accuracy": round(float((labels == predicted).mean()), 4) if len(labels) else None,
    }
    for index, label in enumerate(LABELS):
        if matrix[index].sum():
            out[f"recall_{label.value}"] = round(float(matrix[index, index] / matrix[index].sum()), 4)
        if matrix[:, index].sum():
            out[f"precision_{label.value}"] = round(float(matrix[index, index] / matrix[:, index].sum()), 4)
    if matrix[WITHOUT].sum():
        out["bare_caught"] = round(float(1 - matrix[WITHOUT, WITH] / matrix[WITHOUT].sum()), 4)
    if matrix[INCORRECT].sum():
        out["incorrect_caught"] = round(float(1 - matrix[INCORRECT, WITH] / matrix[INCORRECT].sum()), 4)
    out["confusion"] = matrix.tolist()
    return out


def evaluate(net: MaskNet, onnx_path: Path, data: Crops, val_indices: np.ndarray) -> dict:
    """Validation figures of the exported model through ``cv2.dnn``, and its agreement with PyTorch.

    Besides the plain validation crops, it measures synthetic hard variants of them, made with a seed the
    training never used: recoloured masks, hands over bare faces, masks drawn below the nose, small faces.

    Args:
        net: Trained network.
        onnx_path: Its export.
        data: All context crops.
        val_indices: Validation images.

    Returns:
        Metrics.
    """
    classifier = MaskClassifier(onnx_path, mirror=False, prior=None)  # compared with PyTorch crop for crop
    images = val_crops(data, val_indices)
    labels = np.array([data.samples[i].label for i in val_indices])
    sources = np.array([data.samples[i].source for i in val_indices])
    cv_outputs = classifier.network_outputs(list(images))
    torch_outputs = predict_torch(net, images)
    predicted = cv_outputs[:, : len(LABELS)].argmax(1)
    metrics: dict = {
        "cv2_vs_torch_max_abs_diff": float(np.abs(cv_outputs - torch_outputs).max()),
        "cv2_vs_torch_same_label": float((torch_outputs.argmax(1) == cv_outputs.argmax(1)).mean()),
        "val": summarise(labels, predicted),
        "val_faces_called_not_face": float((cv_outputs.argmax(1) == NOT_FACE).mean()),
        "val_by_source": {},
    }
    for label in LABELS:
        for source in sorted(set(sources)):
            chosen = (labels == LABELS.index(label)) & (sources == source)
            if chosen.any():
                metrics["val_by_source"][f"{label.value}/{source}"] = summarise(
                    labels[chosen], predicted[chosen]
                )
    metrics["hard_variants"] = hard_variant_figures(classifier, data, val_indices, images)
    return metrics


def decided(classifier: MaskClassifier, crops: list[np.ndarray], with_mask_min: float = 0.0) -> np.ndarray:
    """The classes ``mask_rule.decide`` gives the classifier's probabilities (0: the most probable class).

    Args:
        classifier: The classifier.
        crops: Aligned crops.
        with_mask_min: See ``mask_rule.decide``.

    Returns:
        Class indices.
    """
    return np.array([decide(row, with_mask_min) for row in classifier.probabilities(crops)], dtype=int)


def hard_variant_figures(
    classifier: MaskClassifier,
    data: Crops,
    val_indices: np.ndarray,
    images: np.ndarray,
    with_mask_min: float = 0.0,
) -> dict:
    """Figures on synthetic hard variants of the validation crops, made with a seed training never used.

    Recoloured masks, hands over bare faces, masks drawn below and over the nose, small faces.

    Args:
        classifier: The classifier, set as it is to be measured (prior, mirrored looks).
        data: All context crops.
        val_indices: Validation images.
        images: Their plain aligned crops (``val_crops``).
        with_mask_min: The decision's rule (``mask_rule.decide``; 0: the most probable class).

    Returns:
        A summary per variant.
    """
    labels = np.array([data.samples[i].label for i in val_indices])
    figures: dict = {}
    rng = np.random.default_rng(99_991)
    variants = {
        "incorrect_recoloured": (INCORRECT, lambda c: augment.recolour_mask(c, rng), INCORRECT),
        "with_mask_recoloured": (WITH, lambda c: augment.recolour_mask(c, rng), WITH),
        "bare_hand_over_face": (WITHOUT, lambda c: augment.draw_hand(c, rng), WITHOUT),
        "bare_mask_drawn_below_nose": (
            WITHOUT,
            lambda c: augment.draw_mask(c, rng, over_nose=False),
            INCORRECT,
        ),
        "bare_mask_drawn_over_nose": (WITHOUT, lambda c: augment.draw_mask(c, rng, over_nose=True), WITH),
    }
    for name, (source_label, change, truth) in variants.items():
        chosen = val_indices[labels == source_label]
        crops = [augment.geometric(change(data.crops[i]), rng, jitter=False) for i in chosen]
        guess = decided(classifier, crops, with_mask_min)
        figures[name] = summarise(np.full(len(guess), truth), guess)
    for small_px in (24, 32):  # the 64 px crop shrunk to this, then enlarged: faces of about 16 and 20 px
        crops = [
            cv2.resize(cv2.resize(image, (small_px, small_px), interpolation=cv2.INTER_AREA), (64, 64))
            for image in images
        ]
        guess = decided(classifier, crops, with_mask_min)
        figures[f"small_crop_{small_px}px"] = summarise(labels, guess)
    return figures
