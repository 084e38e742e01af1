"""The counting seam: the camera counter, the frame relay from the visitor camera, the door view."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest

from sensors.camera import Frame
from sensors.crossing import Crossing, Direction
from station.counting import AreaBasis, CountResult, LineCount
from station.door_sources import ENDED, CameraCounter, DoorView, FrameRelay
from station.vision.crossings import DoorLine

T0 = datetime(2026, 1, 1, tzinfo=UTC)
LINE = DoorLine((0, 50), (100, 50), (50, 10), name="pintu")


class Clip:
    """A file-like source: ``frames`` blank frames, then the end."""

    live = False

    def __init__(self, frames: int) -> None:
        self.left = frames
        self.closed = False

    def read(self, timeout_s: float = 1.0) -> Frame | None:
        if self.left == 0:
            return None
        self.left -= 1
        index = 99 - self.left
        return Frame(index, T0 + timedelta(seconds=index / 25), np.zeros((100, 100, 3), np.uint8))

    def close(self) -> None:
        self.closed = True


class EveryTenth:
    """A stand-in pipeline: someone walks in on every tenth frame."""

    def __init__(self, lines, size) -> None:
        self.size = size
        self.counters = [type("C", (), {"line": lines[0], "in_count": 0, "out_count": 0})()]
        self.frames = 0

    def process(self, image, at):
        self.frames += 1
        if self.frames % 10:
            return []
        self.counters[0].in_count += 1
        return [Crossing(at=at, direction=Direction.IN, line=LINE.name, source="flux")]

    def finish(self):
        return [Crossing(at=T0, direction=Direction.OUT, line=LINE.name)]  # still on the line at the end

    def result(self, fps):
        line = LineCount(self.counters[0].in_count, 1, 22000.0, 2000.0, AreaBasis.LONE_CROSSERS, 1)
        return CountResult(lines=(line,), frames=self.frames, fps=fps)


def test_a_clip_is_counted_once_to_its_end_and_reported_ended(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="station.door_sources")
    states: list[tuple[str, str]] = []
    clip = Clip(100)
    made = []

    def make(lines, size):
        made.append(size)
        return EveryTenth(lines, size)

    counter = CameraCounter(lambda: clip, [LINE], lambda s, d: states.append((s, d)), make_counter=make)
    crossings = list(counter.crossings(threading.Event()))
    assert [(c.direction, c.line, c.source) for c in crossings] == [
        *[(Direction.IN, "pintu", "camera")] * 10,
        (Direction.OUT, "pintu", "camera"),
    ]
    assert made == [(100, 100)]  # built once, for the frames' size
    assert states == [("online", ""), (ENDED, "the video ended after 100 frames")]
    assert clip.closed
    # the installer replaying a clip reads each line's totals, and whether one person's area is a guess
    assert "line pintu: in 10  out 1  (flow 22,000 px, one person 2,000 px, a guess from 1 lone crosser:" in (
        caplog.text
    )


def test_a_camera_that_cannot_be_opened_is_offline_not_a_crash() -> None:
    states: list[tuple[str, str]] = []

    def broken():
        raise OSError("no such device /dev/video7")

    counter = CameraCounter(broken, [LINE], lambda s, d: states.append((s, d)))
    assert list(counter.crossings(threading.Event())) == []
    assert states == [("offline", "no such device /dev/video7")]


def test_a_counter_needs_a_line() -> None:
    with pytest.raises(ValueError, match="at least one door line"):
        CameraCounter(lambda: Clip(1), [], lambda s, d: None)


def frame(index: int) -> Frame:
    return Frame(index, T0, np.zeros((4, 4, 3), np.uint8))


def test_a_live_relay_drops_the_oldest_when_counting_falls_behind() -> None:
    relay = FrameRelay(keep=3)
    for index in range(5):
        relay.put(frame(index))
    assert [relay.read(0.01).index for _ in range(3)] == [2, 3, 4]
    assert relay.dropped == 2
    assert relay.read(0.01) is None
    assert relay.live


def test_a_file_relay_keeps_every_frame_and_ends_with_the_visitor_camera() -> None:
    relay = FrameRelay(keep_all=True, keep=2)
    got: list[int] = []

    def count():
        while (item := relay.read(1.0)) is not None or relay.live:
            if item is not None:
                got.append(item.index)

    reader = threading.Thread(target=count)
    reader.start()
    for index in range(20):
        relay.put(frame(index))  # waits for room instead of dropping
    relay.close()
    reader.join(timeout=5)
    assert got == list(range(20))
    assert relay.dropped == 0
    assert not relay.live


def test_the_door_view_draws_the_lines_and_is_throttled() -> None:
    view = DoorView(every_s=60.0)
    assert view.jpeg() is None
    image = np.zeros((100, 100, 3), np.uint8)
    view.update(image, [LINE], [(3, 1)])
    first = cv2.imdecode(np.frombuffer(view.jpeg(), np.uint8), cv2.IMREAD_COLOR)
    assert first[50, 20].sum() > 200  # the line is drawn across the middle
    view.update(np.full((100, 100, 3), 255, np.uint8), [LINE], [(4, 1)])
    again = cv2.imdecode(np.frombuffer(view.jpeg(), np.uint8), cv2.IMREAD_COLOR)
    assert again[90, 90].sum() < 100  # within every_s: still the first frame


def test_a_paced_file_plays_at_its_own_rate(tmp_path) -> None:
    from sensors.camera import FrameSource

    path = tmp_path / "ten.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (32, 24))
    for level in range(10):
        writer.write(np.full((24, 32, 3), 20 * level, np.uint8))
    writer.release()
    for paced, at_least_s, at_most_s in (
        (True, 0.34, 5.0),  # ten frames at 25 per second: 0.36 s from the first to the last
        (False, 0.0, 0.3),  # as fast as it decodes
    ):
        with FrameSource(str(path), paced=paced) as source:
            started = time.monotonic()
            frames = list(source)
            took_s = time.monotonic() - started
        assert len(frames) == 10
        assert at_least_s <= took_s <= at_most_s, (paced, took_s)
