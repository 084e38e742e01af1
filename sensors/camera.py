"""Frames from a camera: a device index, a video file, or an RTSP/HTTP stream.

A live source (a device or a stream) is read by a grabbing thread that keeps only the newest frame, so
processing slower than the camera drops old frames instead of building a backlog, and a lost stream is
reopened after ``reconnect_s``. A file is read frame by frame in the caller's thread, none skipped,
and ends at its last frame; its frames are stamped with the file's own clock (index / fps from
``start``), so results on a file do not depend on how fast it was processed. A ``paced`` file is
delivered at its own frame rate, as a camera would (a recorded hour replayed at a station).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

log = logging.getLogger(__name__)

_STREAM_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://", "rtmp://", "udp://", "tcp://")


class CameraError(RuntimeError):
    """A source that cannot be opened, with a message fit for the person at the keyboard."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One picture from a source.

    Attributes:
        index: The frame's number from the source's start (counting dropped live frames too).
        at: When it was taken (UTC): the file's clock for files, the grab time for live sources.
        image: The picture, BGR, height x width x 3.
    """

    index: int
    at: datetime
    image: np.ndarray


class Capture(Protocol):
    """The part of ``cv2.VideoCapture`` a frame source uses."""

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        """Whether the source is open."""
        ...

    def read(self) -> tuple[bool, np.ndarray | None]:
        """Return the next frame, or (False, None)."""
        ...

    def get(self, prop_id: int) -> float:
        """Return a property such as ``cv2.CAP_PROP_FPS``."""
        ...

    def release(self) -> None:
        """Close the source."""
        ...


Opener = Callable[[int | str], Capture]


def parse_source(text: str) -> int | str:
    """Turn a command-line source into what OpenCV opens: ``"0"`` is device 0, anything else a path or URL."""
    return int(text) if text.strip().isdigit() else text


def is_live(source: int | str) -> bool:
    """Whether a source is a device or a stream (newest frame wins) rather than a file (every frame)."""
    return isinstance(source, int) or str(source).lower().startswith(_STREAM_SCHEMES)


def open_capture(source: int | str) -> Capture:
    """Open a source with OpenCV (the default ``Opener``)."""
    return cv2.VideoCapture(source)


class FrameSource:
    """Frames from one source; iterate it, or ``read`` the newest.

    Args:
        source: A device index, a file path, or a stream URL.
        reconnect_s: Wait before reopening a lost live source.
        start: The time of a file's first frame (UTC); now when omitted.
        opener: Opens the source; OpenCV unless a test passes another.
        live: Whether to treat the source as live; guessed from ``source`` when omitted.
        paced: Deliver a file's frames at the file's own frame rate rather than as fast as asked.

    Raises:
        CameraError: A file that does not exist or cannot be decoded, or a live source that cannot
            be opened at all.
    """

    def __init__(
        self,
        source: int | str,
        *,
        reconnect_s: float = 1.0,
        start: datetime | None = None,
        opener: Opener = open_capture,
        live: bool | None = None,
        paced: bool = False,
    ) -> None:
        self.source = source
        self.paced = paced
        self._paced_from: float | None = None
        self.live = is_live(source) if live is None else live
        self._reconnect_s = reconnect_s
        self._opener = opener
        self._start = start or datetime.now(UTC)
        if not self.live and not Path(str(source)).is_file():
            raise CameraError(f"no such video file: {source}")
        self._capture: Capture | None = opener(source)
        if not self._capture.isOpened():
            raise CameraError(f"cannot open video source {source!r}")
        fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if 0.0 < fps < 1000.0 else 25.0
        width = int(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH) or 0)
        height = int(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
        #: (width, height) as the source reports it; (0, 0) when it does not say before the first frame.
        self.frame_size = (width, height)
        self.frame_count = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0) if not self.live else 0
        self.reconnections = 0
        self.dropped = 0
        self._index = 0
        self._stop = threading.Event()
        self._condition = threading.Condition()
        self._newest: Frame | None = None
        self._thread: threading.Thread | None = None
        if self.live:
            self._thread = threading.Thread(target=self._grab_loop, name=f"grab {source}", daemon=True)
            self._thread.start()

    def read(self, timeout_s: float = 1.0) -> Frame | None:
        """Return the next frame: a file's next one, or the newest live one not yet returned.

        Returns None at a file's end, or when no live frame came within ``timeout_s``.
        """
        if not self.live:
            return self._read_file()
        with self._condition:
            if self._newest is None:
                self._condition.wait_for(lambda: self._newest is not None or self._stop.is_set(), timeout_s)
            frame, self._newest = self._newest, None
            return frame

    def __iter__(self) -> Iterator[Frame]:
        """Yield frames until a file ends or the source is closed."""
        while not self._stop.is_set():
            frame = self.read()
            if frame is None:
                if not self.live:
                    return
                continue
            yield frame

    def stop(self) -> None:
        """End iteration (safe from a signal handler or another thread); ``close`` still releases."""
        self._stop.set()
        with self._condition:
            self._condition.notify_all()

    def close(self) -> None:
        """Stop grabbing and release the source."""
        self.stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _read_file(self) -> Frame | None:
        if self._capture is None:
            return None
        ok, image = self._capture.read()
        if not ok or image is None:
            return None
        if self.paced:
            now = time.monotonic()
            if self._paced_from is None:
                self._paced_from = now
            delay = self._paced_from + self._index / self.fps - now
            if delay > 0 and self._stop.wait(delay):
                return None
        at = self._start + timedelta(seconds=self._index / self.fps)
        frame = Frame(index=self._index, at=at, image=image)
        self._index += 1
        return frame

    def _grab_loop(self) -> None:
        while not self._stop.is_set():
            capture = self._capture
            ok, image = capture.read() if capture is not None else (False, None)
            if ok and image is not None:
                frame = Frame(index=self._index, at=datetime.now(UTC), image=image)
                self._index += 1
                with self._condition:
                    if self._newest is not None:
                        self.dropped += 1
                    self._newest = frame
                    self._condition.notify_all()
                continue
            self._reconnect()

    def _reconnect(self) -> None:
        log.warning("video source %s lost; reopening in %.1f s", self.source, self._reconnect_s)
        if self._capture is not None:
            self._capture.release()
            self._capture = None
        while not self._stop.wait(self._reconnect_s):
            capture = self._opener(self.source)
            if capture.isOpened():
                self._capture = capture
                self.reconnections += 1
                log.warning("video source %s is back", self.source)
                return
            capture.release()
