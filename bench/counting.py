"""Door counting speed: frames per second with OpenCV (and FFmpeg decoding) limited to one thread.

Runs on 768x432 (a rendered door scene, and shared footage scaled to it), on 640x360 (the shared
crosswalk footage at its own size) and on the shared 352x288 train-door videos, and prints, for each,
three baselines measured in the same run next to the full pipeline:

- decode: reading the frames only;
- mog2: decoding plus plain MOG2 background subtraction at full size;
- plain: decoding, MOG2, a morphological opening, contours and a nearest-centroid line test (the usual
  recipe, for its speed; its counts are not comparable);
- gerbang: ``station.counting.count_source``, the whole pipeline behind ``gerbang count`` (the flux
  method: background model, tracker, optical flow along each line);
- tracks: the same with ``--method tracks`` (no optical flow).

Usage: ``.venv/bin/python bench/counting.py [--seconds 20]``. The target is at least 25 fps on 768x432.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from door_scenes import FPS, busy_door, write_video  # noqa: E402

from sensors.camera import FrameSource  # noqa: E402
from station.counting import Method, count_source  # noqa: E402
from station.vision.crossings import DoorLine  # noqa: E402

SHARED = ROOT.parent / "shared" / "datasets" / "video"


def open_one_thread(source: int | str) -> cv2.VideoCapture:
    return cv2.VideoCapture(source, cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])


def frames_of(path: Path):
    capture = open_one_thread(str(path))
    while True:
        ok, image = capture.read()
        if not ok:
            break
        yield image
    capture.release()


def timed(run: Callable[[], int]) -> tuple[int, float]:
    started = time.perf_counter()
    frames = run()
    return frames, frames / (time.perf_counter() - started)


def decode_only(path: Path) -> int:
    return sum(1 for _ in frames_of(path))


def mog2_only(path: Path) -> int:
    model = cv2.createBackgroundSubtractorMOG2(detectShadows=True)
    frames = 0
    for image in frames_of(path):
        model.apply(image)
        frames += 1
    return frames


def plain_recipe(path: Path, line_y: float) -> int:
    model = cv2.createBackgroundSubtractorMOG2(detectShadows=True)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    previous: list[tuple[float, float]] = []
    crossings = 0
    frames = 0
    for image in frames_of(path):
        mask = model.apply(image)
        _, mask = cv2.threshold(mask, 200, 255, cv2.THRESH_BINARY)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        centres = []
        for contour in contours:
            if cv2.contourArea(contour) > 0.003 * mask.size:
                x, y, w, h = cv2.boundingRect(contour)
                centres.append((x + w / 2, y + h / 2))
        for cx, cy in centres:
            if previous:
                _, py = min(previous, key=lambda p: (p[0] - cx) ** 2 + (p[1] - cy) ** 2)
                crossings += (py - line_y) * (cy - line_y) < 0
        previous = centres
        frames += 1
    return frames


def gerbang(path: Path, line: DoorLine, method: Method = Method.FLUX) -> int:
    with FrameSource(str(path), opener=open_one_thread) as source:
        return count_source(source, [line], method=method).frames


def upscale(source: Path, path: Path, size: tuple[int, int]) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, size)
    for image in frames_of(source):
        writer.write(cv2.resize(image, size, interpolation=cv2.INTER_LINEAR))
    writer.release()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="Length of the rendered 768x432 scene.")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    print(f"OpenCV {cv2.__version__}, cv2.getNumThreads() = {cv2.getNumThreads()}, decoding with 1 thread")
    with tempfile.TemporaryDirectory() as tmp:
        videos: list[tuple[str, Path, DoorLine]] = []
        scene = Path(tmp) / "scene768.mp4"
        write_video(busy_door(args.seconds), scene)
        videos.append(("rendered door scene", scene, DoorLine((64, 216), (704, 216), (384, 60), band_px=13)))
        door_line_352 = DoorLine((110, 150), (250, 150), (176, 90), band_px=7)
        if SHARED.is_dir():
            big = Path(tmp) / "train768.mp4"
            upscale(SHARED / "train_door_ex02.mp4", big, (768, 432))
            videos.append(
                ("train_door_ex02 scaled", big, DoorLine((240, 225), (545, 225), (384, 135), band_px=13))
            )
            street = Path(tmp) / "crosswalk768.mp4"
            upscale(SHARED / "crosswalk_dense_b.mp4", street, (768, 432))
            videos.append(
                ("crosswalk_dense_b scaled", street, DoorLine((384, 0), (384, 432), (600, 216), band_px=13))
            )
            crossing = DoorLine((320, 0), (320, 360), (500, 180), band_px=11)
            for name in ("crosswalk_dense_a", "crosswalk_dense_b"):
                videos.append((name, SHARED / f"{name}.mp4", crossing))
            for name in ("train_door_ex02", "train_door_ex03", "train_door_ex04"):
                videos.append((name, SHARED / f"{name}.mp4", door_line_352))
        else:
            print(f"({SHARED} not found: 352x288 rows skipped)")
        header = (
            f"{'video':<25} {'size':>8} {'frames':>6} {'decode':>7} {'mog2':>7} {'plain':>7} "
            f"{'tracks':>7} {'gerbang':>8}"
        )
        print(header)
        print("-" * len(header))
        for name, path, line in videos:
            capture = open_one_thread(str(path))
            size = (
                f"{int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))}x{int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))}"
            )
            capture.release()
            frames, decode_fps = timed(lambda path=path: decode_only(path))
            _, mog2_fps = timed(lambda path=path: mog2_only(path))
            _, plain_fps = timed(lambda path=path, line=line: plain_recipe(path, line.start[1]))
            _, tracks_fps = timed(lambda path=path, line=line: gerbang(path, line, Method.TRACKS))
            _, ours_fps = timed(lambda path=path, line=line: gerbang(path, line))
            print(
                f"{name:<25} {size:>8} {frames:>6} {decode_fps:>7.0f} {mog2_fps:>7.0f} "
                f"{plain_fps:>7.0f} {tracks_fps:>7.0f} {ours_fps:>8.0f}"
            )
    print("frames per second, wall clock, one thread; target: gerbang >= 25 fps on 768x432")


if __name__ == "__main__":
    main()
