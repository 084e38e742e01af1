"""From a stable reading to the decision on the kiosk: p50 and p95 over many visitors.

The thermometer is a real pty carrying GY-MCU90614 frames; the station, its journal and its kiosk run
as in production; a client reads the kiosk's Server-Sent Events. For each visitor the bench writes
the plateau's frames but the last, waits until they are taken, then writes the last one (the reading
that makes the plateau stable) and times until the kiosk's stream carries the decision.

Baseline, in the same run: the same path for a beam-pair crossing (pty -> station -> journal -> SSE).

With ``--vision`` the station does the real work of a camera station at the same time: the visitor
camera shows a masked face from ``../shared/datasets/masks`` that YuNet and the mask classifier look at
every frame, and the door is counted by camera (the flux method) on a rendered 768x432 door video played
at its own rate; the beam baseline is then left out (the door has no beams).

    .venv/bin/python bench/station_latency.py [--visitors 50] [--vision]
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is called station.py: keep its folder from shadowing the station package.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import json
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime

import cv2
import numpy as np

from sensors.beams import encode_state
from sensors.camera import Frame
from sensors.emulators.pty import PtyDevice
from sensors.thermometer.gy_mcu90614 import encode
from station.config import parse
from station.core import FaceObservation
from station.events import Mask
from station.runner import Parts, Runner


class Face:
    """The camera's verdict, switched by the bench: a masked face in position, or nobody."""

    live = True

    def __init__(self) -> None:
        self.present = False

    def read(self, timeout_s: float = 1.0):
        time.sleep(0.02)
        return Frame(0, datetime.now(UTC), np.zeros((8, 8, 3), np.uint8))

    def observe(self, image, at):
        return FaceObservation(at, self.present, self.present, Mask.WITH_MASK if self.present else None)

    def close(self) -> None:
        pass


