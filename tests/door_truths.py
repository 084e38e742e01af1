"""Truths of door counting made by looking at real footage (``station/truths/*.json``), and counting them.

Each truth is one clip of ``../shared/datasets/video`` with one line, its counts, its crossings (frame,
position, direction) and ``tolerance``, the in + out errors the tests allow (None for a case kept as a
known weakness). Used by ``tests/station/test_counting_truths.py`` and ``bench/counting_truths.py``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sensors.camera import FrameSource
from station.count_cli import default_band_px
from station.counting import CountResult, Method, count_source
from station.vision.crossings import DoorLine

TRUTHS = Path(__file__).parent / "station" / "truths"
VIDEOS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "video"


def load_truths() -> dict[str, dict]:
    """Return every truth by name (its file's stem)."""
    return {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(TRUTHS.glob("*.json"))}


def truth_line(truth: dict, frame_size: tuple[int, int], person_area_px: float | None = None) -> DoorLine:
    """The truth's line, with the band ``gerbang count`` gives a frame of ``frame_size``."""
    x1, y1, x2, y2 = truth["line"]
    band_px = default_band_px(frame_size)
    return DoorLine(
        (x1, y1), (x2, y2), tuple(truth["in_point"]), band_px=band_px, person_area_px=person_area_px
    )


def count_truth(
    truth: dict, method: Method = Method.FLUX, person_area_px: float | None = None
) -> CountResult:
    """Count the truth's clip across its line, as ``gerbang count`` does with the default band.

    ``person_area_px`` is the line's calibration (``--person-area-px``), None to learn it.
    """
    with FrameSource(str(VIDEOS / truth["clip"]), start=datetime(2026, 1, 1, tzinfo=UTC)) as source:
        return count_source(source, [truth_line(truth, source.frame_size, person_area_px)], method=method)


def errors(result: CountResult, truth: dict) -> int:
    """In and out errors together: |in - truth in| + |out - truth out|."""
    return abs(result.in_count - truth["in"]) + abs(result.out_count - truth["out"])
