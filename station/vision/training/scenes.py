"""End-to-end check on synthetic scenes: validation photos pasted small into frames, run through the runtime.

Each frame is 640x480 with four validation photos whose faces are scaled to a chosen width; the pipeline
behind ``gerbang masks detect`` must find each face (a detection whose centre lies on the photo) and label it
right. Bands of face width, and harder frames (dark, blurred), are reported separately. It is a proxy for
crowd photos: the photos are the data set's crops, never trained on, but the scenes are not real ones.

Usage: ``python -m station.vision.training.scenes [--classifier FILE]``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from station.vision.faces import FaceDetector
from station.vision.masks import DEFAULT_MODEL_PATH, LABELS, MaskClassifier, MaskDetector, MaskLabel
from station.vision.training.data import list_samples

_REPO = Path(__file__).resolve().parents[3]
BANDS_PX = {"32-48": (32, 48), "48-64": (48, 64), "64-128": (64, 128)}
CONDITIONS = ("plain", "dark", "blurred")


def _background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    small = rng.integers(30, 220, (6, 8, 3)).astype(np.uint8)
    frame = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.clip(frame.astype(np.int16) + rng.normal(0, 5, frame.shape), 0, 255).astype(np.uint8)


def _condition(frame: np.ndarray, condition: str) -> np.ndarray:
    if condition == "dark":
        return (np.power(frame / 255.0, 1.8) * 0.55 * 255).astype(np.uint8)
    if condition == "blurred":
        return cv2.GaussianBlur(frame, (0, 0), 1.2)
    return frame


def run(classifier_path: Path, data_dir: Path, yunet_path: Path, seed: int = 5) -> dict:
    """Build the scenes and score the pipeline on them.

    Args:
        classifier_path: Mask classifier ONNX file.
        data_dir: The mask data set.
        yunet_path: YuNet ONNX file.
        seed: Scene seed.

    Returns:
        Figures per condition and band of face width.
    """
    detector = FaceDetector(yunet_path)
    pipeline = MaskDetector(detector, MaskClassifier(classifier_path))
    samples = [s for s in list_samples(data_dir) if s.split == "val"]
    photos = [cv2.imread(str(s.path)) for s in samples]
    face_widths = []
    for photo in photos:
        face = detector.find_in_crop(photo)
        face_widths.append(face.width_px if face is not None else 0.9 * photo.shape[1])
    rng = np.random.default_rng(seed)
    results: dict = {}
    for condition in CONDITIONS:
        for band, (low, high) in BANDS_PX.items():
            truth: list[int] = []
            guess: list[int | None] = []
            order = rng.permutation(len(samples))
            for start in range(0, len(order), 4):
                frame = _background(rng, 640, 480)
                placed = []
                for slot, index in enumerate(order[start : start + 4]):
                    scale = rng.uniform(low, high) / face_widths[index]
                    photo = cv2.resize(photos[index], None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
                    height, width = photo.shape[:2]
                    x = slot * 160 + int(rng.integers(0, max(1, 160 - width)))
                    y = int(rng.integers(0, max(1, 480 - height)))
                    frame[y : y + height, x : x + width] = photo[: 480 - y, : 640 - x]
                    placed.append((index, (x, y, x + width, y + height)))
                found = pipeline.detect(_condition(frame, condition))
                for index, (x1, y1, x2, y2) in placed:
                    truth.append(samples[index].label)
                    hits = [
                        item
                        for item in found
                        if x1 <= (item.face.box[0] + item.face.box[2]) / 2 <= x2
                        and y1 <= (item.face.box[1] + item.face.box[3]) / 2 <= y2
                    ]
                    best = max(hits, key=lambda item: item.face.score, default=None)
                    guess.append(None if best is None else LABELS.index(best.verdict.label))
            results[f"{condition}/{band}px"] = _score(truth, guess)
    return results


def _score(truth: list[int], guess: list[int | None]) -> dict:
    truth_array = np.array(truth)
    found = np.array([g is not None for g in guess])
    labels = np.array([-1 if g is None else g for g in guess])
    with_mask, without, incorrect = (LABELS.index(label) for label in MaskLabel)
    out = {
        "faces": len(truth),
        "found": round(float(found.mean()), 4),
        "end_to_end": round(float((labels == truth_array).mean()), 4),
        "label_accuracy_when_found": round(float((labels[found] == truth_array[found]).mean()), 4),
    }
    bare = found & (truth_array == without)
    out["bare_caught_when_found"] = round(float((labels[bare] != with_mask).mean()), 4)
    wrong = found & (truth_array == incorrect)
    out["incorrect_caught_when_found"] = round(float((labels[wrong] != with_mask).mean()), 4)
    return out


def main() -> None:
    """Print the scene figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m station.vision.training.scenes", description=__doc__)
    parser.add_argument("--classifier", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument("--data", type=Path, default=_REPO.parent / "shared" / "datasets" / "masks")
    parser.add_argument(
        "--yunet", type=Path, default=_REPO.parent / "shared" / "models" / "face_detection_yunet_2026may.onnx"
    )
    args = parser.parse_args()
    print(json.dumps(run(args.classifier, args.data, args.yunet), indent=1))


if __name__ == "__main__":
    main()
