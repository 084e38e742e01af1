"""Hard negatives for the ``not_face`` class, and the false-detection proxy they are measured on.

YuNet, run low enough to find small masked faces, also "finds" the backs and tops of heads, shoulders,
jackets, hands and patterned cloth. The classifier learns to say so (``not_face``) from:

* **video detections**: every detection YuNet makes (down to the detector's lowest score) in the shared door
  and crowd clips ``MINE_CLIPS``: overhead views in which no face is visible (checked by looking at a contact
  sheet of every detection of at least 20 px), aligned by YuNet's own landmarks as the runtime aligns them;
* **synthetic clutter**: patterned cloth, blurred patches of the clips, street-like blocks and poles, aligned
  as a face would be.

``HOLDOUT_CLIPS`` are never mined: they are the false-detection proxy (``false_detections``), with the
street scenes of validation photos (``scenes``). The training photos' backgrounds are not mined: many of
their detections away from the photo's face are other people's faces (crowd photos).
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from station.vision.align import CROP_SIZE_PX, align_face
from station.vision.faces import DEFAULT_SCORE_THRESHOLD, FaceDetector
from station.vision.training import augment

logger = logging.getLogger(__name__)

#: Clips mined for negatives.
MINE_CLIPS = ("train_door_ex02.mp4", "train_door_ex04.mp4", "crosswalk_dense_a.mp4", "plaza_overhead.mp4")
#: Clips never mined: the false-detection proxy.
HOLDOUT_CLIPS = ("train_door_ex03.mp4", "crosswalk_dense_b.mp4")
#: Every this many frames of a mined clip.
MINE_EVERY = 3
#: At most this many negatives per mined clip (evenly drawn), so no clip dominates.
MAX_PER_CLIP = 1500
#: Detections narrower than this are not mined (the station never acts on them).
MIN_WIDTH_PX = 12.0
#: Synthetic negatives made.
SYNTHETIC = 1500


def _frames(path: Path, every: int):
    capture = cv2.VideoCapture(str(path))
    number = 0
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                return
            if number % every == 0:
                yield number, frame
            number += 1
    finally:
        capture.release()


def _context(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    return align_face(image, landmarks, CROP_SIZE_PX, augment.PAD_PX)


def mine_clip(detector: FaceDetector, path: Path, rng: np.random.Generator) -> list[np.ndarray]:
    """Context crops of every detection YuNet makes in a clip (none of them a face).

    Args:
        detector: Face detector.
        path: Video file.
        rng: Random generator (which detections to keep when there are too many).

    Returns:
        Context crops.
    """
    crops = []
    for _, frame in _frames(path, MINE_EVERY):
        for face in detector.detect_all(frame):
            if face.width_px >= MIN_WIDTH_PX:
                crops.append(_context(frame, face.landmarks_array()))
    if len(crops) > MAX_PER_CLIP:
        crops = [crops[i] for i in sorted(rng.choice(len(crops), MAX_PER_CLIP, replace=False))]
    logger.info("%s: %s negatives", path.name, len(crops))
    return crops


def synthetic(clip_paths: list[Path], count: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Clutter aligned as a face would be: cloth, blurred patches of the clips, blocks and poles.

    Args:
        clip_paths: Mined clips (patches are cut from their frames).
        count: How many.
        rng: Random generator.

    Returns:
        Context crops.
    """
    frames = []
    for path in clip_paths:
        frames += [frame for number, frame in _frames(path, 50)]
    size = augment.CONTEXT_PX
    out = []
    for index in range(count):
        kind = index % 3
        if kind == 0:  # patterned cloth, shaded
            patch = augment.fabric(rng, size)
            shade = cv2.resize(rng.uniform(0.5, 1.2, (3, 3)).astype(np.float32), (size, size))
            patch = (patch * shade[..., None]).clip(0, 255).astype(np.uint8)
        elif kind == 1:  # a patch of a clip, any scale, often blurred
            frame = frames[int(rng.integers(len(frames)))]
            side = int(rng.integers(24, min(frame.shape[:2])))
            y = int(rng.integers(0, frame.shape[0] - side + 1))
            x = int(rng.integers(0, frame.shape[1] - side + 1))
            patch = cv2.resize(frame[y : y + side, x : x + side], (size, size))
            if rng.random() < 0.6:
                patch = cv2.GaussianBlur(patch, (0, 0), rng.uniform(1.0, 4.0))
        else:  # blocks and poles
            patch = np.full((size, size, 3), rng.integers(0, 256, 3), np.uint8)
            for _ in range(int(rng.integers(2, 8))):
                x1, y1 = (int(v) for v in rng.integers(0, size, 2))
                x2, y2 = (int(v) for v in rng.integers(0, size, 2))
                colour = rng.integers(0, 256, 3).tolist()
                if rng.random() < 0.6:
                    cv2.rectangle(patch, (x1, y1), (x2, y2), colour, -1)
                else:
                    cv2.line(patch, (x1, y1), (x2, y2), colour, int(rng.integers(1, 10)))
        out.append(patch)
    return out


