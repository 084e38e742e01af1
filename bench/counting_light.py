"""Door counting on real footage under changes of the light, each truth counted as-is and altered.

The alterations stand for what cheap cameras do at a door: the whole clip under-exposed (a dim room)
or low in contrast (rain, fog, a dirty lens), the light dimmed at once (a lamp switched off, a cloud), a
slow fade (dusk, auto exposure settling), exposure flicker (mains light beating with the frame rate: 5
frames brighter, 5 darker) and exposure jitter (auto exposure hunting: a random gain each frame).
Prints the flux method's in/out and errors per truth and alteration, and the totals.

Usage: ``.venv/bin/python bench/counting_light.py [--amplitude 0.06] [TRUTH ...]``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from door_truths import VIDEOS, errors, load_truths, truth_line  # noqa: E402

from station.counting import CountResult, DoorCounter, Method  # noqa: E402

Alteration = Callable[[int], tuple[float, float]]  # frame index -> (gain, offset in grey levels)


def alterations(amplitude: float) -> dict[str, Alteration]:
    """The (gain, offset) each alteration applies to frame ``i``: ``out = gain * in + offset``."""
    drop = 4 * amplitude
    return {
        "as-is": lambda i: (1.0, 0.0),
        "dark": lambda i: (1.0 - 1.6 * drop, 0.0),  # the whole clip under-exposed (0.6 at 0.06)
        "fog": lambda i: (1.0 - 1.6 * drop, 1.6 * drop * 128),  # the whole clip low in contrast
        "dimmed": lambda i: (1.0 if i < 150 else 1.0 - drop, 0.0),
        "fade": lambda i: (1.0 - drop * min(1.0, max(0.0, (i - 100) / 50)), 0.0),
        "flicker": lambda i: (1.0 - amplitude if (i // 5) % 2 else 1.0, 0.0),
        "jitter": lambda i: (1.0 + amplitude * (2 * float(np.random.default_rng(i).random()) - 1), 0.0),
    }


def frames(path: Path) -> tuple[float, Iterator[np.ndarray]]:
    """The clip's frame rate, and its frames in order."""
    capture = cv2.VideoCapture(str(path))
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0

    def read() -> Iterator[np.ndarray]:
        try:
            while True:
                ok, image = capture.read()
                if not ok:
                    return
                yield image
        finally:
            capture.release()

    return fps, read()


def count(
    truth: dict, gain: Alteration, method: Method = Method.FLUX, person_area_px: float | None = None
) -> CountResult:
    """Count the truth's clip across its line with every frame scaled by ``gain``.

    ``person_area_px`` is the line's calibration (``--person-area-px``), None to learn it.
    """
    path = VIDEOS / truth["clip"]
    fps, images = frames(path)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    counter: DoorCounter | None = None
    for index, image in enumerate(images):
        if counter is None:
            size = (image.shape[1], image.shape[0])
            counter = DoorCounter([truth_line(truth, size, person_area_px)], size, method=method)
        alpha, beta = gain(index)
        counter.process(
            cv2.convertScaleAbs(image, alpha=alpha, beta=beta), start + timedelta(seconds=index / fps)
        )
    assert counter is not None, f"no frames in {path}"
    counter.finish()
    return counter.result(0.0)


def main() -> None:
    """Print the table for the truths asked for (every truth with a tolerance by default)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--amplitude",
        type=float,
        default=0.06,
        help="flicker and jitter gain (dimmed and fade: 4x, dark and fog: 6.4x)",
    )
    parser.add_argument("truths", nargs="*", help="truth names (default: every truth with a tolerance)")
    args = parser.parse_args()
    truths = load_truths()
    names = args.truths or [name for name, truth in truths.items() if truth["tolerance"] is not None]
    kinds = alterations(args.amplitude)
    print(f"gain amplitude {args.amplitude}: flux in / out (errors) per alteration")
    print(f"{'truth':<24} {'truth':>7} " + " ".join(f"{kind:>13}" for kind in kinds))
    totals = dict.fromkeys(kinds, 0)
    for name in names:
        truth = truths[name]
        if not (VIDEOS / truth["clip"]).is_file():
            print(f"{name:<24} (no {truth['clip']} in {VIDEOS})")
            continue
        row = f"{name:<24} {truth['in']:>3}/{truth['out']:<3} "
        for kind, gain in kinds.items():
            result = count(truth, gain)
            wrong = errors(result, truth)
            totals[kind] += wrong
            row += f" {result.in_count:>4}/{result.out_count:<3}({wrong:>2})"
        print(row)
    print(f"{'total errors':<32} " + " ".join(f"{totals[kind]:>13}" for kind in kinds))


if __name__ == "__main__":
    main()
