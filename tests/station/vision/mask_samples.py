"""Helpers of the vision tests: images of the shared mask data set (repo_root/../shared), scenes of them."""

from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[3]
SHARED = REPO / ".." / "shared"
MODELS = SHARED / "models"
MASKS = SHARED / "datasets" / "masks"


def shared_image(name: str) -> np.ndarray:
    """Read ``class/prefix_n``: the n-th (sorted) image of a class and source of the shared data set."""
    folder, rest = name.split("/")
    prefix, index = rest.rsplit("_", 1)
    path = sorted((MASKS / folder).glob(f"{prefix}_*.jpg"))[int(index)]
    return cv2.imread(str(path))


def paste_scene(photos: list[np.ndarray], face_px: int, size=(640, 480)) -> np.ndarray:
    """A grey frame with the photos side by side, each shrunk to ``face_px`` on its longer side."""
    width, height = size
    frame = np.full((height, width, 3), 128, np.uint8)
    for slot, photo in enumerate(photos):
        scale = face_px / max(photo.shape[:2])
        small = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        x = 20 + slot * (width - 40) // len(photos)
        y = (height - small.shape[0]) // 2
        frame[y : y + small.shape[0], x : x + small.shape[1]] = small
    return frame
