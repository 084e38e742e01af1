"""Counting people at doors from video: frames → moving blobs → tracks → line crossings."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from sensors.camera import FrameSource
from sensors.crossing import Crossing
from station.vision.annotate import CountAnnotator, VideoOut
from station.vision.crossings import DoorLine, LineCounter
from station.vision.motion import MotionDetector, MotionSettings
from station.vision.tracking import Track, Tracker, TrackerSettings


@dataclass(frozen=True, slots=True)
class LineCount:
    """One line's totals.

    Attributes:
        in_count: Crossings into the room.
        out_count: Crossings out of it.
    """

    in_count: int
    out_count: int

    def as_json(self) -> dict[str, int]:
        """Return ``{"in": n, "out": m}``."""
        return {"in": self.in_count, "out": self.out_count}


@dataclass(frozen=True, slots=True)
class CountResult:
    """What counting a source found.

    Attributes:
        lines: Each line's totals, in the order the lines were given.
        frames: Frames processed.
        fps: Frames processed per second of wall-clock time.
    """

    lines: tuple[LineCount, ...]
    frames: int
    fps: float

    @property
    def in_count(self) -> int:
        """Crossings into the room over all lines."""
        return sum(line.in_count for line in self.lines)

    @property
    def out_count(self) -> int:
        """Crossings out of the room over all lines."""
        return sum(line.out_count for line in self.lines)

    def as_json(self) -> dict[str, object]:
        """Return the CLI's summary: ``in``, ``out``, ``frames``, ``fps``, and ``lines`` if several."""
        summary: dict[str, object] = {
            "in": self.in_count,
            "out": self.out_count,
            "frames": self.frames,
            "fps": round(self.fps, 1),
        }
        if len(self.lines) > 1:
            summary["lines"] = [line.as_json() for line in self.lines]
        return summary


class DoorCounter:
    """Counts crossings of one camera's door lines, frame by frame.

    Args:
        lines: The door lines, in source pixels.
        frame_size: The source frames' (width, height).
        motion: Tuning of the background model.
        tracking: Tuning of the tracker.
        max_still_frames: How long someone may stand still and still be kept out of the background.
    """

    def __init__(
        self,
        lines: Sequence[DoorLine],
        frame_size: tuple[int, int],
        *,
        motion: MotionSettings | None = None,
        tracking: TrackerSettings | None = None,
        max_still_frames: int = 1500,
    ) -> None:
        if not lines:
            raise ValueError("at least one door line is needed")
        self.detector = MotionDetector(frame_size, motion)
        self.tracker = Tracker(frame_size, tracking)
        self.counters = [LineCounter(line) for line in lines]
        self.tracks: list[Track] = []
        self.frames = 0
        self._protect: list[tuple[float, float, float, float]] = []
        self.max_still_frames = max_still_frames

    def process(self, image: np.ndarray, at: datetime) -> list[Crossing]:
        """Take one frame and return the crossings it completed."""
        self.frames += 1
        blobs = self.detector.detect(image, protect=self._protect)
        self.tracks = self.tracker.update(blobs)
        self._protect = [_next_box(t) for t in self.tracks if _walked(t, self.max_still_frames)]
        seen = [track for track in self.tracks if track.missed == 0] + self.tracker.exited
        crossings: list[Crossing] = []
        for counter in self.counters:
            crossings += counter.trigger(seen, at)
            counter.forget(self.tracker.removed)
        return crossings

    def result(self, fps: float) -> CountResult:
        """Return the totals so far."""
        return CountResult(
            lines=tuple(LineCount(c.in_count, c.out_count) for c in self.counters),
            frames=self.frames,
            fps=fps,
        )


def _walked(track: Track, max_still_frames: int) -> bool:
    """Whether the background must keep a track: a person who walked here and has not stood for too long.

    A ghost (where someone stood when the video began) never walked, so it fades; something that
    stands for ``max_still_frames`` (a door leaf left open, a bag put down) fades too.
    """
    size = max(track.box[2], track.box[3])
    return (
        track.confirmed
        and track.missed == 0
        and track.travelled_px > 0.5 * size
        and track.still_frames < max_still_frames
    )


def _next_box(track: Track, margin: float = 0.15) -> tuple[float, float, float, float]:
    """The track's box where it is expected next frame, grown by ``margin`` on every side."""
    x, y, w, h = track.box
    vx, vy = track.velocity
    return (x + vx - margin * w, y + vy - margin * h, w * (1 + 2 * margin), h * (1 + 2 * margin))


def count_source(
    source: FrameSource,
    lines: Sequence[DoorLine],
    *,
    annotate: VideoOut | None = None,
    on_crossing: Callable[[Crossing], None] | None = None,
    on_progress: Callable[[int, float], None] | None = None,
    max_frames: int | None = None,
    stop: Callable[[], bool] | None = None,
    motion: MotionSettings | None = None,
    tracking: TrackerSettings | None = None,
) -> CountResult:
    """Count crossings over a whole source (a file to its end, a live source until ``stop``).

    Args:
        source: The frames.
        lines: The door lines, in source pixels.
        annotate: Where to write the frames with lines, tracks and counts drawn, or None.
        on_crossing: Called with every crossing as it happens.
        on_progress: Called about once a second, and at the end, with (frames done, frames per second).
        max_frames: Stop after this many frames.
        stop: Polled each frame; counting ends when it returns True.
        motion: Tuning of the background model.
        tracking: Tuning of the tracker.
    """
    counter: DoorCounter | None = None
    annotator = CountAnnotator()
    started = time.perf_counter()
    last_progress = started
    for frame in source:
        if counter is None:
            height, width = frame.image.shape[:2]
            counter = DoorCounter(lines, (width, height), motion=motion, tracking=tracking)
        for crossing in counter.process(frame.image, frame.at):
            if on_crossing is not None:
                on_crossing(crossing)
        if annotate is not None:
            trails = {t.track_id: counter.tracker.trail(t.track_id) for t in counter.tracks}
            annotate.write(annotator.draw(frame.image, counter.counters, counter.tracks, trails))
        now = time.perf_counter()
        if on_progress is not None and now - last_progress >= 1.0:
            last_progress = now
            on_progress(counter.frames, counter.frames / (now - started))
        if (max_frames is not None and counter.frames >= max_frames) or (stop is not None and stop()):
            break
    elapsed = time.perf_counter() - started
    if counter is None:
        return CountResult(lines=tuple(LineCount(0, 0) for _ in lines), frames=0, fps=0.0)
    fps = counter.frames / elapsed if elapsed > 0 else 0.0
    if on_progress is not None:
        on_progress(counter.frames, fps)
    return counter.result(fps)
