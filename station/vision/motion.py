"""Moving people in a fixed camera's frames: a background model, and the blobs of what moves.

The frame is scaled down to a working width first (speed), then corrected for global light changes:
the frame's brightness is compared with a slowly learnt reference on a small thumbnail (where nobody
is), and the frame is scaled back to the reference's level, so a cloud or a lamp switched on does not
light up the whole foreground. A Gaussian-mixture background model (OpenCV's MOG2) with shadow
detection follows. Its shadow pixels (value 127) are dropped unless they touch solid foreground: in grey
scenes grey clothes pass the shadow test, while a shadow on its own stays out. The mask is cleaned
with an opening and a closing, and the connected parts large enough to be a person become blobs, in
the source video's pixels.

The model does not learn where a tracked person who has walked is (the caller passes their boxes): it
learns the last picture it had of that place instead. So a person who stops does not fade into the
background (the usual cause of lost counts at doors), while a ghost, which never walked, still does.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

log = logging.getLogger(__name__)

Box = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class Blob:
    """One connected moving region, in source pixels.

    Attributes:
        x: Left edge.
        y: Top edge.
        w: Width.
        h: Height.
        area_px: Foreground pixels in the region (source pixels).
        cx: Centre of mass, x.
        cy: Centre of mass, y.
    """

    x: float
    y: float
    w: float
    h: float
    area_px: float
    cx: float
    cy: float

    @property
    def center(self) -> tuple[float, float]:
        """The centre of mass (x, y)."""
        return (self.cx, self.cy)


@dataclass(frozen=True, slots=True)
class MotionSettings:
    """How moving regions are found.

    Attributes:
        work_width_px: Frames wider than this are scaled down to it before anything else (768x432 to
            384x216).
        min_area_fraction: Smallest blob kept, as a fraction of the frame's area (scales with it).
        history_frames: The background model's memory; a person standing still fades into the
            background after roughly a tenth of it.
        var_threshold: MOG2's squared Mahalanobis distance for foreground.
        shadow_ratio: MOG2's shadow threshold: pixels darker than the background by at most this
            factor, with its colour, are shadow.
        light_reset_fraction: When more of the frame than this is foreground at once, the light has
            changed too much to correct: the background is learnt again from this frame.
        shadow_reach_fraction: Shadow pixels this close to solid foreground (as a fraction of the
            working width) are kept: in grey scenes, grey clothes pass MOG2's shadow test. Shadows
            away from anyone are still dropped. 0 drops every shadow pixel.
        close_fraction: Size of the closing that joins a person's parts, as a fraction of the
            working width.
    """

    work_width_px: int = 384
    min_area_fraction: float = 0.002
    history_frames: int = 1500
    var_threshold: float = 16.0
    shadow_ratio: float = 0.5
    light_reset_fraction: float = 0.7
    close_fraction: float = 0.02
    shadow_reach_fraction: float = 0.03


class MotionDetector:
    """Finds moving blobs in the frames of one fixed camera.

    Args:
        frame_size: The source frames' (width, height) in pixels.
        settings: Tuning; the defaults suit a door seen from above or obliquely.
    """

    def __init__(self, frame_size: tuple[int, int], settings: MotionSettings | None = None) -> None:
        self.settings = settings or MotionSettings()
        width, height = frame_size
        if width <= 0 or height <= 0:
            raise ValueError(f"frame size must be positive, got {frame_size}")
        self.frame_size = (width, height)
        self.scale = min(1.0, self.settings.work_width_px / width)
        self.work_size = (max(1, round(width * self.scale)), max(1, round(height * self.scale)))
        work_area = self.work_size[0] * self.work_size[1]
        self.min_area_work_px = max(4, round(self.settings.min_area_fraction * work_area))
        #: The smallest blob kept, in source pixels.
        self.min_area_px = self.min_area_work_px / (self.scale * self.scale)
        self._model = cv2.createBackgroundSubtractorMOG2(
            history=self.settings.history_frames,
            varThreshold=self.settings.var_threshold,
            detectShadows=True,
        )
        self._model.setShadowThreshold(self.settings.shadow_ratio)
        self._open = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
        close_px = max(3, round(self.settings.close_fraction * self.work_size[0]) | 1)
        self._close = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (close_px, close_px))
        reach_px = round(self.settings.shadow_reach_fraction * self.work_size[0]) | 1
        self._reach = (
            cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (reach_px, reach_px)) if reach_px > 1 else None
        )
        thumb_w = 32
        self._thumb_size = (thumb_w, max(2, round(thumb_w * self.work_size[1] / self.work_size[0])))
        self._reference: np.ndarray | None = None
        self._learnt: np.ndarray | None = None  # what the model learnt last: the frame, people kept out
        self._frames = 0
        self.foreground: np.ndarray | None = None
        self.gain = 1.0

    def detect(self, image: np.ndarray, protect: Sequence[Box] = ()) -> list[Blob]:
        """Feed one frame and return the moving blobs in it.

        Args:
            image: The frame, BGR or grey, at the source's size.
            protect: Boxes (x, y, w, h, source pixels) of people known to be there; the background
                model does not learn them, so someone who stops walking does not fade away.
        """
        if image.shape[1] != self.frame_size[0] or image.shape[0] != self.frame_size[1]:
            raise ValueError(f"frame is {image.shape[1]}x{image.shape[0]}, expected {self.frame_size}")
        work = image if self.scale == 1.0 else cv2.resize(image, self.work_size, interpolation=cv2.INTER_AREA)
        work = self._correct_light(work)
        self._frames += 1
        rate = 1.0 / min(2 * self._frames, self.settings.history_frames)
        if protect and self._learnt is not None:
            mask = self._model.apply(work, learningRate=0.0)
            keep = np.zeros(work.shape[:2], np.uint8)
            for x, y, w, h in protect:
                x0, y0 = max(0, int(x * self.scale)), max(0, int(y * self.scale))
                x1, y1 = int((x + w) * self.scale) + 1, int((y + h) * self.scale) + 1
                keep[y0:y1, x0:x1] = 255
            cv2.copyTo(work, cv2.bitwise_not(keep), self._learnt)
            self._model.apply(self._learnt, learningRate=rate)
        else:
            mask = self._model.apply(work, learningRate=rate)
            self._learnt = work.copy()
        raw = mask
        _, mask = cv2.threshold(raw, 200, 255, cv2.THRESH_BINARY)
        if cv2.countNonZero(mask) > self.settings.light_reset_fraction * mask.size:
            log.debug("most of the frame changed at once: learning the background again")
            self._model.apply(work, learningRate=1.0)
            self._learnt = work.copy()
            mask[:] = 0
            self.foreground = mask
            return []
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self._open)
        if self._reach is not None:
            # "Shadow" right next to something solid is grey clothing on a grey floor, not a shadow.
            shadow = cv2.inRange(raw, 100, 160)
            near = cv2.dilate(mask, self._reach)
            mask = cv2.bitwise_or(mask, cv2.bitwise_and(shadow, near))
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, self._close)
        self.foreground = mask
        count, _, stats, centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
        inverse = 1.0 / self.scale
        blobs: list[Blob] = []
        for label in range(1, count):
            x, y, w, h, area = (int(v) for v in stats[label])
            if area < self.min_area_work_px:
                continue
            cx, cy = centroids[label]
            blobs.append(
                Blob(
                    x=x * inverse,
                    y=y * inverse,
                    w=w * inverse,
                    h=h * inverse,
                    area_px=area * inverse * inverse,
                    cx=(cx + 0.5) * inverse - 0.5,
                    cy=(cy + 0.5) * inverse - 0.5,
                )
            )
        return blobs

    def _correct_light(self, work: np.ndarray) -> np.ndarray:
        grey = cv2.cvtColor(work, cv2.COLOR_BGR2GRAY) if work.ndim == 3 else work
        thumb = cv2.resize(grey, self._thumb_size, interpolation=cv2.INTER_AREA).astype(np.float32)
        if self._reference is None:
            self._reference = thumb
            return work
        usable = self._reference > 8.0
        if self.foreground is not None:
            # Only cells where nobody was last frame: a person filling half the view is not the light.
            moving = cv2.resize(self.foreground, self._thumb_size, interpolation=cv2.INTER_AREA)
            usable &= moving < 25
        if np.count_nonzero(usable) >= 0.2 * usable.size:
            gain = float(np.median(thumb[usable] / self._reference[usable]))
            if gain > 0.0:
                self.gain = gain
        gain = self.gain
        corrected_thumb = thumb / gain
        cv2.accumulateWeighted(corrected_thumb, self._reference, 0.01, mask=usable.astype(np.uint8))
        return cv2.convertScaleAbs(work, alpha=1.0 / gain)