def mine(detector: FaceDetector, video_dir: Path, seed: int) -> np.ndarray:
    """Every hard negative: video detections and synthetic clutter.

    Args:
        detector: Face detector.
        video_dir: Folder of the shared clips.
        seed: Random seed.

    Returns:
        (N, CONTEXT_PX, CONTEXT_PX, 3) uint8 context crops.
    """
    rng = np.random.default_rng(seed)
    clips = [video_dir / name for name in MINE_CLIPS if (video_dir / name).is_file()]
    crops: list[np.ndarray] = []
    for path in clips:
        crops += mine_clip(detector, path, rng)
    if clips:
        crops += synthetic(clips, SYNTHETIC, rng)
    return np.stack(crops) if crops else np.zeros((0, augment.CONTEXT_PX, augment.CONTEXT_PX, 3), np.uint8)


def false_detections(detect, video_dir: Path, every: int = 5) -> dict:
    """False detections per frame on the held-out clips (no face is visible in them), by width.

    Args:
        detect: ``image -> list of (x1, y1, x2, y2)`` boxes the pipeline acts on.
        video_dir: Folder of the shared clips.
        every: Every this many frames.

    Returns:
        Per clip and over all: frames, and detections per frame of any width, at least 32 px and at least
        64 px wide.
    """
    out: dict = {}
    totals = np.zeros(4)
    for name in HOLDOUT_CLIPS:
        counts = np.zeros(4)
        for _, frame in _frames(video_dir / name, every):
            widths = np.array([box[2] - box[0] for box in detect(frame)])
            counts += (1, len(widths), (widths >= 32).sum(), (widths >= 64).sum())
        totals += counts
        out[name] = _per_frame(counts)
    out["all"] = _per_frame(totals)
    return out


def _per_frame(counts: np.ndarray) -> dict:
    frames = max(1.0, counts[0])
    return {
        "frames": int(counts[0]),
        "per_frame": round(counts[1] / frames, 4),
        "per_frame_32px": round(counts[2] / frames, 4),
        "per_frame_64px": round(counts[3] / frames, 4),
    }


def main() -> None:
    """Print false detections per frame on the held-out clips, by width, as JSON."""
    import argparse
    import json

    from station.vision.masks import DEFAULT_MODEL_PATH, NOT_FACE_MIN, MaskClassifier, MaskDetector

    repo = Path(__file__).resolve().parents[3]
    parser = argparse.ArgumentParser(prog="python -m station.vision.training.negatives", description=__doc__)
    parser.add_argument("--classifier", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument("--video", type=Path, default=repo.parent / "shared" / "datasets" / "video")
    parser.add_argument(
        "--yunet", type=Path, default=repo.parent / "shared" / "models" / "face_detection_yunet_2026may.onnx"
    )
    parser.add_argument(
        "--not-face-min",
        type=float,
        default=NOT_FACE_MIN,
        help="drop not_face detections from this (2: none)",
    )
    parser.add_argument("--score-threshold", type=float, default=DEFAULT_SCORE_THRESHOLD, help="face score")
    args = parser.parse_args()
    detector = FaceDetector(args.yunet, score_threshold=args.score_threshold)
    pipeline = MaskDetector(detector, MaskClassifier(args.classifier), not_face_min=args.not_face_min)
    figures = false_detections(lambda image: [item.face.box for item in pipeline.detect(image)], args.video)
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