class PhotoCamera:
    """The visitor camera for ``--vision``: a real masked face in front of a wall while someone is there."""

    live = True

    def __init__(self, face: Face, photo: np.ndarray) -> None:
        self.face = face
        self.wall = np.full((480, 640, 3), (180, 190, 200), np.uint8)
        self.front = self.wall.copy()
        scale = 260 / photo.shape[0]
        resized = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        h, w = resized.shape[:2]
        self.front[110 : 110 + h, 320 - w // 2 : 320 - w // 2 + w] = resized

    def read(self, timeout_s: float = 1.0):
        time.sleep(1 / 25)
        image = self.front if self.face.present else self.wall
        return Frame(0, datetime.now(UTC), image.copy())

    def close(self) -> None:
        pass


class Stream:
    """Reads the kiosk's SSE stream in a thread and timestamps every message."""

    def __init__(self, url: str) -> None:
        self.messages: list[tuple[float, dict]] = []
        self._condition = threading.Condition()
        threading.Thread(target=self._read, args=(url,), daemon=True).start()

    def _read(self, url: str) -> None:
        with urllib.request.urlopen(url, timeout=600) as response:
            for raw in response:
                line = raw.decode().strip()
                if line.startswith("data: "):
                    with self._condition:
                        self.messages.append((time.perf_counter(), json.loads(line[6:])))
                        self._condition.notify_all()

    def wait(self, predicate, after: int, timeout_s: float = 10.0) -> tuple[float, int]:
        end = time.perf_counter() + timeout_s
        with self._condition:
            while True:
                for index in range(after, len(self.messages)):
                    if predicate(self.messages[index][1]):
                        return self.messages[index][0], index + 1
                remaining = end - time.perf_counter()
                if remaining <= 0:
                    raise TimeoutError("no such message")
                self._condition.wait(remaining)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=50)
    parser.add_argument("--vision", action="store_true", help="Real mask detection and camera counting.")
    args = parser.parse_args()
    thermometer, beams = PtyDevice(), PtyDevice()
    face = Face()
    with tempfile.TemporaryDirectory() as folder:
        document: dict = {
            "station": {"journal": str(Path(folder) / "journal.sqlite3"), "capacity_people": 100000},
            "thermometer": {"url": thermometer.path},
            "counting": {"source": "beams", "beams_url": beams.path},
            "screening": {"face_lost_s": 0.2},
            "kiosk": {"port": 0},
        }
        parts = Parts(frames=face, observe=face.observe)
        if args.vision:
            shared = Path(__file__).resolve().parents[2] / "shared"
            photo = cv2.imread(str(sorted((shared / "datasets" / "masks" / "with_mask").glob("*.jpg"))[3]))
            video = Path(folder) / "door.mp4"
            sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
            from door_scenes import busy_door, write_video

            write_video(busy_door(2.0 * args.visitors + 30), video)
            line = {"line": [64, 216, 704, 216], "in_point": [384, 60], "door": "main"}
            document["counting"] = {"source": "camera", "camera": str(video), "lines": [line]}
            document["camera"] = {"model_dir": str(shared / "models"), "min_face_px": 60}
            parts = Parts(frames=PhotoCamera(face, photo))
        runner = Runner(parse(document), parts)
        runner.start()
        try:
            stream = Stream(runner.kiosk_url + "events")
            time.sleep(0.5)
            decisions, crossings, verdicts = [], [], []
            seen = len(stream.messages)
            uptime_ms = 0
            beams.write(encode_state(False, False, uptime_ms))  # the counter boots with both beams clear
            for visitor in range(args.visitors):
                face.present = True
                # the camera sees the visitor step into position: measuring starts (with real vision it
                # takes a frame or two through the face and mask models)
                _, seen = stream.wait(lambda m: m.get("state") == "measuring", seen)
                # The thermometer streams readings while the kiosk says "measuring" (two discarded, four
                # of the plateau; a face that leaves the guide for a frame starts the measurement again), as
                # a real one does; the clock starts at the reading that made the plateau stable: the last
                # one sent before the kiosk left "measuring" for good.
                writes: list[float] = []
                deadline = time.perf_counter() + 15
                decided = None
                while decided is None:
                    if time.perf_counter() > deadline:
                        raise TimeoutError(f"visitor {visitor}: no decision")
                    if stream.messages[-1][1].get("state") == "measuring":
                        thermometer.write(encode(34.4, 25.0))
                        writes.append(time.perf_counter())
                    time.sleep(0.07)
                    decided = next(
                        (i for i in range(seen, len(stream.messages)) if stream.messages[i][1]["decision"]),
                        None,
                    )
                last = max(
                    i for i in range(seen - 1, decided) if stream.messages[i][1].get("state") == "measuring"
                )
                left = stream.messages[last + 1][0]
                start = max((t for t in writes if t <= left), default=writes[0])
                at, seen = stream.messages[decided][0], decided + 1
                decisions.append(at - start)
                shown = stream.messages[seen - 1][1]
                verdicts.append(f"{shown['decision']} ({shown['mask']})")
                face.present = False
                time.sleep(0.5)  # the visitor leaves
                _, seen = stream.wait(lambda m: m["decision"] is None, seen)  # the kiosk is back to idle
                if args.vision:
                    continue
                # baseline: one person through the beams (A, AB, B, clear), timed from the last change
                for a, b in ((1, 0), (1, 1), (0, 1)):
                    uptime_ms += 100
                    beams.write(encode_state(bool(a), bool(b), uptime_ms))
                    time.sleep(0.03)
                uptime_ms += 100
                start = time.perf_counter()
                beams.write(encode_state(False, False, uptime_ms))
                at, seen = stream.wait(lambda m, n=visitor + 1: m["occupancy_people"] == n, seen)
                crossings.append(at - start)
        finally:
            runner.close()
            thermometer.close()
            beams.close()
    if args.vision:
        counted = runner.station.state.doors.get("main", {})
        print(f"masks and door counting by camera ran meanwhile: {counted} crossings counted")
        print("decisions:", ", ".join(f"{n} x {v}" for v, n in Counter(verdicts).items()))
    for name, values in (
        ("stable reading -> decision on the kiosk", decisions),
        ("baseline: beam crossing -> kiosk", crossings),
    ):
        if not values:
            continue
        print(
            f"{name}: n={len(values)} p50={percentile(values, 0.5) * 1000:.1f} ms "
            f"p95={percentile(values, 0.95) * 1000:.1f} ms max={max(values) * 1000:.1f} ms"
        )
    print("goal: p95 <= 500 ms")


if __name__ == "__main__":
    main()
