"""``gerbang masks``: find faces and tell whether they wear a mask properly."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import click
import cv2
import numpy as np

from station.vision.faces import DEFAULT_SCORE_THRESHOLD, FaceDetector
from station.vision.masks import (
    DEFAULT_MODEL_PATH,
    DOOR_PRIOR,
    LABELS,
    MaskClassifier,
    MaskDetector,
    confusion_matrix,
    parse_prior,
)
from station.vision.models import ModelError, ModelStore

logger = logging.getLogger(__name__)

#: File endings read as images.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})


def image_paths(paths: Iterable[Path]) -> Iterator[Path]:
    """Expand folders into the images they hold (recursively, sorted); files are kept as given.

    Args:
        paths: Files and folders.

    Yields:
        Image files.
    """
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
            )
        else:
            yield path


def _read(path: Path) -> np.ndarray | None:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        click.echo(f"error: cannot read {path} as an image", err=True)
    return image


def _mask_detector(
    model_dir: Path | None, classifier: Path, score_threshold: float, prior: tuple[float, ...] | None
) -> MaskDetector:
    try:
        detector = FaceDetector(store=ModelStore(model_dir), score_threshold=score_threshold)
    except ModelError as error:
        raise click.ClickException(str(error)) from error
    return MaskDetector(detector, MaskClassifier(classifier, prior=prior))


def _parse_prior(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[float, ...] | None:
    """``none``, or three comma-separated shares (with_mask, without_mask, incorrect)."""
    try:
        return parse_prior(value)
    except ValueError as error:
        raise click.BadParameter(
            f"{value!r}: give three positive shares for {', '.join(LABELS)} (such as "
            f"{_DOOR_PRIOR_TEXT}), or 'none' for the network's own probabilities"
        ) from error


_paths_argument = click.argument(
    "paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
)
_model_dir_option = click.option(
    "--model-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder searched first for the YuNet model (then $GERBANG_MODEL_DIR, then the cache folder).",
)
_classifier_option = click.option(
    "--classifier",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=DEFAULT_MODEL_PATH,
    show_default=False,
    help="Mask classifier ONNX file (default: the one shipped with Gerbang).",
)


_DOOR_PRIOR_TEXT = ",".join(f"{share:g}" for share in DOOR_PRIOR)
_prior_option = click.option(
    "--prior",
    default="none",
    show_default=True,
    callback=_parse_prior,
    help="A site policy: expected shares of with_mask, without_mask and incorrect faces (such as "
    f"{_DOOR_PRIOR_TEXT}; it lets more bare faces pass as masked, see the model card), or 'none' for the "
    "network's own probabilities.",
)


@click.group("masks")
def masks() -> None:
    """Find faces and tell whether each wears a mask properly."""


@masks.command()
@_paths_argument
@click.option("--json", "as_json", is_flag=True, help="One JSON object per image, one per line.")
@click.option(
    "--score-threshold", type=float, default=DEFAULT_SCORE_THRESHOLD, show_default=True, help="Face score."
)
@_model_dir_option
@_classifier_option
@_prior_option
def detect(
    paths: tuple[Path, ...],
    as_json: bool,
    score_threshold: float,
    model_dir: Path | None,
    classifier: Path,
    prior: tuple[float, ...] | None,
) -> None:
    """Find every face in images (or folders of images) and classify its mask."""
    pipeline = _mask_detector(model_dir, classifier, score_threshold, prior)
    failed = False
    for path in image_paths(paths):
        image = _read(path)
        if image is None:
            failed = True
            continue
        started = time.perf_counter()
        found = pipeline.detect(image)
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        if as_json:
            faces = [
                {
                    "box": [round(v) for v in item.face.box],
                    "score": round(item.face.score, 4),
                    "label": item.verdict.label.value,
                    "label_score": round(item.verdict.score, 4),
                }
                for item in found
            ]
            click.echo(json.dumps({"image": str(path), "faces": faces, "ms": round(elapsed_ms, 2)}))
        else:
            click.echo(f"{path}: {len(found)} face(s) in {elapsed_ms:.1f} ms")
            for item in found:
                x1, y1, x2, y2 = (round(v) for v in item.face.box)
                click.echo(
                    f"  [{x1}, {y1}, {x2}, {y2}] face {item.face.score:.2f}: "
                    f"{item.verdict.label.value} {item.verdict.score:.2f}"
                )
    if failed:
        sys.exit(1)


@masks.command()
@_paths_argument
@click.option("--json", "as_json", is_flag=True, help="One JSON object per image, one per line.")
@_model_dir_option
@_classifier_option
@_prior_option
def classify(
    paths: tuple[Path, ...],
    as_json: bool,
    model_dir: Path | None,
    classifier: Path,
    prior: tuple[float, ...] | None,
) -> None:
    """Classify face crops: every image shows one face."""
    pipeline = _mask_detector(model_dir, classifier, DEFAULT_SCORE_THRESHOLD, prior)
    failed = False
    for path in image_paths(paths):
        image = _read(path)
        if image is None:
            failed = True
            continue
        verdict = pipeline.classify_crop(image)
        if as_json:
            click.echo(
                json.dumps(
                    {"image": str(path), "label": verdict.label.value, "score": round(verdict.score, 4)}
                )
            )
        else:
            click.echo(f"{path}: {verdict.label.value} {verdict.score:.2f}")
    if failed:
        sys.exit(1)


@masks.command("eval")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_model_dir_option
@_classifier_option
@_prior_option
def evaluate(folder: Path, model_dir: Path | None, classifier: Path, prior: tuple[float, ...] | None) -> None:
    """Classify face crops in FOLDER/<class>/ and print accuracy, precision, recall and confusion matrix."""
    pipeline = _mask_detector(model_dir, classifier, DEFAULT_SCORE_THRESHOLD, prior)
    truth, predicted = [], []
    for label in LABELS:
        for path in image_paths([folder / label.value] if (folder / label.value).is_dir() else []):
            image = _read(path)
            if image is None:
                continue
            truth.append(label)
            predicted.append(pipeline.classify_crop(image).label)
    if not truth:
        raise click.ClickException(f"no images in {folder}/{{{','.join(label.value for label in LABELS)}}}/")
    click.echo(format_report(confusion_matrix(truth, predicted)))


def format_report(matrix: np.ndarray) -> str:
    """Format accuracy, per-class precision and recall, and the confusion matrix.

    Args:
        matrix: Confusion matrix from ``confusion_matrix``.

    Returns:
        The report text.
    """
    total = int(matrix.sum())
    lines = [f"images: {total}", f"accuracy: {np.trace(matrix) / total:.4f}", ""]
    width = max(len(label.value) for label in LABELS) + 2
    lines.append(f"{'class':<{width}}{'precision':>10}{'recall':>10}{'n':>7}")
    for index, label in enumerate(LABELS):
        predicted_n, true_n = matrix[:, index].sum(), matrix[index].sum()
        precision = f"{matrix[index, index] / predicted_n:.4f}" if predicted_n else "-"
        recall = f"{matrix[index, index] / true_n:.4f}" if true_n else "-"
        lines.append(f"{label.value:<{width}}{precision:>10}{recall:>10}{true_n:>7}")
    lines += ["", "confusion matrix (rows: true, columns: predicted)"]
    lines.append(" " * width + "".join(f"{label.value:>{width}}" for label in LABELS))
    for index, label in enumerate(LABELS):
        lines.append(f"{label.value:<{width}}" + "".join(f"{int(v):>{width}}" for v in matrix[index]))
    return "\n".join(lines)
