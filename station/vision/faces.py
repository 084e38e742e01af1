"""Face detection with YuNet through ``cv2.FaceDetectorYN``."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from station.vision.models import YUNET, ModelStore

logger = logging.getLogger(__name__)

#: Minimum face score. Masked faces score lower than bare ones in YuNet (its default is 0.6). 0.45 since the
#: mask classifier drops what is no face (``masks.MaskDetector``): on street scenes of training photos it
#: finds 0.5-1.2 points more faces than 0.5, and no more false detections of 32 px or more on the held-out
#: clips.
DEFAULT_SCORE_THRESHOLD = 0.45
DEFAULT_NMS_THRESHOLD = 0.3
DEFAULT_MIN_LONG_SIDE_PX = 576
#: Faces scoring from this up to the score threshold are looked at again, enlarged (see ``FaceDetector``).
DEFAULT_CANDIDATE_THRESHOLD = 0.1
#: At most this many such candidates per image, highest score first: bounds the time of the second look.
DEFAULT_MAX_CANDIDATES = 4
#: Candidates narrower than this are not looked at again: too small to matter, and mostly not faces.
DEFAULT_MIN_CANDIDATE_PX = 20
#: Minimum score of the face a face crop shows (``find_in_crop``): the committed classifier was trained on
#: crops aligned with the faces YuNet found at this score.
CROP_SCORE_THRESHOLD = 0.6
#: A candidate is looked at again with its box enlarged (or shrunk) to this width ...
VERIFY_FACE_PX = 96
#: ... in a square patch of this many box widths around it.
VERIFY_CONTEXT = 2.0
#: Boxes overlapping more than this (intersection over union) are the same face.
SAME_FACE_IOU = 0.3


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


def box_iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over union of two ``(x1, y1, x2, y2)`` boxes (0 when either is empty)."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(0.0, width) * max(0.0, height)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _covered(box: tuple[float, ...], by: tuple[float, ...]) -> bool:
    """Whether at least half of ``box`` lies inside ``by`` (a candidate on a face already found)."""
    width = min(box[2], by[2]) - max(box[0], by[0])
    height = min(box[3], by[3]) - max(box[1], by[1])
    area = (box[2] - box[0]) * (box[3] - box[1])
    return area > 0 and max(0.0, width) * max(0.0, height) >= 0.5 * area


@contextlib.contextmanager
def _quiet_opencv() -> Iterator[None]:
    """Show only OpenCV's errors inside the block (its log level is restored after)."""
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(level)


