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

from station.mask_rule import WITH_MASK_MIN, decide
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

#: The network's outputs: the three ``LABELS``, then ``not_face`` (what YuNet took for a face and is not: the
#: back or top of a head, a hand, a phone, cloth, background). A model of three outputs runs too.
NETWORK_OUTPUTS = len(LABELS) + 1
NOT_FACE_INDEX = len(LABELS)

#: A detection whose ``not_face`` probability is at least this is not a face: ``MaskDetector`` drops it.
NOT_FACE_MIN = 0.5
#: A detection YuNet scores at least this is kept whatever the classifier says: YuNet's false detections on
#: the shared clips score at most 0.83, while a close face in a dark mask can score 0.82 and look like none.
FACE_SURE_SCORE = 0.9
#: A crop whose ``not_face`` probability lies between these is looked at again, mirrored (as when unsure of
#: its mask): the average of two looks decides whether it is a face.
NOT_FACE_UNSURE = (0.2, 0.8)


#: Share of each class (``LABELS`` order) among the crops the network was trained on: every epoch draws each
#: ``with_mask`` image 1.5 times, each ``incorrect`` image twice, each bare face three times, and a bare-face
#: draw gets a mask drawn over the nose (17 %) or below it (28 %). See ``training/train.py``.
TRAINING_PRIOR: tuple[float, ...] = (0.48, 0.26, 0.26)

#: The smallest share a prior may give a class, beside its largest share.
MIN_PRIOR_SHARE = 1e-6

#: A crop whose most probable class (after the prior) scores under this is looked at again, mirrored. On the
#: validation crops, 90 % score above it, and for none of those did the second look change the label.
MIRROR_BELOW = 0.8

#: A site policy, off by default (``prior=None``): the expected share of each class among faces at a door
#: under a mask rule, and in crowd photos of mask-wearing times (about 79 % masked, 18 % bare, 3 % below the
#: nose). It buys accuracy on a mostly-masked crowd by calling more bare faces and masks below the nose
#: ``with_mask``: see the trade-off table in ``MASK_MODEL_CARD.md`` before setting it.
DOOR_PRIOR: tuple[float, ...] = (0.75, 0.18, 0.07)


