"""Mask classifier: is a face masked properly, bare, or wearing its mask wrong (below the nose)?

The network is the project's own (``station/vision/training``), exported to ONNX and run by ``cv2.dnn``
alone. It reads the aligned crop of ``station.vision.align`` and outputs class probabilities.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import cv2
import numpy as np

from station.vision.align import CROP_SIZE_PX, align_face, tight_crop_landmarks
from station.vision.faces import Face, FaceDetector

logger = logging.getLogger(__name__)

#: The committed classifier, next to this module.
DEFAULT_MODEL_PATH = Path(__file__).with_name("mask_classifier.onnx")


class MaskLabel(StrEnum):
    """What a face wears. The value order is the network's output order."""

    WITH_MASK = "with_mask"
    WITHOUT_MASK = "without_mask"
    INCORRECT = "incorrect"


#: Network output order.
LABELS: tuple[MaskLabel, ...] = tuple(MaskLabel)

#: Share of each class (``LABELS`` order) among the crops the network was trained on: every epoch draws each
#: ``with_mask`` image 1.5 times, each ``incorrect`` image twice, each bare face three times, and a bare-face
#: draw gets a mask drawn over the nose (17 %) or below it (28 %). See ``training/train.py``.
TRAINING_PRIOR: tuple[float, ...] = (0.48, 0.26, 0.26)

#: The smallest share a prior may give a class, beside its largest share.
MIN_PRIOR_SHARE = 1e-6

#: A crop whose most probable class (after the prior) scores under this is looked at again, mirrored. On the
#: validation crops, 90 % score above it, and for none of those did the second look change the label.
MIRROR_BELOW = 0.8

#: Expected share of each class among faces at a door under a mask rule, and in crowd and street photos of
#: mask-wearing times (the public crowd photo sets count about 79 % masked, 18 % bare, 3 % below the nose):
#: most wear a mask properly, a mask below the nose is the rarest.
DOOR_PRIOR: tuple[float, ...] = (0.75, 0.18, 0.07)


@dataclass(frozen=True)
class MaskVerdict:
    """The classifier's answer for one face.

    Attributes:
        label: The chosen class.
        score: Probability of ``label``.
        probabilities: Probability of every class, in ``LABELS`` order.
    """

    label: MaskLabel
    score: float
    probabilities: tuple[float, ...]


@dataclass(frozen=True)
class MaskedFace:
    """A face found in an image, with its verdict."""

    face: Face
    verdict: MaskVerdict