class FaceDetector:
    """YuNet face detector, with a second, enlarged look at the faces it is unsure of.

    YuNet scores small and masked faces low: a masked face of 40 px often scores 0.1-0.5, and the same face
    enlarged twice scores above 0.5. Enlarging the whole image twice costs four times the time, so only the
    unsure faces (the candidates, scoring from ``candidate_threshold`` up to ``score_threshold``, at least
    ``min_candidate_px`` wide and not half inside a face already found) are looked at again: a patch around
    each, enlarged so the face is ``verify_face_px`` wide, goes through YuNet once more, and the face is kept
    when it then scores ``score_threshold``, with its box and landmarks from the enlarged patch.

    Args:
        model_path: YuNet ONNX file (``None``: found or downloaded by ``store``).
        store: Model store used when ``model_path`` is ``None``.
        score_threshold: Minimum detector score.
        nms_threshold: IoU above which overlapping boxes are merged.
        min_long_side_px: Smaller images are enlarged to this long side (at most twice) before
            detection: YuNet finds faces of 30-40 px far more often at a larger scale. 0 disables.
        candidate_threshold: Faces scoring from this up to ``score_threshold`` are looked at again,
            enlarged. 0 disables the second look.
        max_candidates: At most this many candidates per image are looked at again (highest score first).
        min_candidate_px: Candidates narrower than this (in image pixels) are not looked at again.
        verify_face_px: Width a candidate is scaled to for its second look (in a patch
            ``VERIFY_CONTEXT`` times as wide): YuNet's time grows with the patch's pixels.

    Raises:
        ValueError: When ``verify_face_px`` is under 16 (YuNet finds no face that small).
    """

    def __init__(
        self,
        model_path: Path | str | None = None,
        *,
        store: ModelStore | None = None,
        score_threshold: float = DEFAULT_SCORE_THRESHOLD,
        nms_threshold: float = DEFAULT_NMS_THRESHOLD,
        min_long_side_px: int = DEFAULT_MIN_LONG_SIDE_PX,
        candidate_threshold: float = DEFAULT_CANDIDATE_THRESHOLD,
        max_candidates: int = DEFAULT_MAX_CANDIDATES,
        min_candidate_px: float = DEFAULT_MIN_CANDIDATE_PX,
        verify_face_px: int = VERIFY_FACE_PX,
    ):
        self.score_threshold = score_threshold
        self.min_long_side_px = min_long_side_px
        self.candidate_threshold = (
            min(candidate_threshold, score_threshold) if candidate_threshold > 0 else 0.0
        )
        self.max_candidates = max_candidates
        self.min_candidate_px = min_candidate_px
        if model_path is None:
            model_path = (store or ModelStore()).path(YUNET)
        self.model_path = Path(model_path)
        self._size: tuple[int, int] = (320, 320)
        lowest = min(score_threshold, CROP_SCORE_THRESHOLD, self.candidate_threshold or score_threshold)
        if verify_face_px < 16:
            raise ValueError(f"verify_face_px must be at least 16, not {verify_face_px}")
        self.verify_face_px = verify_face_px
        self._patch_px = round(VERIFY_CONTEXT * verify_face_px)
        with _quiet_opencv():  # OpenCV 5 warns on every YuNet load that targets are not supported yet
            self._detector = cv2.FaceDetectorYN.create(
                str(self.model_path), "", self._size, lowest, nms_threshold, 5000
            )
            self._verifier = cv2.FaceDetectorYN.create(
                str(self.model_path), "", (self._patch_px, self._patch_px), score_threshold, nms_threshold, 50
            )

    def detect(self, image: np.ndarray, *, enlarge: bool = True, verify: bool = True) -> list[Face]:
        """Find the faces in a BGR image.

        Args:
            image: BGR ``uint8`` image.
            enlarge: Enlarge a small image first (see ``min_long_side_px``).
            verify: Look again, enlarged, at the faces scoring under ``score_threshold`` (see the class).

        Returns:
            Faces scoring at least ``score_threshold``, highest score first.
        """
        faces = self._detect_all(image, enlarge=enlarge)
        kept = [face for face in faces if face.score >= self.score_threshold]
        if not (verify and self.candidate_threshold and self.max_candidates > 0):
            return kept
        candidates = [
            face
            for face in faces
            if self.candidate_threshold <= face.score < self.score_threshold
            and face.width_px >= self.min_candidate_px
            and not any(_covered(face.box, other.box) for other in kept)
        ]
        for candidate in candidates[: self.max_candidates]:
            face = self._look_again(image, candidate)
            if face is not None and all(box_iou(face.box, other.box) <= SAME_FACE_IOU for other in kept):
                kept.append(face)
        return sorted(kept, key=lambda face: face.score, reverse=True)

    def detect_all(self, image: np.ndarray, *, enlarge: bool = True) -> list[Face]:
        """Every face YuNet returns, down to its lowest threshold, with no second look (hard negatives).

        Args:
            image: BGR ``uint8`` image.
            enlarge: Enlarge a small image first (see ``min_long_side_px``).

        Returns:
            Faces in ``image`` pixels, highest score first.
        """
        return self._detect_all(image, enlarge=enlarge)

    def _detect_all(self, image: np.ndarray, *, enlarge: bool) -> list[Face]:
        """Every face YuNet returns (down to its lowest threshold) in ``image`` pixels, best first."""
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

    def _look_again(self, image: np.ndarray, candidate: Face) -> Face | None:
        """Detect again in a patch around ``candidate``, scaled so the face is ``verify_face_px`` wide.

        Returns:
            The face found there that overlaps the candidate, in ``image`` pixels, if it scores at least
            ``score_threshold``; else ``None``.
        """
        x1, y1, x2, y2 = candidate.box
        side = max(x2 - x1, y2 - y1)
        if side <= 0:
            return None
        factor = self.verify_face_px / side
        half = self._patch_px / 2
        # patch = factor * (image - centre) + half: a scaling about the candidate's centre
        dx, dy = half - factor * (x1 + x2) / 2, half - factor * (y1 + y2) / 2
        matrix = np.array([[factor, 0.0, dx], [0.0, factor, dy]])
        patch = cv2.warpAffine(
            image,
            matrix,
            (self._patch_px, self._patch_px),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        _, rows = self._verifier.detect(patch)
        for face in faces_from_yunet(rows):  # highest score first
            found = _scaled(face.shifted(-dx, -dy), 1.0 / factor)
            if found.score >= self.score_threshold and box_iou(found.box, candidate.box) > SAME_FACE_IOU:
                return found
        return None

    def find_in_crop(self, crop: np.ndarray) -> Face | None:
        """Find the face a face crop shows: the largest found as is, else on a padded copy.

        Tight crops (the face fills the image) often defeat the detector; a border of replicated pixels
        around the crop gives it the context it expects.

        Args:
            crop: BGR image of one face.

        Returns:
            The face, in crop coordinates, or ``None``.
        """
        # As in training: crops are aligned at their own scale, with faces scoring CROP_SCORE_THRESHOLD.
        faces = self._crop_faces(crop)
        if not faces:
            pad = max(8, round(0.25 * max(crop.shape[:2])))
            padded = cv2.copyMakeBorder(crop, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
            faces = [face.shifted(-pad, -pad) for face in self._crop_faces(padded)]
        if not faces:
            return None
        return max(faces, key=lambda face: face.width_px)

    def _crop_faces(self, crop: np.ndarray) -> list[Face]:
        return [face for face in self._detect_all(crop, enlarge=False) if face.score >= CROP_SCORE_THRESHOLD]
