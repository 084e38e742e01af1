"""Rendered door scenes with a known truth: people-sized shapes moving over a textured floor.

A scene is a list of walkers, each a path of keyframes (time in seconds, x, y) it follows at a steady
pace, invisible before its first keyframe and after its last; shadows are darkened shapes with no person,
and ``light`` gives the scene's brightness factor over time.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np

WIDTH, HEIGHT = 768, 432
FPS = 25.0

Keyframe = tuple[float, float, float]


@dataclass(frozen=True)
class Walker:
    """A person (or a shadow) seen from above: an ellipse with a head."""

    path: tuple[Keyframe, ...]
    size: tuple[int, int] = (34, 26)  # half-axes in pixels: across the shoulders, front to back
    colour: tuple[int, int, int] = (40, 60, 170)
    shadow_of_light: bool = False  # a shadow: darkens the floor instead of covering it
    casts_shadow: bool = False  # a person with a shadow beside them

    def position(self, t_s: float) -> tuple[float, float] | None:
        path = self.path
        if t_s < path[0][0] or t_s > path[-1][0]:
            return None
        for (t0, x0, y0), (t1, x1, y1) in itertools.pairwise(path):
            if t0 <= t_s <= t1:
                k = 0.0 if t1 == t0 else (t_s - t0) / (t1 - t0)
                return (x0 + (x1 - x0) * k, y0 + (y1 - y0) * k)
        return (path[-1][1], path[-1][2])


@dataclass(frozen=True)
class Scene:
    """Walkers over a floor for ``duration_s``, and the brightness over time."""

    walkers: tuple[Walker, ...]
    duration_s: float
    light: Callable[[float], float] = field(default=lambda t_s: 1.0)
    size: tuple[int, int] = (WIDTH, HEIGHT)

    def frames(self) -> Iterator[np.ndarray]:
        width, height = self.size
        floor = _floor(width, height)
        rng = np.random.default_rng(7)
        noise = [rng.normal(0.0, 2.0, (height, width, 3)).astype(np.int16) for _ in range(6)]
        for index in range(round(self.duration_s * FPS)):
            t_s = index / FPS
            image = floor.copy()
            for walker in self.walkers:
                at = walker.position(t_s)
                if at is not None:
                    _draw(image, walker, at)
            gain = self.light(t_s)
            frame = image.astype(np.int16) + noise[index % len(noise)]
            if gain != 1.0:
                frame = (frame * gain).astype(np.int16)
            yield np.clip(frame, 0, 255).astype(np.uint8)


def _floor(width: int, height: int) -> np.ndarray:
    rng = np.random.default_rng(3)
    texture = rng.integers(90, 170, (height // 8 + 1, width // 8 + 1, 3), dtype=np.uint8)
    floor = cv2.resize(texture, (width, height), interpolation=cv2.INTER_NEAREST)
    floor = cv2.GaussianBlur(floor, (5, 5), 0)
    for x in range(0, width, 64):  # tiles
        cv2.line(floor, (x, 0), (x, height), (70, 70, 70), 1)
    for y in range(0, height, 64):
        cv2.line(floor, (0, y), (width, y), (70, 70, 70), 1)
    return floor


def _draw(image: np.ndarray, walker: Walker, at: tuple[float, float]) -> None:
    centre = (round(at[0]), round(at[1]))
    axes = walker.size
    if walker.shadow_of_light:
        mask = np.zeros(image.shape[:2], np.uint8)
        cv2.ellipse(mask, centre, axes, 0, 0, 360, 255, -1)
        image[mask > 0] = (image[mask > 0] * 0.6).astype(np.uint8)
        return
    if walker.casts_shadow:
        mask = np.zeros(image.shape[:2], np.uint8)
        cv2.ellipse(
            mask, (centre[0] + axes[0] + 20, centre[1] + 10), (axes[0] + 10, axes[1]), 0, 0, 360, 255, -1
        )
        image[mask > 0] = (image[mask > 0] * 0.6).astype(np.uint8)
    cv2.ellipse(image, centre, axes, 0, 0, 360, walker.colour, -1)
    cv2.circle(image, centre, min(axes) * 2 // 3, (30, 40, 50), -1)  # head and hair


def walk(*points: tuple[float, float], start_s: float, speed_px_s: float = 120.0) -> tuple[Keyframe, ...]:
    """Keyframes along ``points`` at a steady speed, starting at ``start_s``."""
    frames: list[Keyframe] = [(start_s, *points[0])]
    t_s = start_s
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        t_s += max(np.hypot(x1 - x0, y1 - y0) / speed_px_s, 1.0 / FPS)
        frames.append((t_s, x1, y1))
    return tuple(frames)


def pause(
    path: tuple[Keyframe, ...],
    duration_s: float,
    then: tuple[tuple[float, float], ...],
    speed_px_s: float = 120.0,
) -> tuple[Keyframe, ...]:
    """Extend ``path``: stand still at its end for ``duration_s``, then walk through ``then``."""
    t_end, x, y = path[-1]
    rest = walk((x, y), *then, start_s=t_end + duration_s, speed_px_s=speed_px_s)
    return (*path, *rest)


def busy_door(seconds: float) -> Scene:
    """Someone walks in or out every two seconds, every third one stopping halfway for 1.5 s."""
    walkers = []
    for k in range(int(seconds // 2)):
        x = 150 + (k * 137) % 470
        if k % 3 == 0:
            path = walk((x, 470), (x + 30, -40), start_s=1.0 + 2 * k)
        elif k % 3 == 1:
            path = walk((x, -40), (x - 20, 470), start_s=1.0 + 2 * k)
        else:
            path = pause(walk((x, 470), (x, 230), start_s=1.0 + 2 * k), 1.5, ((x, -40),))
        walkers.append(Walker(path, colour=((40 * k) % 200 + 30, 60, 170 - (30 * k) % 120)))
    return Scene(tuple(walkers), seconds)


def write_video(scene: Scene, path: object) -> None:
    """Write ``scene`` to ``path`` (MPEG-4) at ``FPS``."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, scene.size)
    for image in scene.frames():
        writer.write(image)
    writer.release()
