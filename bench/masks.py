"""Mask detection speed: milliseconds per frame and per face crop, medians over repeated runs.

Builds frames from the shared mask data set's real face photos pasted on a plain scene (640x480 with four
faces; 512x366, the size of the usual street and crowd test photos, with three; and 512x366 with six small
faces of about 40 px, the crowd case, where YuNet is unsure of the masked ones and ``FaceDetector`` looks at
them again), then measures in one run:

- yunet: one YuNet pass over the (enlarged) image alone (the baseline: what any YuNet-based detector pays);
- gerbang: ``MaskDetector.detect``, detection (with the second look at unsure faces) plus alignment and
  classification of every face (what ``gerbang masks detect`` does per image), median and 90th percentile;
- classify/crop: one aligned 64 px crop through the classifier (``cv2.dnn``);
- align+classify/face: cutting the aligned crop out of a frame and classifying it;
- street: 60 synthetic street scenes of 512x366 (``station.vision.training.scenes``: three to six training
  photos of people with faces of 32-80 px on a cluttered background, as crowd photos come), each frame
  timed twice: the closest to a real photo set, with its own YuNet-only baseline.

With ``--compare FILE`` (another classifier, such as the previous release's), the street frames are also
timed through the same pipeline with that classifier, interleaved with this one's: a baseline from the
same run, whatever the machine's spell.

Usage: ``.venv/bin/python bench/masks.py [--runs 200] [--threads N] [--compare FILE]``. The target is
detect + classify within 20 ms per 512x366 image on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from station.vision.align import align_face  # noqa: E402
from station.vision.faces import FaceDetector  # noqa: E402
from station.vision.masks import MaskClassifier, MaskDetector  # noqa: E402
from station.vision.models import ModelStore  # noqa: E402
from station.vision.training.data import list_samples  # noqa: E402
from station.vision.training.scenes import face_boxes, street_frame  # noqa: E402

SHARED = ROOT.parent / "shared"
FACES = [
    "with_mask/rwmfd",
    "without_mask/fmd",
    "incorrect/mfn",
    "with_mask/fmd",
]


def scene(width_px: int, height_px: int, faces: int, face_px: int) -> np.ndarray:
    """A frame with ``faces`` real face photos of about ``face_px`` pixels on a soft gradient."""
    rng = np.random.default_rng(7)
    gradient = np.linspace(60, 200, width_px, dtype=np.float32)[None, :, None]
    frame = np.broadcast_to(gradient, (height_px, width_px, 3)).copy()
    frame += rng.normal(0, 6, frame.shape).astype(np.float32)
    frame = frame.clip(0, 255).astype(np.uint8)
    root = SHARED / "datasets" / "masks"
    for slot in range(faces):
        folder, prefix = FACES[slot % len(FACES)].split("/")
        path = sorted((root / folder).glob(f"{prefix}_*.jpg"))[slot]
        photo = cv2.imread(str(path))
        scale = face_px / max(photo.shape[:2])
        photo = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        x = 20 + slot * (width_px - 40) // faces
        y = (height_px - photo.shape[0]) // 2
        frame[y : y + photo.shape[0], x : x + photo.shape[1]] = photo
    return frame


def street_frames(detector: FaceDetector, count: int = 60) -> list[np.ndarray]:
    """``count`` street scenes of 512x366 with three to six training photos of 32-80 px faces each."""
    samples = [s for s in list_samples(SHARED / "datasets" / "masks") if s.split == "train"]
    chosen = np.random.default_rng(11).permutation(len(samples))[:400]  # every class, as in the data set
    photos = [cv2.imread(str(samples[index].path)) for index in chosen]
    faces, _ = face_boxes(detector, photos)
    rng = np.random.default_rng(3)
    frames = []
    for _ in range(count):
        chosen = rng.permutation(len(photos))[: int(rng.integers(3, 7))]
        frame, _ = street_frame(rng, photos, faces, chosen, 32, 80, (512, 366))
        frames.append(frame)
    return frames


def times_ms(call: Callable[[], object], runs: int) -> list[float]:
    for _ in range(5):
        call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000.0)
    return times


def median_ms(call: Callable[[], object], runs: int) -> float:
    return statistics.median(times_ms(call, runs))


def p90(times: list[float]) -> float:
    return statistics.quantiles(times, n=10)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--threads", type=int, default=None, help="cv2.setNumThreads (default: OpenCV's own)")
    parser.add_argument(
        "--compare", type=Path, default=None, help="another classifier, timed in the same run"
    )
    args = parser.parse_args()
    if args.threads is not None:
        cv2.setNumThreads(args.threads)
    print(f"OpenCV {cv2.__version__}, threads: {cv2.getNumThreads()}, CPUs: {cv2.getNumberOfCPUs()}")
    detector = FaceDetector(store=ModelStore(SHARED / "models", download=False))
    classifier = MaskClassifier()
    pipeline = MaskDetector(detector, classifier)
    print(f"{'frame':<18}{'faces':>6}{'yunet ms':>10}{'gerbang ms':>12}{'p90 ms':>8}")
    for width, height, count, face_px in ((640, 480, 4, 110), (512, 366, 3, 90), (512, 366, 6, 44)):
        frame = scene(width, height, count, face_px)
        found = pipeline.detect(frame)
        yunet = median_ms(lambda frame=frame: detector.detect(frame, verify=False), args.runs)
        full = times_ms(lambda frame=frame: pipeline.detect(frame), args.runs)
        labels = ", ".join(item.verdict.label.value for item in found)
        name = f"{width}x{height}" + (f" ({face_px} px)" if face_px < 64 else "")
        median = statistics.median(full)
        print(f"{name:<18}{len(found):>6}{yunet:>10.2f}{median:>12.2f}{p90(full):>8.2f}   ({labels})")
    frames = street_frames(detector)
    yunet_street = [
        t for frame in frames for t in times_ms(lambda f=frame: detector.detect(f, verify=False), 2)
    ]
    other = MaskDetector(detector, MaskClassifier(args.compare)) if args.compare else None
    full_street, other_street = [], []
    for frame in frames:  # interleaved, so both see the same spell of the machine
        full_street += times_ms(lambda f=frame: pipeline.detect(f), 2)
        if other is not None:
            other_street += times_ms(lambda f=frame: other.detect(f), 2)
    faces_street = sum(len(pipeline.detect(frame)) for frame in frames) / len(frames)
    print(
        f"{'512x366 street':<18}{faces_street:>6.1f}{statistics.median(yunet_street):>10.2f}"
        f"{statistics.median(full_street):>12.2f}{p90(full_street):>8.2f}   "
        f"({len(frames)} frames, faces found per frame on average)"
    )
    if other is not None:
        faces_other = sum(len(other.detect(frame)) for frame in frames) / len(frames)
        print(
            f"{'  ' + args.compare.name:<18}{faces_other:>6.1f}{'':>10}"
            f"{statistics.median(other_street):>12.2f}{p90(other_street):>8.2f}   (same frames, --compare)"
        )
    frame = scene(640, 480, 4, 110)
    face = detector.detect(frame)[0]
    crop = align_face(frame, face.landmarks_array())
    per_crop = median_ms(lambda: classifier.classify_crops([crop]), args.runs)
    per_face = median_ms(lambda: classifier.classify_faces(frame, [face]), args.runs)
    print(f"classify/crop: {per_crop:.3f} ms   align+classify/face: {per_face:.3f} ms")


if __name__ == "__main__":
    main()
