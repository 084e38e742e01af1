"""Drawing door lines, tracks and counts on frames, and writing them to a video file."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from station.vision.crossings import DoorLine, Point
from station.vision.tracking import Track

log = logging.getLogger(__name__)

_IN_COLOUR = (60, 200, 60)
_OUT_COLOUR = (40, 80, 230)
_LINE_COLOUR = (0, 220, 255)
_TENTATIVE_COLOUR = (160, 160, 160)
_TRACK_COLOUR = (255, 180, 40)

#: Codecs tried for each container, in order; OpenCV's pip wheels carry mp4v and MJPG but no H.264 encoder.
_FOURCCS = {".mp4": ("mp4v", "avc1"), ".m4v": ("mp4v",), ".avi": ("MJPG", "XVID"), ".mkv": ("mp4v", "MJPG")}


class AnnotationError(RuntimeError):
    """An output video that cannot be written."""


class LineTotals(Protocol):
    """A line and its counts so far (what drawing and results need of a line's counter)."""

    @property
    def line(self) -> DoorLine:
        """The door line."""
        ...

    @property
    def in_count(self) -> int:
        """Crossings into the room."""
        ...

    @property
    def out_count(self) -> int:
        """Crossings out of it."""
        ...


def _pt(point: Point) -> tuple[int, int]:
    return (round(point[0]), round(point[1]))


def _label(
    image: np.ndarray, text: str, origin: Point, colour: tuple[int, int, int], scale: float = 0.45
) -> None:
    x, y = _pt(origin)
    thick = max(1, round(scale * 2))
    cv2.putText(image, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick + 2, cv2.LINE_AA)
    cv2.putText(image, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thick, cv2.LINE_AA)


def draw_lines(
    image: np.ndarray, lines: Sequence[DoorLine], counts: Sequence[tuple[int, int]] | None = None
) -> np.ndarray:
    """Return a copy of ``image`` with each door line, an arrow to its room side and its name drawn.

    Args:
        image: The frame.
        lines: The door lines, in the frame's pixels.
        counts: Each line's (in, out) so far, drawn beside its name; None for the name alone.
    """
    out = image.copy()
    scale = max(0.45, out.shape[1] / 1000)  # readable on a large frame too
    for index, line in enumerate(lines):
        cv2.line(out, _pt(line.start), _pt(line.end), _LINE_COLOUR, 2, cv2.LINE_AA)
        mid = ((line.start[0] + line.end[0]) / 2, (line.start[1] + line.end[1]) / 2)
        cv2.circle(out, _pt(line.in_point), 4, _IN_COLOUR, -1, cv2.LINE_AA)
        cv2.arrowedLine(out, _pt(mid), _pt(line.in_point), _IN_COLOUR, 2, cv2.LINE_AA, tipLength=0.1)
        _label(out, "in", (line.in_point[0] + 6, line.in_point[1] + 4), _IN_COLOUR, scale)
        text = str(line.name)
        if counts is not None:
            text += f": in {counts[index][0]} out {counts[index][1]}"
        _label(out, text, (mid[0] + 6, mid[1] - 6), _LINE_COLOUR, scale)
    return out


class CountAnnotator:
    """Draws lines with their in/out counts, the room's side, tracks with ids and trails, and totals."""

    def draw(
        self,
        image: np.ndarray,
        counters: Sequence[LineTotals],
        tracks: Sequence[Track],
        trails: dict[int, list[Point]] | None = None,
    ) -> np.ndarray:
        """Return a copy of ``image`` with everything drawn on it."""
        out = draw_lines(image, [c.line for c in counters], [(c.in_count, c.out_count) for c in counters])
        for track in tracks:
            colour = _TRACK_COLOUR if track.confirmed else _TENTATIVE_COLOUR
            x, y, w, h = track.box
            cv2.rectangle(out, _pt((x, y)), _pt((x + w, y + h)), colour, 1)
            cv2.circle(out, _pt(track.anchor), 3, colour, -1)
            trail = (trails or {}).get(track.track_id, [])
            if len(trail) > 1:
                points = np.array([_pt(p) for p in trail], dtype=np.int32).reshape(-1, 1, 2)
                cv2.polylines(out, [points], False, colour, 1, cv2.LINE_AA)
            _label(out, str(track.track_id), (x, y - 3), colour)
        total_in = sum(counter.in_count for counter in counters)
        total_out = sum(counter.out_count for counter in counters)
        _label(out, f"in {total_in}  out {total_out}", (8, out.shape[0] - 10), (255, 255, 255))
        return out


class VideoOut:
    """A video file written frame by frame, with the first codec that works for its container.

    Args:
        path: Output file; its suffix picks the container (``.mp4``, ``.avi``, ...).
        fps: Frames per second.
        frame_size: (width, height).

    Raises:
        AnnotationError: No codec could open the file.
    """

    def __init__(self, path: str | Path, fps: float, frame_size: tuple[int, int]) -> None:
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if not self.path.parent.is_dir():
            raise AnnotationError(f"cannot write {self.path}: no such directory {self.path.parent}")
        self._writer: cv2.VideoWriter | None = None
        for fourcc in _FOURCCS.get(suffix, ("mp4v", "MJPG")):
            writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter.fourcc(*fourcc), fps, frame_size)
            if writer.isOpened():
                self._writer = writer
                self.fourcc = fourcc
                log.debug("writing %s with %s", self.path, fourcc)
                break
            writer.release()
        if self._writer is None:
            raise AnnotationError(f"cannot write {self.path}: no video codec for {suffix or 'no suffix'}")

    def write(self, image: np.ndarray) -> None:
        """Append one frame."""
        if self._writer is not None:
            self._writer.write(image)

    def close(self) -> None:
        """Finish the file."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
