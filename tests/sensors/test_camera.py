from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from sensors.camera import CameraError, FrameSource, is_live, parse_source


def _numbered(n: int) -> np.ndarray:
    return np.full((24, 32, 3), n, np.uint8)


@pytest.fixture
def video(tmp_path: Path) -> Path:
    """A 12-frame file whose frame k is a flat grey of level 20 k."""
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (32, 24))
    assert writer.isOpened()
    for k in range(12):
        writer.write(_numbered(20 * k))
    writer.release()
    return path


def test_a_file_is_read_frame_by_frame_none_skipped(video: Path) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with FrameSource(str(video), start=start) as source:
        frames = list(source)
        assert (source.fps, source.frame_size, source.live) == (10.0, (32, 24), False)
    assert [f.index for f in frames] == list(range(12))
    assert [round(float(f.image.mean()) / 20) for f in frames] == list(range(12))
    assert frames[5].at == start + timedelta(seconds=0.5)  # the file's clock, not the wall clock


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CameraError, match="no such video file"):
        FrameSource(str(tmp_path / "missing.mp4"))


def test_a_file_that_is_not_a_video_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("not a video")
    with pytest.raises(CameraError, match="cannot open video source"):
        FrameSource(str(path))


@pytest.mark.parametrize(
    ("text", "source", "live"),
    [
        ("0", 0, True),  # a device index
        ("rtsp://cam.local/stream1", "rtsp://cam.local/stream1", True),  # an IP camera
        ("http://10.0.0.5:8080/video", "http://10.0.0.5:8080/video", True),  # an MJPEG stream
        ("door.mp4", "door.mp4", False),  # a file
    ],
)
def test_sources(text: str, source: int | str, live: bool) -> None:
    assert parse_source(text) == source
    assert is_live(parse_source(text)) is live


class FakeCamera:
    """A live camera that hands out the given frames, then stalls a little (or fails at once) per read."""

    def __init__(self, levels: list[int], *, fail_after: bool = False) -> None:
        self.levels = list(levels)
        self.fail_after = fail_after
        self.drained = threading.Event()
        self.released = threading.Event()

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return True

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self.levels:
            return True, _numbered(self.levels.pop(0))
        self.drained.set()
        if not self.fail_after:
            self.released.wait(0.2)
        return False, None

    def get(self, prop_id: int) -> float:
        return 30.0 if prop_id == cv2.CAP_PROP_FPS else 0.0

    def release(self) -> None:
        self.released.set()


def test_a_live_source_keeps_only_the_newest_frame() -> None:
    camera = FakeCamera([1, 2, 3, 4, 5, 6, 7, 8])
    source = FrameSource(0, opener=lambda _: camera)
    try:
        assert camera.drained.wait(5.0)
        frame = source.read(timeout_s=5.0)
        assert frame is not None
        assert (frame.index, int(frame.image[0, 0, 0])) == (7, 8)  # the slow reader skipped 1..7
        assert source.dropped == 7
        assert source.read(timeout_s=0.05) is None  # nothing newer yet: no stale repeat
    finally:
        source.close()


def test_a_lost_live_source_reconnects() -> None:
    cameras = [FakeCamera([1, 2], fail_after=True), FakeCamera([50])]
    opened: list[int] = []

    def opener(_: int | str) -> FakeCamera:
        opened.append(1)
        return cameras[len(opened) - 1]

    source = FrameSource("rtsp://cam/stream", opener=opener, reconnect_s=0.01)
    try:
        assert cameras[1].drained.wait(5.0)
        frame = source.read(timeout_s=5.0)
        assert frame is not None
        assert int(frame.image[0, 0, 0]) == 50
        assert source.reconnections == 1
        assert cameras[0].released.is_set()
    finally:
        source.close()
