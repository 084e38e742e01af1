"""A synthetic camera: visitors stepping up to the station, rendered over a wall, frame by frame.

Each visitor is a face image (a photo, or a drawn face when none is given) that grows as the
person steps up, stays in front of the station, and shrinks away. The camera knows its own truth
(who is in front, whether in position, what they wear), which tests and the demo can use when no
face detector is at hand.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import cv2
import numpy as np

from sensors.camera import Frame


@dataclass(frozen=True, slots=True)
class Visitor:
    """One visitor of the synthetic camera.

    Attributes:
        face: The face image (BGR); None draws one.
        label: What the face wears (``with_mask``, ``without_mask``, ``incorrect``), for the truth.
    """

    face: np.ndarray | None
    label: str


@dataclass(frozen=True, slots=True)
class Truth:
    """What the synthetic camera shows at one moment."""

    present: bool
    in_position: bool
    label: str | None
    index: int


def drawn_face(label: str, size_px: int = 160) -> np.ndarray:
    """Draw a simple face wearing ``label``'s mask (or none)."""
    image = np.full((size_px, size_px, 3), (170, 200, 225), np.uint8)
    c = size_px // 2
    cv2.ellipse(image, (c, c), (int(size_px * 0.36), int(size_px * 0.46)), 0, 0, 360, (140, 175, 215), -1)
    for dx in (-1, 1):
        cv2.circle(image, (c + dx * size_px // 7, int(size_px * 0.4)), size_px // 22, (40, 40, 40), -1)
    cv2.line(image, (c, int(size_px * 0.45)), (c, int(size_px * 0.58)), (100, 130, 170), 2)
    cv2.ellipse(image, (c, int(size_px * 0.7)), (size_px // 8, size_px // 22), 0, 0, 180, (60, 60, 150), 2)
    if label in ("with_mask", "incorrect"):
        top = int(size_px * (0.48 if label == "with_mask" else 0.62))
        cv2.rectangle(
            image, (int(size_px * 0.2), top), (int(size_px * 0.8), int(size_px * 0.85)), (230, 200, 150), -1
        )
    return image


class SyntheticCamera:
    """A live-like source of 640x480 frames showing ``visitors`` one after another, forever.

    Args:
        visitors: Who steps up, in turn.
        idle_s: Time with nobody in front between two visitors.
        visit_s: Time each visitor spends in front (stepping up and away included).
        fps: Frames per second.
        clock: Seconds since some fixed moment (``time.monotonic``); tests pass their own.
        size: The frame's (width, height).
    """

    live = True

    def __init__(
        self,
        visitors: Sequence[Visitor],
        *,
        idle_s: float = 3.0,
        visit_s: float = 6.0,
        fps: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
        size: tuple[int, int] = (640, 480),
    ) -> None:
        if not visitors:
            raise ValueError("the synthetic camera needs at least one visitor")
        self.visitors = [v if v.face is not None else Visitor(drawn_face(v.label), v.label) for v in visitors]
        self.idle_s, self.visit_s, self.fps = idle_s, visit_s, fps
        self._clock = clock
        self._start = clock()
        self._size = size
        self._index = 0
        rng = np.random.default_rng(3)
        width, height = size
        wall = rng.normal(205, 8, (height // 8, width // 8, 3)).clip(0, 255).astype(np.uint8)
        self._wall = cv2.resize(wall, size, interpolation=cv2.INTER_CUBIC)
        cv2.rectangle(self._wall, (0, int(height * 0.8)), (width, height), (120, 120, 130), -1)

    def truth(self, elapsed_s: float | None = None) -> Truth:
        """Return who is in front at ``elapsed_s`` seconds after the start (now when omitted)."""
        elapsed_s = self._clock() - self._start if elapsed_s is None else elapsed_s
        cycle_s = self.idle_s + self.visit_s
        index = int(elapsed_s // cycle_s)
        into_s = elapsed_s - index * cycle_s - self.idle_s
        if into_s < 0:
            return Truth(False, False, None, index)
        visitor = self.visitors[index % len(self.visitors)]
        return Truth(True, self._scale(into_s) >= 0.95, visitor.label, index)

    def _scale(self, into_s: float) -> float:
        step_s = min(1.0, self.visit_s / 4)
        return max(0.0, min(1.0, into_s / step_s, (self.visit_s - into_s) / step_s))

    def render(self, elapsed_s: float) -> np.ndarray:
        """Return the frame at ``elapsed_s`` seconds after the start."""
        frame = self._wall.copy()
        truth = self.truth(elapsed_s)
        if not truth.present:
            return frame
        cycle_s = self.idle_s + self.visit_s
        into_s = elapsed_s - truth.index * cycle_s - self.idle_s
        scale = self._scale(into_s)
        face = self.visitors[truth.index % len(self.visitors)].face
        assert face is not None
        width, height = self._size
        side = int(40 + scale * height * 0.45)
        if side < 8:
            return frame
        patch = cv2.resize(face, (side, side * face.shape[0] // face.shape[1]), interpolation=cv2.INTER_AREA)
        sway_px = int(6 * math.sin(into_s * 3))
        x = width // 2 - patch.shape[1] // 2 + sway_px
        y = int(height * 0.42) - patch.shape[0] // 2
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(width, x + patch.shape[1]), min(height, y + patch.shape[0])
        frame[y0:y1, x0:x1] = patch[y0 - y : y1 - y, x0 - x : x1 - x]
        return frame

    def read(self, timeout_s: float = 1.0) -> Frame | None:
        """Wait for the next frame time and return the frame."""
        due = self._start + (self._index + 1) / self.fps
        wait_s = due - self._clock()
        if wait_s > 0:
            time.sleep(min(wait_s, timeout_s))
        self._index += 1
        return Frame(self._index, datetime.now(UTC), self.render(self._clock() - self._start))

    def close(self) -> None:
        """Nothing to release."""
