"""End-to-end check on synthetic scenes: validation photos pasted small into frames, run through the runtime.

The pipeline behind ``gerbang masks detect`` must find each pasted face (a detection whose centre lies on the
photo) and label it right. Bands of face width, and harder frames (dark, blurred), are reported separately.
It is a proxy for crowd photos: the photos are the data set's crops, never trained on, but the scenes are
not real ones. Two kinds of scene:

- ``pasted``: four photos pasted as they are into a 640x480 frame of smooth colour. Most photos are tight
  crops without hair or shoulders, whose hard edges a real face does not have: pessimistic for finding.
- ``street`` (default): frames of 400x300 to 1000x700 (the sizes of the public crowd and street photos),
  three to six photos each on a cluttered background (blocks, poles, wires), every photo blended in with
  a soft edge above a body (neck and shoulders). Still synthetic, but closer to a photo of people.

Each cell is reported twice: over every photo, and over the photos that show a **whole face** (YuNet finds
it inside the photo, at least 30 % of the photo's width). The others are extreme crops (forehead or chin cut
off, so the scene holds half a face) or wide shots whose face is much smaller than the band: artefacts of
the proxy that a real photo of a person does not have. ``crowd_mix`` weighs each class's end-to-end figure
by its share in the public crowd photo sets (``CROWD_SHARES``: 79 % masked, 18 % bare, 3 % below the nose).
The classifier runs as the station runs it: no prior (``--prior`` sets one), with_mask only when at least
``--with-mask-min`` likely (``mask_rule``), detections it calls ``not_face`` dropped (``--not-face-min``).
Every cell also counts **false detections**: detections acted on whose centre lies on no photo, per frame,
of any width and at least 32 px wide; and the end-to-end figure per class and source (file-name prefix
``fmd``, ``rwmfd``, ``mfn``), so no collection's class shares hide behind the total.

Scenes of **validation** photos measure; scenes of a seeded sample of ``TRAIN_SAMPLE`` **training** photos
(``--split train``) are the ones to tune settings on.

Usage: ``python -m station.vision.training.scenes [--classifier FILE] [--kind street|pasted]
[--split val|train] [--prior 0.75,0.18,0.07|none]``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from station.mask_rule import WITH_MASK_MIN
from station.vision.faces import DEFAULT_SCORE_THRESHOLD, FaceDetector
from station.vision.masks import (
    DEFAULT_MODEL_PATH,
    LABELS,
    NOT_FACE_MIN,
    MaskClassifier,
    MaskDetector,
    MaskLabel,
    parse_prior,
)
from station.vision.training.data import list_samples

_REPO = Path(__file__).resolve().parents[3]
BANDS_PX = {"32-48": (32, 48), "48-64": (48, 64), "64-128": (64, 128)}
CONDITIONS = ("plain", "dark", "blurred")
KINDS = ("street", "pasted")
#: Frame sizes of ``street`` scenes, as the public crowd and street photos come.
STREET_SIZES_PX = ((400, 300), (480, 320), (512, 366), (600, 400), (640, 480), (800, 533), (1000, 700))
SPLITS = ("val", "train")
#: Training photos drawn (seeded) for ``--split train``: scenes of all of them would take half an hour.
TRAIN_SAMPLE = 900
#: Share of each class (``LABELS`` order) among the faces of the public crowd and street photo sets.
CROWD_SHARES = (0.79, 0.18, 0.03)
#: A photo shows a whole face when YuNet's box lies inside it and is at least this share of its width.
WHOLE_FACE_MIN_SHARE = 0.3


def _background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    small = rng.integers(30, 220, (6, 8, 3)).astype(np.uint8)
    frame = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.clip(frame.astype(np.int16) + rng.normal(0, 5, frame.shape), 0, 255).astype(np.uint8)


def _street_background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """Smooth colour with blocks, poles and wires: edges and corners as a street has."""
    frame = _background(rng, width, height).astype(np.float32)
    for _ in range(int(rng.integers(8, 25))):
        x1, y1 = int(rng.integers(0, width)), int(rng.integers(0, height))
        x2 = x1 + int(rng.integers(10, width // 3))
        y2 = y1 + int(rng.integers(10, height // 3))
        colour = rng.integers(0, 256, 3).tolist()
        if rng.random() < 0.7:
            cv2.rectangle(frame, (x1, y1), (x2, y2), colour, -1)
        else:
            cv2.line(frame, (x1, y1), (x2, y2), colour, int(rng.integers(1, 6)))
    frame = cv2.GaussianBlur(frame, (0, 0), 1.0) + rng.normal(0, 4, frame.shape)
    return frame.clip(0, 255).astype(np.uint8)


def _blend_person(
    frame: np.ndarray,
    photo: np.ndarray,
    x: int,
    y: int,
    face: tuple[float, float, float, float],
    rng: np.random.Generator,
) -> None:
    """Draw a neck and shoulders under the face, then blend the photo in with a soft edge."""
    height, width = photo.shape[:2]
    fx1, _, fx2, fy2 = face
    face_w = fx2 - fx1
    centre_x = x + (fx1 + fx2) / 2
    skin = photo[int(fy2 * 0.8) : int(fy2), int(fx1) : int(fx2)].reshape(-1, 3)
    skin_colour = skin.mean(axis=0).tolist() if len(skin) else [120.0, 140.0, 170.0]
    neck_top, neck_bottom = y + fy2 - 0.1 * face_w, y + fy2 + 0.45 * face_w
    cv2.rectangle(
        frame,
        (round(centre_x - 0.22 * face_w), round(neck_top)),
        (round(centre_x + 0.22 * face_w), round(neck_bottom)),
        skin_colour,
        -1,
    )
    cv2.ellipse(
        frame,
        (round(centre_x), round(neck_bottom + 0.55 * face_w)),
        (round(1.1 * face_w), round(0.6 * face_w)),
        0,
        180,
        360,
        rng.integers(20, 220, 3).tolist(),
        -1,
    )
    ramp = max(2.0, 0.12 * min(width, height))
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    inside = np.minimum(np.minimum(xx + 0.5, width - 0.5 - xx), np.minimum(yy + 0.5, height - 0.5 - yy))
    alpha = np.clip(inside / ramp, 0.0, 1.0)[..., None]
    y2, x2 = min(frame.shape[0], y + height), min(frame.shape[1], x + width)
    alpha = alpha[: y2 - y, : x2 - x]
    region = frame[y:y2, x:x2].astype(np.float32)
    frame[y:y2, x:x2] = (alpha * photo[: y2 - y, : x2 - x] + (1 - alpha) * region).astype(np.uint8)


def _condition(frame: np.ndarray, condition: str) -> np.ndarray:
    if condition == "dark":
        return (np.power(frame / 255.0, 1.8) * 0.55 * 255).astype(np.uint8)
    if condition == "blurred":
        return cv2.GaussianBlur(frame, (0, 0), 1.2)
    return frame


def run(
    classifier_path: Path,
    data_dir: Path,
    yunet_path: Path,
    seed: int = 5,
    kind: str = "street",
    split: str = "val",
    prior: tuple[float, ...] | None = None,
    with_mask_min: float = WITH_MASK_MIN,
    not_face_min: float = NOT_FACE_MIN,
    score_threshold: float = DEFAULT_SCORE_THRESHOLD,
) -> dict:
    """Build the scenes and score the pipeline on them.

    Args:
        classifier_path: Mask classifier ONNX file.
        data_dir: The mask data set.
        yunet_path: YuNet ONNX file.
        seed: Scene seed.
        kind: ``street`` or ``pasted`` (see the module's description).
        split: ``val`` (to measure) or ``train`` (a sample of training photos, to tune on).
        prior: The classifier's prior (see ``masks.MaskClassifier``); ``None``: the network's own.
        with_mask_min: See ``mask_rule.decide``.
        not_face_min: See ``masks.MaskDetector`` (above 1: nothing is dropped).
        score_threshold: The face detector's score threshold (``faces.FaceDetector``).

    Returns:
        Figures per condition and band of face width: ``all`` photos and ``whole_faces`` only.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    detector = FaceDetector(yunet_path, score_threshold=score_threshold)
    classifier = MaskClassifier(classifier_path, prior=prior, with_mask_min=with_mask_min)
    pipeline = MaskDetector(detector, classifier, not_face_min=not_face_min)
    samples = [s for s in list_samples(data_dir) if s.split == split]
    if split == "train":
        chosen = np.random.default_rng(11).permutation(len(samples))[:TRAIN_SAMPLE]
        samples = [samples[i] for i in chosen]
    photos = [cv2.imread(str(s.path)) for s in samples]
    faces, whole = face_boxes(detector, photos)
    rng = np.random.default_rng(seed)
    results: dict = {}
    for condition in CONDITIONS:
        for band, (low, high) in BANDS_PX.items():
            truth: list[int] = []
            guess: list[int | None] = []
            complete: list[bool] = []
            sources: list[str] = []
            frames, false_any, false_32 = 0, 0, 0
            order = rng.permutation(len(samples))
            start = 0
            while start < len(order):
                if kind == "pasted":
                    frame, placed = pasted_frame(rng, photos, faces, order[start : start + 4], low, high)
                else:
                    width, height = STREET_SIZES_PX[int(rng.integers(len(STREET_SIZES_PX)))]
                    count = int(np.clip(width // 160, 3, 6))
                    frame, placed = street_frame(
                        rng, photos, faces, order[start : start + count], low, high, (width, height)
                    )
                start += len(placed)
                found = pipeline.detect(_condition(frame, condition))
                frames += 1
                for item in found:
                    cx, cy = (
                        (item.face.box[0] + item.face.box[2]) / 2,
                        (item.face.box[1] + item.face.box[3]) / 2,
                    )
                    if not any(x1 <= cx <= x2 and y1 <= cy <= y2 for _, (x1, y1, x2, y2) in placed):
                        false_any += 1
                        false_32 += item.face.width_px >= 32
                for index, (x1, y1, x2, y2) in placed:
                    sources.append(f"{LABELS[samples[index].label].value}/{samples[index].source}")
                    truth.append(samples[index].label)
                    complete.append(whole[index])
                    hits = [
                        item
                        for item in found
                        if x1 <= (item.face.box[0] + item.face.box[2]) / 2 <= x2
                        and y1 <= (item.face.box[1] + item.face.box[3]) / 2 <= y2
                    ]
                    best = max(hits, key=lambda item: item.face.score, default=None)
                    guess.append(None if best is None else LABELS.index(best.verdict.label))
            results[f"{condition}/{band}px"] = {
                "all": _score(truth, guess),
                "whole_faces": _score(
                    [t for t, c in zip(truth, complete, strict=True) if c],
                    [g for g, c in zip(guess, complete, strict=True) if c],
                ),
                "false_detections_per_frame": round(false_any / max(1, frames), 4),
                "false_detections_32px_per_frame": round(false_32 / max(1, frames), 4),
                "end_to_end_by_source": {
                    group: _score(
                        [t for t, g in zip(truth, sources, strict=True) if g == group],
                        [x for x, g in zip(guess, sources, strict=True) if g == group],
                    )["end_to_end"]
                    for group in sorted(set(sources))
                },
            }
    return results


def face_boxes(
    detector: FaceDetector, photos: list[np.ndarray]
) -> tuple[list[tuple[float, float, float, float]], list[bool]]:
    """Where each photo's face is, and whether the photo shows it whole.

    Args:
        detector: Face detector (``find_in_crop``).
        photos: BGR face photos of the data set.

    Returns:
        ``(boxes, whole)``: the face's box in each photo (the middle 90 % of the photo when YuNet finds
        none), and whether it is a whole face (see ``WHOLE_FACE_MIN_SHARE``).
    """
    boxes, whole = [], []
    for photo in photos:
        face = detector.find_in_crop(photo)
        height, width = photo.shape[:2]
        boxes.append(
            face.box if face is not None else (0.05 * width, 0.05 * height, 0.95 * width, 0.95 * height)
        )
        whole.append(face is not None and _whole_face(face.box, width, height))
    return boxes, whole


def _whole_face(box: tuple[float, float, float, float], width: int, height: int) -> bool:
    """Whether a face box lies inside its photo (2 % leeway at the sides) and fills enough of its width."""
    x1, y1, x2, y2 = box
    face_w = x2 - x1
    return (
        x1 >= -0.02 * face_w
        and y1 >= 0
        and x2 <= width + 0.02 * face_w
        and y2 <= height
        and face_w >= WHOLE_FACE_MIN_SHARE * width
    )


def pasted_frame(
    rng: np.random.Generator,
    photos: list[np.ndarray],
    faces: list[tuple[float, float, float, float]],
    indices: np.ndarray,
    low: int,
    high: int,
) -> tuple[np.ndarray, list]:
    """A 640x480 frame of smooth colour with up to four photos pasted as they are, one per column.

    Args:
        rng: Random generator.
        photos: BGR face photos.
        faces: The face's box in each photo (``face_boxes``).
        indices: Which photos to place, one per column.
        low: Smallest face width, pixels.
        high: Largest face width, pixels.

    Returns:
        ``(frame, placed)``: the BGR frame and ``(photo index, (x1, y1, x2, y2))`` of every photo placed.
    """
    frame = _background(rng, 640, 480)
    placed = []
    for slot, index in enumerate(indices):
        scale = rng.uniform(low, high) / (faces[index][2] - faces[index][0])
        photo = cv2.resize(photos[index], None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        height, width = photo.shape[:2]
        x = slot * 160 + int(rng.integers(0, max(1, 160 - width)))
        y = int(rng.integers(0, max(1, 480 - height)))
        frame[y : y + height, x : x + width] = photo[: 480 - y, : 640 - x]
        placed.append((index, (x, y, x + width, y + height)))
    return frame, placed


def street_frame(
    rng: np.random.Generator,
    photos: list[np.ndarray],
    faces: list[tuple[float, float, float, float]],
    indices: np.ndarray,
    low: int,
    high: int,
    size: tuple[int, int],
) -> tuple[np.ndarray, list]:
    """A cluttered frame of ``size`` with one person (photo, neck, shoulders) per column.

    Args:
        rng: Random generator.
        photos: BGR face photos.
        faces: The face's box in each photo (``face_boxes``).
        indices: Which photos to place, one per column.
        low: Smallest face width, pixels.
        high: Largest face width, pixels.
        size: Frame width and height, pixels.

    Returns:
        ``(frame, placed)``: the BGR frame and ``(photo index, (x1, y1, x2, y2))`` of every photo placed.
    """
    frame_w, frame_h = size
    frame = _street_background(rng, frame_w, frame_h)
    column = frame_w // len(indices)
    placed = []
    for slot, index in enumerate(indices):
        scale = rng.uniform(low, high) / (faces[index][2] - faces[index][0])
        # a photo taller than the frame's upper part or wider than its column is shrunk to fit
        scale *= min(
            1.0, 0.7 * frame_h / (scale * photos[index].shape[0]), column / (scale * photos[index].shape[1])
        )
        photo = cv2.resize(photos[index], None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        height, width = photo.shape[:2]
        x = slot * column + int(rng.integers(0, max(1, column - width)))
        y = int(rng.integers(0, max(1, frame_h - int(1.3 * height))))
        face = tuple(v * scale for v in faces[index])
        _blend_person(frame, photo, x, y, face, rng)
        placed.append((index, (x, y, x + width, y + height)))
    return frame, placed


def _rate(hits: np.ndarray) -> float | None:
    """The share of true values, rounded; ``None`` (JSON ``null``) when there is nothing to count."""
    return round(float(hits.mean()), 4) if hits.size else None


def _score(truth: list[int], guess: list[int | None]) -> dict:
    truth_array = np.array(truth, dtype=int)
    found = np.array([g is not None for g in guess], dtype=bool)
    labels = np.array([-1 if g is None else g for g in guess], dtype=int)
    with_mask, without, incorrect = (LABELS.index(label) for label in MaskLabel)
    right = labels == truth_array
    present = [index for index in range(len(LABELS)) if (truth_array == index).any()]
    total = sum(CROWD_SHARES[index] for index in present)
    return {
        "faces": len(truth),
        "found": _rate(found),
        "end_to_end": _rate(right),
        "label_accuracy_when_found": _rate(right[found]),
        "crowd_mix": round(
            sum(CROWD_SHARES[i] / total * float(right[truth_array == i].mean()) for i in present), 4
        )
        if present
        else None,
        "bare_caught_when_found": _rate(labels[found & (truth_array == without)] != with_mask),
        "incorrect_caught_when_found": _rate(labels[found & (truth_array == incorrect)] != with_mask),
    }


def main() -> None:
    """Print the scene figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m station.vision.training.scenes", description=__doc__)
    parser.add_argument("--classifier", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument("--data", type=Path, default=_REPO.parent / "shared" / "datasets" / "masks")
    parser.add_argument(
        "--yunet", type=Path, default=_REPO.parent / "shared" / "models" / "face_detection_yunet_2026may.onnx"
    )
    parser.add_argument("--kind", choices=KINDS, default="street", help="kind of scene (see above)")
    parser.add_argument("--split", choices=SPLITS, default="val", help="photos of this split (see above)")
    parser.add_argument(
        "--prior",
        type=parse_prior,
        default=None,
        help="the classifier's prior: three shares (with_mask, without_mask, incorrect) or 'none' (default)",
    )
    parser.add_argument("--with-mask-min", type=float, default=WITH_MASK_MIN, help="see mask_rule.decide")
    parser.add_argument(
        "--not-face-min",
        type=float,
        default=NOT_FACE_MIN,
        help="drop not_face detections from this (2: none)",
    )
    parser.add_argument("--score-threshold", type=float, default=DEFAULT_SCORE_THRESHOLD, help="face score")
    args = parser.parse_args()
    figures = run(
        args.classifier,
        args.data,
        args.yunet,
        kind=args.kind,
        split=args.split,
        prior=args.prior,
        with_mask_min=args.with_mask_min,
        not_face_min=args.not_face_min,
        score_threshold=args.score_threshold,
    )
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
