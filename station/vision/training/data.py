"""The training images: listed, split by image with a fixed seed, and aligned once into context crops."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from station.vision.align import align_face, tight_crop_landmarks
from station.vision.faces import FaceDetector
from station.vision.masks import LABELS
from station.vision.training.augment import PAD_PX

logger = logging.getLogger(__name__)

#: Share of every (class, source) group kept for validation.
VAL_SHARE = 0.15


@dataclass(frozen=True)
class Sample:
    """One training image.

    Attributes:
        path: Image file.
        label: Index into ``LABELS``.
        source: File-name prefix (``fmd``, ``rwmfd``, ``mfn``).
        split: ``train`` or ``val``.
    """

    path: Path
    label: int
    source: str
    split: str


def _val_draw(name: str, seed: int) -> float:
    """A number in [0, 1) fixed by the file name and the seed: the split does not depend on listing order."""
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def list_samples(root: Path, seed: int = 2026) -> list[Sample]:
    """List the data set's images with their class, source and split.

    Args:
        root: Folder with one sub-folder per class.
        seed: Split seed.

    Returns:
        Samples sorted by path.
    """
    samples = []
    for index, label in enumerate(LABELS):
        for path in sorted((root / label.value).glob("*.jpg")):
            source = path.name.split("_", 1)[0]
            split = "val" if _val_draw(path.name, seed) < VAL_SHARE else "train"
            samples.append(Sample(path=path, label=index, source=source, split=split))
    return samples


def context_crops(samples: list[Sample], detector: FaceDetector) -> tuple[np.ndarray, np.ndarray]:
    """Align every image into a context crop, as ``gerbang masks classify`` aligns a face crop.

    Args:
        samples: The images.
        detector: Face detector.

    Returns:
        ``(crops, found, valid)``: (N, CONTEXT_PX, CONTEXT_PX, 3) uint8 crops; whether YuNet found the
        face (otherwise the tight-crop landmarks were used); and (N, CONTEXT_PX, CONTEXT_PX) uint8 masks of
        the pixels that come from inside the photo (255) rather than from its replicated edges (0).
    """
    from station.vision.align import CROP_SIZE_PX

    crops, found, valid = [], [], []
    for number, sample in enumerate(samples):
        image = cv2.imread(str(sample.path), cv2.IMREAD_COLOR)
        face = detector.find_in_crop(image)
        if face is not None:
            landmarks = face.landmarks_array()
        else:
            landmarks = tight_crop_landmarks(image.shape[1], image.shape[0])
        crops.append(align_face(image, landmarks, CROP_SIZE_PX, PAD_PX))
        found.append(face is not None)
        valid.append(valid_region(image.shape, landmarks))
        if number % 1000 == 0:
            logger.info("aligned %s/%s images", number, len(samples))
    return np.stack(crops), np.array(found), np.stack(valid)


def valid_region(shape: tuple[int, ...], landmarks: np.ndarray) -> np.ndarray:
    """Mask of the context-crop pixels that lie inside the source photo.

    Args:
        shape: The photo's shape.
        landmarks: (5, 2) landmarks in photo pixels.

    Returns:
        (CONTEXT_PX, CONTEXT_PX) uint8 mask, 255 inside.
    """
    from station.vision.align import CROP_SIZE_PX, similarity_matrix, template_px

    matrix = similarity_matrix(landmarks, template_px(CROP_SIZE_PX, PAD_PX))
    ones = np.full(shape[:2], 255, np.uint8)
    out_px = CROP_SIZE_PX + 2 * PAD_PX
    return cv2.warpAffine(ones, matrix, (out_px, out_px), flags=cv2.INTER_LINEAR, borderValue=0)


def fallback_crops(samples: list[Sample]) -> np.ndarray:
    """Align every image with the tight-crop landmarks, as if YuNet had found no face.

    Args:
        samples: The images.

    Returns:
        ``(crops, valid)`` as for ``context_crops``.
    """
    from station.vision.align import CROP_SIZE_PX

    crops, valid = [], []
    for sample in samples:
        image = cv2.imread(str(sample.path), cv2.IMREAD_COLOR)
        landmarks = tight_crop_landmarks(image.shape[1], image.shape[0])
        crops.append(align_face(image, landmarks, CROP_SIZE_PX, PAD_PX))
        valid.append(valid_region(image.shape, landmarks))
    return np.stack(crops), np.stack(valid)
