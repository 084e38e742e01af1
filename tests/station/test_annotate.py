from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from station.vision.annotate import AnnotationError, CountAnnotator, VideoOut
from station.vision.crossings import DoorLine, LineCounter
from station.vision.tracking import Track


@pytest.mark.parametrize(
    ("name", "fourcc"),
    [
        ("out.mp4", "mp4v"),  # the pip wheels' MPEG-4 encoder (no H.264 encoder there)
        ("out.avi", "MJPG"),  # Motion JPEG in AVI
        ("out.mkv", "mp4v"),  # Matroska takes MPEG-4 too
    ],
)
def test_video_out_picks_a_working_codec(tmp_path: Path, name: str, fourcc: str) -> None:
    out = VideoOut(tmp_path / name, 25.0, (64, 48))
    assert out.fourcc == fourcc
    for level in range(5):
        out.write(np.full((48, 64, 3), 40 * level, np.uint8))
    out.close()
    capture = cv2.VideoCapture(str(tmp_path / name))
    frames = 0
    while capture.read()[0]:
        frames += 1
    assert frames == 5


def test_video_out_into_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AnnotationError, match="no such directory"):
        VideoOut(tmp_path / "missing" / "out.mp4", 25.0, (64, 48))


def test_drawing_leaves_the_frame_alone_and_marks_lines_and_tracks() -> None:
    image = np.zeros((100, 200, 3), np.uint8)
    counter = LineCounter(DoorLine((10, 50), (190, 50), (100, 10)))
    track = Track(
        track_id=3,
        box=(80, 60, 30, 30),
        anchor=(95, 75),
        velocity=(0, -2),
        hits=5,
        confirmed=True,
        origin=None,
        parent_id=None,
        coasting=False,
        missed=0,
        travelled_px=40,
    )
    drawn = CountAnnotator().draw(image, [counter], [track], {3: [(95, 95), (95, 85), (95, 75)]})
    assert not image.any()  # the input is not drawn on
    assert drawn[50, 20].any()  # the line
    assert drawn[60, 80].any()  # the track's box