@dataclass(frozen=True)
class MaskVerdict:
    """The classifier's answer for one face.

    Attributes:
        label: The chosen class (``mask_rule.decide``: leaning to safety).
        score: Probability of ``label``.
        probabilities: Probability of every class, in ``LABELS`` order (given a face).
        not_face: Probability that the crop shows no face at all (0 for a model without that output).
    """

    label: MaskLabel
    score: float
    probabilities: tuple[float, ...]
    not_face: float = 0.0


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
            numbers; they are normalised): a site policy. ``None`` (the default) keeps the network's own
            probabilities.
        with_mask_min: ``with_mask`` only when its probability is at least this (``mask_rule.decide``).

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
        prior: Sequence[float] | None = None,
        with_mask_min: float = WITH_MASK_MIN,
    ):
        self.model_path = Path(model_path)
        self.mirror = mirror
        self.mirror_below = mirror_below
        self.prior = None if prior is None else tuple(float(p) for p in prior)
        self._weights = None if self.prior is None else prior_weights(self.prior)
        self.with_mask_min = with_mask_min
        self._net = cv2.dnn.readNetFromONNX(str(self.model_path))

    def probabilities(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """Return class probabilities for aligned crops, given that each shows a face.

        Args:
            crops: BGR ``uint8`` crops of ``CROP_SIZE_PX`` squared (others are resized).

        Returns:
            An (N, 3) float array, rows in ``LABELS`` order.
        """
        return self.looks(crops)[0]

    def looks(self, crops: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Return class probabilities (given a face) and the probability of no face, for aligned crops.

        Args:
            crops: BGR ``uint8`` crops of ``CROP_SIZE_PX`` squared (others are resized).

        Returns:
            ``(probabilities, not_face)``: an (N, 3) array, rows in ``LABELS`` order (after the prior), and
            an (N,) array (zeros for a model without a ``not_face`` output).
        """
        if not crops:
            return np.zeros((0, len(LABELS)), dtype=np.float32), np.zeros(0, dtype=np.float32)
        images = [np.ascontiguousarray(crop) for crop in crops]
        rows = self.network_outputs(images)
        if self.mirror:
            unsure_mask = self._with_prior(rows).max(axis=1) < self.mirror_below
            if rows.shape[1] > NOT_FACE_INDEX:  # unsure whether it is a face at all
                no_face = rows[:, NOT_FACE_INDEX]
                unsure_mask |= (no_face > NOT_FACE_UNSURE[0]) & (no_face < NOT_FACE_UNSURE[1])
            unsure = np.flatnonzero(unsure_mask)
            if len(unsure):
                mirrored = self.network_outputs([cv2.flip(images[index], 1) for index in unsure])
                rows[unsure] = (rows[unsure] + mirrored) / 2
        not_face = rows[:, NOT_FACE_INDEX] if rows.shape[1] > NOT_FACE_INDEX else np.zeros(len(rows))
        return self._with_prior(rows), not_face.astype(np.float32)

    def network_outputs(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """The network's own probabilities, one row per image: ``LABELS``, then ``not_face`` if it has one.

        Args:
            images: BGR ``uint8`` aligned crops.

        Returns:
            An (N, 3) or (N, 4) float array.
        """
        blob = cv2.dnn.blobFromImages(
            images,
            scalefactor=1.0 / 255.0,
            size=(CROP_SIZE_PX, CROP_SIZE_PX),
            swapRB=False,
            crop=False,
        )
        self._net.setInput(blob)
        out = np.array(self._net.forward(), dtype=np.float32)
        return out.reshape(len(images), -1)

    def _with_prior(self, rows: np.ndarray) -> np.ndarray:
        """The mask classes' probabilities given a face (``not_face`` set aside), after the prior."""
        masks = rows[:, : len(LABELS)]
        if self._weights is not None:
            masks = masks * self._weights
        return masks / np.maximum(masks.sum(axis=1, keepdims=True), 1e-12)

    def classify_crops(self, crops: Sequence[np.ndarray]) -> list[MaskVerdict]:
        """Classify aligned face crops.

        Args:
            crops: BGR aligned crops (see ``station.vision.align.align_face``).

        Returns:
            One verdict per crop.
        """
        probabilities, not_face = self.looks(crops)
        return [
            verdict_from_probabilities(row, self.with_mask_min, float(no_face))
            for row, no_face in zip(probabilities, not_face, strict=True)
        ]

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


def verdict_from_probabilities(
    probabilities: np.ndarray, with_mask_min: float = WITH_MASK_MIN, not_face: float = 0.0
) -> MaskVerdict:
    """Turn a row of class probabilities into a verdict (``mask_rule.decide``: leaning to safety).

    Args:
        probabilities: Probabilities in ``LABELS`` order.
        with_mask_min: See ``mask_rule.decide``.
        not_face: Probability that the crop shows no face.

    Returns:
        The verdict.
    """
    row = np.asarray(probabilities, dtype=np.float64).reshape(len(LABELS))
    best = decide(row.tolist(), with_mask_min)
    return MaskVerdict(
        label=LABELS[best],
        score=float(row[best]),
        probabilities=tuple(float(p) for p in row),
        not_face=not_face,
    )


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
        not_face_min: Detections the classifier gives a ``not_face`` probability of at least this are
            dropped (above 1: none is), unless YuNet scores them at least ``face_sure_score``.
        face_sure_score: See ``not_face_min``.
    """

    def __init__(
        self,
        detector: FaceDetector,
        classifier: MaskClassifier,
        not_face_min: float = NOT_FACE_MIN,
        face_sure_score: float = FACE_SURE_SCORE,
    ):
        self.detector = detector
        self.classifier = classifier
        self.not_face_min = not_face_min
        self.face_sure_score = face_sure_score

    def detect(self, image: np.ndarray) -> list[MaskedFace]:
        """Detect and classify every face; what the classifier says is no face is dropped.

        Args:
            image: BGR image.

        Returns:
            One entry per face, highest detector score first.
        """
        faces = self.detector.detect(image)
        verdicts = self.classifier.classify_faces(image, faces)
        return [
            MaskedFace(face, verdict)
            for face, verdict in zip(faces, verdicts, strict=True)
            if verdict.not_face < self.not_face_min or face.score >= self.face_sure_score
        ]

    def classify_crop(self, crop: np.ndarray) -> MaskVerdict:
        """Classify an image that shows one face (a face crop).

        Args:
            crop: BGR face crop.

        Returns:
            The verdict.
        """
        aligned = align_face(crop, crop_landmarks(self.detector, crop))
        return self.classifier.classify_crops([aligned])[0]