class MaskClassifier:
    """Runs the mask classifier with ``cv2.dnn``.

    The network learnt from crops in which about a quarter of the faces were bare and a quarter wore their
    mask below the nose (``TRAINING_PRIOR``); at a door, and in crowd photos, most faces wear a mask properly.
    Its probabilities are carried over to the expected shares of the faces met (``prior``) by Bayes' rule:
    each is multiplied by ``prior / TRAINING_PRIOR`` and the row normalised again.

    Args:
        model_path: ONNX file (default: the committed ``mask_classifier.onnx``).
        mirror: Look again at the mirror image of every crop the network is unsure of (its most probable
            class, after the prior, under ``mirror_below``) and average the two looks (the network was
            trained on both; the average is steadier on small and blurred faces).
        mirror_below: See ``mirror``; above 1, every crop is looked at twice.
        prior: Expected share of each class among the faces met, in ``LABELS`` order (any positive
            numbers; they are normalised). ``None`` keeps the network's own probabilities.

    Raises:
        ValueError: When ``prior`` does not hold one positive, finite number per class (see
            ``prior_weights``).
    """

    def __init__(
        self,
        model_path: Path | str = DEFAULT_MODEL_PATH,
        *,
        mirror: bool = True,
        mirror_below: float = MIRROR_BELOW,
        prior: Sequence[float] | None = DOOR_PRIOR,
    ):
        self.model_path = Path(model_path)
        self.mirror = mirror
        self.mirror_below = mirror_below
        self.prior = None if prior is None else tuple(float(p) for p in prior)
        self._weights = None if self.prior is None else prior_weights(self.prior)
        self._net = cv2.dnn.readNetFromONNX(str(self.model_path))

    def probabilities(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """Return class probabilities for aligned crops.

        Args:
            crops: BGR ``uint8`` crops of ``CROP_SIZE_PX`` squared (others are resized).

        Returns:
            An (N, 3) float array, rows in ``LABELS`` order.
        """
        if not crops:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        images = [np.ascontiguousarray(crop) for crop in crops]
        rows = self._forward(images)
        if self.mirror:
            unsure = np.flatnonzero(self._with_prior(rows).max(axis=1) < self.mirror_below)
            if len(unsure):
                mirrored = self._forward([cv2.flip(images[index], 1) for index in unsure])
                rows[unsure] = (rows[unsure] + mirrored) / 2
        return self._with_prior(rows)

    def _forward(self, images: list[np.ndarray]) -> np.ndarray:
        """The network's own probabilities, one row per image."""
        blob = cv2.dnn.blobFromImages(
            images,
            scalefactor=1.0 / 255.0,
            size=(CROP_SIZE_PX, CROP_SIZE_PX),
            swapRB=False,
            crop=False,
        )
        self._net.setInput(blob)
        return np.array(self._net.forward(), dtype=np.float32).reshape(len(images), len(LABELS))

    def _with_prior(self, rows: np.ndarray) -> np.ndarray:
        if self._weights is None:
            return rows
        weighted = rows * self._weights
        return weighted / weighted.sum(axis=1, keepdims=True)

    def classify_crops(self, crops: Sequence[np.ndarray]) -> list[MaskVerdict]:
        """Classify aligned face crops.

        Args:
            crops: BGR aligned crops (see ``station.vision.align.align_face``).

        Returns:
            One verdict per crop.
        """
        return [verdict_from_probabilities(row) for row in self.probabilities(crops)]

    def classify_faces(self, image: np.ndarray, faces: Sequence[Face]) -> list[MaskVerdict]:
        """Classify faces found in an image, in one batch.

        Args:
            image: BGR image.
            faces: Faces found in it.

        Returns:
            One verdict per face.
        """
        return self.classify_crops([align_face(image, face.landmarks_array()) for face in faces])


def prior_weights(prior: Sequence[float]) -> np.ndarray:
    """Factors that carry the network's probabilities from ``TRAINING_PRIOR`` over to ``prior``.

    Args:
        prior: Expected share of each class, in ``LABELS`` order (normalised here).

    Returns:
        A float32 array of ``len(LABELS)`` factors.

    Raises:
        ValueError: When ``prior`` does not hold one positive, finite number per class, or a share is under
            ``MIN_PRIOR_SHARE`` of the largest (that class could never be told).
    """
    values = np.asarray(prior, dtype=np.float64).reshape(-1)
    if not (
        values.shape == (len(LABELS),)
        and np.all(np.isfinite(values))
        and np.all(values > 0)
        and np.all(values >= MIN_PRIOR_SHARE * values.max())
    ):
        raise ValueError(
            f"a prior needs one positive number per class ({', '.join(LABELS)}), none under a millionth "
            f"of the largest; not {list(prior)!r}"
        )
    shares = values / values.max()  # no overflow in the sum, whatever the scale
    return (shares / shares.sum() / np.asarray(TRAINING_PRIOR)).astype(np.float32)


def parse_prior(text: str) -> tuple[float, ...] | None:
    """Read a prior as written on a command line: ``none``, or three comma-separated shares.

    Args:
        text: ``none`` (the network's own probabilities) or shares in ``LABELS`` order, such as
            ``0.75,0.18,0.07``.

    Returns:
        The shares, or ``None``.

    Raises:
        ValueError: When the text is neither (see ``prior_weights``).
    """
    if text.strip().lower() == "none":
        return None
    try:
        prior = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise ValueError(
            f"a prior is 'none' or one share per class ({', '.join(LABELS)}), not {text!r}"
        ) from None
    prior_weights(prior)
    return prior


def verdict_from_probabilities(probabilities: np.ndarray) -> MaskVerdict:
    """Turn a row of class probabilities into a verdict (the most probable class).

    Args:
        probabilities: Probabilities in ``LABELS`` order.

    Returns:
        The verdict.
    """
    row = np.asarray(probabilities, dtype=np.float64).reshape(len(LABELS))
    best = int(np.argmax(row))
    return MaskVerdict(label=LABELS[best], score=float(row[best]), probabilities=tuple(float(p) for p in row))


def confusion_matrix(truth: Sequence[MaskLabel], predicted: Sequence[MaskLabel]) -> np.ndarray:
    """Count (true class, predicted class) pairs.

    Args:
        truth: True labels.
        predicted: Predicted labels, same length.

    Returns:
        A (3, 3) int array: rows true class, columns predicted class, both in ``LABELS`` order.
    """
    matrix = np.zeros((len(LABELS), len(LABELS)), dtype=np.int64)
    for true_label, guess in zip(truth, predicted, strict=True):
        matrix[LABELS.index(MaskLabel(true_label)), LABELS.index(MaskLabel(guess))] += 1
    return matrix


def crop_landmarks(detector: FaceDetector, crop: np.ndarray) -> np.ndarray:
    """Landmarks of the face a face crop shows: YuNet's, else those of a typical tight crop.

    Training and ``gerbang masks classify`` both use this, so both align crops the same way.

    Args:
        detector: Face detector.
        crop: BGR image of one face.

    Returns:
        (5, 2) landmarks in crop pixels.
    """
    face = detector.find_in_crop(crop)
    if face is not None:
        return face.landmarks_array()
    logger.debug("no face found in a %sx%s crop: assuming a tight crop", crop.shape[1], crop.shape[0])
    return tight_crop_landmarks(crop.shape[1], crop.shape[0])


class MaskDetector:
    """Finds every face in an image and tells what it wears.

    Args:
        detector: Face detector.
        classifier: Mask classifier.
    """

    def __init__(self, detector: FaceDetector, classifier: MaskClassifier):
        self.detector = detector
        self.classifier = classifier

    def detect(self, image: np.ndarray) -> list[MaskedFace]:
        """Detect and classify every face.

        Args:
            image: BGR image.

        Returns:
            One entry per face, highest detector score first.
        """
        faces = self.detector.detect(image)
        verdicts = self.classifier.classify_faces(image, faces)
        return [MaskedFace(face, verdict) for face, verdict in zip(faces, verdicts, strict=True)]

    def classify_crop(self, crop: np.ndarray) -> MaskVerdict:
        """Classify an image that shows one face (a face crop).

        Args:
            crop: BGR face crop.

        Returns:
            The verdict.
        """
        aligned = align_face(crop, crop_landmarks(self.detector, crop))
        return self.classifier.classify_crops([aligned])[0]
