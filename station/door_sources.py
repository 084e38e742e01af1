"""Every way the station counts its doors, behind one seam: ``crossings(stop)``.

A counting source yields ``sensors.crossing.Crossing`` values whose ``line`` is the door's name; the
runner sends each to the station hub (journal, uplink, occupancy), whatever saw it. A beam-pair sensor
on a serial port and door lines on a camera are the two sources today; a new method is one more class
with the same verb.

The door camera is either its own source (``counting.camera``) or the visitor camera, whose frames the
visitor loop hands over through a ``FrameRelay``. A video file is played once at its own frame rate (an
installer replays a recorded hour to check the lines: ``FrameSource(paced=True)``) and then reported as
ended, never replayed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Protocol

import cv2
import numpy as np

from sensors.camera import Frame
from sensors.crossing import Crossing
from sensors.serialport import PortError, PortState, SerialPort
from station.counting import DoorCounter
from station.vision.annotate import draw_lines
from station.vision.crossings import DoorLine

log = logging.getLogger(__name__)

#: Device states a camera counter reports besides the serial port's ``online`` / ``offline``.
ENDED = "ended"

StateCallback = Callable[[str, str], None]


class CrossingSource(Protocol):
    """Anything that counts people at doors."""

    def crossings(self, stop: threading.Event) -> Iterator[Crossing]:
        """Yield crossings (``line`` is the door's name) until ``stop`` is set or the source ends."""
        ...


class Frames(Protocol):
    """A source of camera frames (``sensors.camera.FrameSource``, a ``FrameRelay`` or a fake)."""

    @property
    def live(self) -> bool:
        """Whether more frames may come (a camera, or a file not yet at its end)."""
        ...

    def read(self, timeout_s: float = 1.0) -> Frame | None:
        """Return the next frame, or None (a file's end, or nothing new in time)."""
        ...

    def close(self) -> None:
        """Release the source."""
        ...


class BeamCounter:
    """A beam-pair door counter on a serial port (``sensors.beams``).

    Args:
        url: The pyserial URL of the counter.
        door: The door it watches.
        on_state: Called with (state, detail) when the port comes and goes.
    """

    def __init__(self, url: str, door: str, on_state: StateCallback) -> None:
        self.url = url
        self.door = door
        self.on_state = on_state

    def crossings(self, stop: threading.Event) -> Iterator[Crossing]:
        """Yield the counter's crossings until ``stop`` is set."""
        from sensors.beams import DEFAULT_BAUD, BeamDecoder, BeamReader

        port = SerialPort(self.url, baud=DEFAULT_BAUD, on_state=lambda state: self.on_state(str(state), ""))
        try:
            port.open()
        except PortError as err:
            log.warning("%s; retrying in the background", err)
            self.on_state(str(PortState.OFFLINE), str(err))
        try:
            yield from BeamReader(port, BeamDecoder(line=self.door)).crossings(stop)
        finally:
            port.close()


class DoorView:
    """The door camera's newest frame with its lines, in-sides and door names drawn (for the kiosk).

    Args:
        every_s: How often a frame is drawn and encoded (the guard's panel needs no video rate).
    """

    def __init__(self, every_s: float = 0.5) -> None:
        self.every_s = every_s
        self._lock = threading.Lock()
        self._jpeg: bytes | None = None
        self._drawn_at = -1e9

    def update(self, image: np.ndarray, lines: Sequence[DoorLine], counts: Sequence[tuple[int, int]]) -> None:
        """Keep ``image`` with the lines and each line's (in, out) counts drawn, at most every ``every_s``."""
        now = time.monotonic()
        if now - self._drawn_at < self.every_s:
            return
        self._drawn_at = now
        ok, jpeg = cv2.imencode(".jpg", draw_lines(image, lines, counts), [cv2.IMWRITE_JPEG_QUALITY, 75])
        if ok:
            with self._lock:
                self._jpeg = jpeg.tobytes()

    def jpeg(self) -> bytes | None:
        """Return the newest drawn frame as JPEG, or None before the first."""
        with self._lock:
            return self._jpeg


class CameraCounter:
    """Door lines on a camera: frames in, crossings out.

    Args:
        open_frames: Opens the door camera (called once, in the counting thread).
        lines: The door lines in the camera's pixels; each line's ``name`` is its door.
        on_state: Called with (state, detail): ``online``, ``offline``, or ``ended`` after a file.
        view: Where the newest frame with the lines goes for the kiosk, or None.
        make_counter: Builds the frame-to-crossings pipeline for a frame size (tests pass a fake).
    """

    def __init__(
        self,
        open_frames: Callable[[], Frames],
        lines: Sequence[DoorLine],
        on_state: StateCallback,
        *,
        view: DoorView | None = None,
        make_counter: Callable[[Sequence[DoorLine], tuple[int, int]], DoorCounter] | None = None,
    ) -> None:
        if not lines:
            raise ValueError("a camera counter needs at least one door line")
        self.open_frames = open_frames
        self.lines = tuple(lines)
        self.on_state = on_state
        self.view = view
        self.make_counter = make_counter or (lambda lines, size: DoorCounter(lines, size))
        self.frames_done = 0

    def crossings(self, stop: threading.Event) -> Iterator[Crossing]:
        """Yield the crossings of every line until ``stop`` is set or a file has ended."""
        try:
            frames = self.open_frames()
        except Exception as err:  # a camera that cannot be opened is a device fault, not a crash
            log.error("door camera: %s", err)
            self.on_state(str(PortState.OFFLINE), str(err))
            return
        counter: DoorCounter | None = None
        online = False
        try:
            while not stop.is_set():
                frame = frames.read(timeout_s=1.0)
                if frame is None:
                    if not frames.live:
                        for crossing in counter.finish() if counter is not None else []:
                            yield replace(crossing, source="camera")  # still on the lines at the end
                        log.info("door camera: the video ended after %d frames", self.frames_done)
                        if counter is not None:
                            _log_totals(self.lines, counter)
                        self.on_state(ENDED, f"the video ended after {self.frames_done} frames")
                        return
                    if online:
                        online = False
                        self.on_state(str(PortState.OFFLINE), "no frames")
                    continue
                if not online:
                    online = True
                    self.on_state(str(PortState.ONLINE), "")
                if counter is None:
                    height, width = frame.image.shape[:2]
                    counter = self.make_counter(self.lines, (width, height))
                    _warn_outside(self.lines, (width, height))
                self.frames_done += 1
                found = counter.process(frame.image, frame.at)
                if self.view is not None:
                    counts = [(c.in_count, c.out_count) for c in counter.counters]
                    self.view.update(frame.image, self.lines, counts)
                for crossing in found:
                    yield replace(crossing, source="camera")
        finally:
            frames.close()


def _log_totals(lines: Sequence[DoorLine], counter: DoorCounter) -> None:
    """Log each line's totals as ``gerbang count`` prints them: what an installer replaying a clip checks."""
    for line, totals in zip(lines, counter.result(0.0).lines, strict=True):
        log.info(
            "door camera: line %s: in %d  out %d%s",
            line.name,
            totals.in_count,
            totals.out_count,
            totals.text(),
        )


def _warn_outside(lines: Sequence[DoorLine], size: tuple[int, int]) -> None:
    width, height = size
    for line in lines:
        if not all(0 <= x <= width and 0 <= y <= height for x, y in (line.start, line.end)):
            log.warning("door line %s reaches outside the camera's %dx%d frame", line.name, width, height)


class FrameRelay:
    """Hands the visitor camera's frames to the door counter (one camera for both jobs).

    The visitor loop ``put``s every frame it reads; the counter ``read``s them in its own thread. At most
    ``keep`` frames wait: from a live camera the oldest is dropped when counting falls behind; from a
    file (``keep_all``) the visitor loop waits for room, so counting sees every frame. The relay is
    ``live`` (more may come) until the visitor camera ends and ``close`` is called.

    Args:
        keep_all: Wait for room instead of dropping frames (the visitor camera is a file).
        keep: How many frames may wait.
    """

    def __init__(self, keep_all: bool = False, keep: int = 8) -> None:
        self.keep_all = keep_all
        self._frames: deque[Frame] = deque()
        self._keep = keep
        self._condition = threading.Condition()
        self._closed = False
        self.dropped = 0

    @property
    def live(self) -> bool:
        """Whether more frames may come (the visitor camera has not ended)."""
        with self._condition:
            return not (self._closed and not self._frames)

    def put(self, frame: Frame) -> None:
        """Offer one frame to the counter."""
        with self._condition:
            if self.keep_all:
                self._condition.wait_for(lambda: len(self._frames) < self._keep or self._closed, 5.0)
            if len(self._frames) >= self._keep:
                self._frames.popleft()
                self.dropped += 1
            self._frames.append(frame)
            self._condition.notify_all()

    def read(self, timeout_s: float = 1.0) -> Frame | None:
        """Return the oldest waiting frame; None when none came in time, or at the end."""
        with self._condition:
            self._condition.wait_for(lambda: self._frames or self._closed, timeout_s)
            if not self._frames:
                return None
            frame = self._frames.popleft()
            self._condition.notify_all()
            return frame

    def close(self) -> None:
        """The visitor camera has ended (or the station stops)."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()
