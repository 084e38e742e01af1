"""Face detection with YuNet through ``cv2.FaceDetectorYN``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from station.vision.models import YUNET, ModelStore

logger = logging.getLogger(__name__)

#: YuNet's default score threshold; masked faces score lower than bare ones, so not higher than this.
DEFAULT_SCORE_THRESHOLD = 0.6
DEFAULT_NMS_THRESHOLD = 0.3
DEFAULT_MIN_LONG_SIDE_PX = 640


@dataclass(frozen=True)
class Face:
    """One face found in an image.

    Attributes:
        box: ``(x1, y1, x2, y2)`` in image pixels.
        score: Detector confidence in [0, 1].
        landmarks: Five ``(x, y)`` points: right eye, left eye, nose tip, right and left mouth corners
            (right and left as the person's; in the image, the first of each pair is on the left).
    """

    box: tuple[float, float, float, float]
    score: float
    landmarks: tuple[tuple[float, float], ...]

    @property
    def width_px(self) -> float:
        """Width of the box in pixels."""
        return self.box[2] - self.box[0]

    def landmarks_array(self) -> np.ndarray:
        """Return the landmarks as a (5, 2) float array."""
        return np.array(self.landmarks, dtype=np.float64)

    def shifted(self, dx: float, dy: float) -> Face:
        """Return the same face with every coordinate moved by ``(dx, dy)``."""
        x1, y1, x2, y2 = self.box
        return Face(
            box=(x1 + dx, y1 + dy, x2 + dx, y2 + dy),
            score=self.score,
            landmarks=tuple((x + dx, y + dy) for x, y in self.landmarks),
        )


def faces_from_yunet(rows: np.ndarray | None) -> list[Face]:
    """Convert YuNet's output rows (x, y, w, h, 10 landmark coordinates, score) into faces.

    Args:
        rows: The ``faces`` array of ``FaceDetectorYN.detect``, or ``None``.

    Returns:
        Faces, highest score first.
    """
    if rows is None:
        return []
    faces = []
    for row in np.asarray(rows, dtype=np.float64).reshape(-1, 15):
        x, y, w, h = row[:4]
        points = row[4:14].reshape(5, 2)
        faces.append(
            Face(
                box=(float(x), float(y), float(x + w), float(y + h)),
                score=float(row[14]),
                landmarks=tuple((float(px), float(py)) for px, py in points),
            )
        )
    return sorted(faces, key=lambda face: face.score, reverse=True)


def _scaled(face: Face, factor: float) -> Face:
    """Return ``face`` with its box and landmarks multiplied by ``factor``."""
    x1, y1, x2, y2 = face.box
    return Face(
        box=(x1 * factor, y1 * factor, x2 * factor, y2 * factor),
        score=face.score,
        landmarks=tuple((x * factor, y * factor) for x, y in face.landmarks),
    )


class FaceDetector:
    """YuNet face detector.

    Args:
        model_path: YuNet ONNX file (``None``: found or downloaded by ``store``).
        store: Model store used when ``model_path`` is ``None``.
        score_threshold: Minimum detector score.
        nms_threshold: IoU above which overlapping boxes are merged.
        min_long_side_px: Smaller images are enlarged to this long side (at most twice) before
            detection: YuNet finds faces of 30-40 px far more often at a larger scale. 0 disables.
    """

    def __init__(
        self,
        model_path: Path | str | None = None,
        *,
        store: ModelStore | None = None,
        score_threshold: float = DEFAULT_SCORE_THRESHOLD,
        nms_threshold: float = DEFAULT_NMS_THRESHOLD,
        min_long_side_px: int = DEFAULT_MIN_LONG_SIDE_PX,
    ):
        self.min_long_side_px = min_long_side_px
        if model_path is None:
            model_path = (store or ModelStore()).path(YUNET)
        self.model_path = Path(model_path)
        self._size: tuple[int, int] = (320, 320)
        self._detector = cv2.FaceDetectorYN.create(
            str(self.model_path), "", self._size, score_threshold, nms_threshold, 5000
        )

    def detect(self, image: np.ndarray, *, enlarge: bool = True) -> list[Face]:
        """Find the faces in a BGR image.

        Args:
            image: BGR ``uint8`` image.
            enlarge: Enlarge a small image first (see ``min_long_side_px``).

        Returns:
            Faces, highest score first.
        """
        height, width = image.shape[:2]
        scale = 1.0
        if enlarge and self.min_long_side_px and max(width, height) < self.min_long_side_px:
            scale = min(2.0, self.min_long_side_px / max(width, height))
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
            height, width = image.shape[:2]
        if (width, height) != self._size:
            self._size = (width, height)
            self._detector.setInputSize(self._size)
        _, rows = self._detector.detect(np.ascontiguousarray(image))
        faces = faces_from_yunet(rows)
        return faces if scale == 1.0 else [_scaled(face, 1.0 / scale) for face in faces]

    def find_in_crop(self, crop: np.ndarray) -> Face | None:
        """Find the face a face crop shows: the largest found as is, else on a padded copy.

        Tight crops (the face fills the image) often defeat the detector; a border of replicated pixels
        around the crop gives it the context it expects.

        Args:
            crop: BGR image of one face.

        Returns:
            The face, in crop coordinates, or ``None``.
        """
        faces = self.detect(crop, enlarge=False)  # as in training: crops are aligned at their own scale
        if not faces:
            pad = max(8, round(0.25 * max(crop.shape[:2])))
            padded = cv2.copyMakeBorder(crop, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
            faces = [face.shifted(-pad, -pad) for face in self.detect(padded, enlarge=False)]
        if not faces:
            return None
        return max(faces, key=lambda face: face.width_px)
