"""Tracks people from blob to blob across frames.

Each track predicts its next position from a constant-velocity (alpha-beta) filter; blobs are matched
to predictions greedily by distance, inside a gate that grows with the person's size and speed. What
the plain centroid tracker gets wrong at doors is handled explicitly:

- Flicker: a track missing a few frames coasts on its prediction instead of dying, and a new track
  must be seen ``min_hits`` times before it is ``confirmed`` (settled).
- Touching people: when two tracks fall into one blob, the unmatched one rides inside that blob's box
  until the blob splits again, instead of dying and coming back under a new id.
- Fragments: a small extra blob inside a tracked person's box is part of that person, not a newcomer;
  and once people's usual size is known (see ``sizes``), a scrap far smaller starts no track.
- Standing still: the background model keeps people who walked (see ``motion``); should one still
  fade, or vanish away from the frame's edge, the track is kept dormant, and a track born near it
  later carries its id as ``parent_id`` so the crossing rule remembers which side they came from.
- Entering at the edge: a track born touching the frame's border gets, as ``origin``, the point half a
  body beyond that border where it came from; leaving by the edge, it is reported once more in
  ``exited``, half a body beyond the border it left by, so a line near the edge still sees it cross.
- Leaving a group: a track born inside the last box of a tracked blob that lost about its area at
  once split off it, and gets that track as ``parent_id`` too.
- Walking shoulder to shoulder: a blob about twice the usual size of one person at that height of the
  frame is ``people`` = 2 (see ``sizes``).
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from station.vision.motion import Blob
from station.vision.sizes import PersonSizes, SizeSettings

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Track:
    """A tracked person in one frame, in source pixels.

    Attributes:
        track_id: Unique id, never reused.
        box: (x, y, w, h) of the person's blob (or predicted box while coasting).
        anchor: The point tested against door lines: the blob's centre.
        velocity: Pixels per frame (x, y).
        hits: Frames in which a blob was matched.
        confirmed: Whether the track has settled.
        origin: The frame-border point it came from when born at the edge, else None.
        parent_id: The track it split from (a person leaving a group's blob) or the dormant track it
            continues (a person who stood still), else None.
        coasting: Whether this frame's position is a prediction (flicker or merged with another).
        missed: Frames in a row without any blob of its own or a blob it rides in (flicker).
        travelled_px: The farthest it has been from where it was born.
        still_frames: Frames since it last moved by a quarter of its size.
        people: How many people the blob most likely is (two walking shoulder to shoulder make one).
    """

    track_id: int
    box: tuple[float, float, float, float]
    anchor: Point
    velocity: Point
    hits: int
    confirmed: bool
    origin: Point | None
    parent_id: int | None
    coasting: bool
    missed: int
    travelled_px: float
    still_frames: int = 0
    people: int = 1

    @property
    def size(self) -> tuple[float, float]:
        """The box's (w, h)."""
        return (self.box[2], self.box[3])


@dataclass(frozen=True, slots=True)
class TrackerSettings:
    """How tracks are kept.

    Attributes:
        min_hits: Matched frames before a track is confirmed.
        max_missed: Frames a track coasts without any blob before it is lost.
        max_merged: Frames a track may ride inside another track's blob.
        dormant_frames: Frames a track lost away from the frame's edge is remembered.
        alpha: Position gain of the filter.
        beta: Velocity gain of the filter.
        gate_factor: Match gate as a multiple of the person's half-size, plus the speed.
        edge_px: Distance from the frame's border within which a blob touches it.
        sample_every: Frames between two size samples of one person.
        steady_ratio: A track's recent blobs must stay within this ratio of sizes to be sampled (a
            blob that others join or leave is not one person's size).
        min_birth_fraction: Once people's size near a height is known, a blob smaller than this
            fraction of it starts no track (fragments of someone whose clothes match the floor).
        sizes: How group sizes are estimated.
    """

    min_hits: int = 3
    max_missed: int = 6
    max_merged: int = 75
    dormant_frames: int = 250
    alpha: float = 0.7
    beta: float = 0.25
    gate_factor: float = 1.2
    edge_px: float = 3.0
    sample_every: int = 12
    steady_ratio: float = 1.5
    min_birth_fraction: float = 0.3
    sizes: SizeSettings = field(default_factory=SizeSettings)


@dataclass(slots=True)
class _State:
    track_id: int
    cx: float
    cy: float
    w: float
    h: float
    vx: float = 0.0
    vy: float = 0.0
    hits: int = 1
    missed: int = 0
    merged: int = 0
    origin: Point | None = None
    parent_id: int | None = None
    coasting: bool = False
    lost_at_frame: int = -1
    born: Point = (0.0, 0.0)
    seen_box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # its last blob's box
    seen_area_px: float = 0.0  # and that blob's area
    travelled_px: float = 0.0
    still_since: Point = (0.0, 0.0)
    still_frames: int = 0
    history: list[Point] = field(default_factory=list)
    areas: deque[float] = field(default_factory=lambda: deque(maxlen=9))  # whole blobs it had alone
    sampled_at_frame: int = -1_000_000
    people: int = 1

    @property
    def predicted(self) -> Point:
        return (self.cx + self.vx, self.cy + self.vy)


class Tracker:
    """Associates blobs frame to frame.

    Args:
        frame_size: The source frames' (width, height).
        settings: Tuning.
    """

    def __init__(self, frame_size: tuple[int, int], settings: TrackerSettings | None = None) -> None:
        self.settings = settings or TrackerSettings()
        self.frame_size = frame_size
        self._live: list[_State] = []
        self._dormant: list[_State] = []
        self._next_id = 1
        self._frame = 0
        self.removed: list[int] = []
        self.exited: list[Track] = []
        self.sizes = PersonSizes(frame_size[1], self.settings.sizes)

    def update(self, blobs: Sequence[Blob]) -> list[Track]:
        """Take one frame's blobs and return the live tracks; ``removed`` lists the ids gone for good."""
        settings = self.settings
        self._frame += 1
        self.removed = []
        self.exited = []
        before = [
            (state, state.seen_box, state.seen_area_px)
            for state in self._live
            if state.hits >= settings.min_hits
        ]
        pairs = self._match(blobs)
        matched_blobs = {b for _, b in pairs}
        matched_tracks = {t for t, _ in pairs}
        # Tracks without a blob of their own whose prediction falls inside a blob: people touching
        # someone else. Such a blob is a group, and everyone in it rides on their own prediction.
        riders: dict[int, list[_State]] = {}
        coasting: list[_State] = []
        for t_index, state in enumerate(self._live):
            if t_index in matched_tracks:
                continue
            host = next(
                (b for b, blob in enumerate(blobs) if _inside(state.predicted, blob, margin=0.0)), None
            )
            if host is not None and state.merged < settings.max_merged:
                riders.setdefault(host, []).append(state)
            else:
                coasting.append(state)
        for b_index, group in list(riders.items()):
            if len(group) == 1 and b_index not in matched_blobs:
                self._correct(group[0], blobs[b_index])  # a lone track in a blob that jumped: its own
                del riders[b_index]
            matched_blobs.add(b_index)
        for t_index, b_index in pairs:
            state = self._live[t_index]
            if b_index in riders and state.merged < settings.max_merged:
                riders[b_index].append(state)
            else:
                self._correct(state, blobs[b_index])
        for b_index, group in riders.items():
            blob = blobs[b_index]
            for state in group:
                px, py = state.predicted
                state.cx = min(max(px, blob.x), blob.x + blob.w)
                state.cy = min(max(py, blob.y), blob.y + blob.h)
                state.merged += 1
                state.hits += 1
                state.missed = 0
                state.coasting = True
        for state in coasting:
            state.cx, state.cy = state.predicted
            state.missed += 1
            state.coasting = True
        # Blobs without a track: fragments of a tracked person, or newcomers.
        for b_index, blob in enumerate(blobs):
            if b_index in matched_blobs:
                continue
            if any(
                _inside(blob.center, blobs[b], margin=0.25) and blob.area_px < blobs[b].area_px
                for b in matched_blobs
            ):
                continue
            typical = self.sizes.typical_area_px(blob.cy)
            if typical is not None and blob.area_px < settings.min_birth_fraction * typical:
                continue  # a scrap far smaller than anyone seen at this height: not a newcomer
            self._live.append(self._birth(blob, before))
        # Lost tracks: remembered while dormant if they vanished away from the edge.
        still: list[_State] = []
        for state in self._live:
            if state.missed <= settings.max_missed and self._inside_frame(state):
                still.append(state)
            elif state.hits >= settings.min_hits and not self._near_edge(state, margin_px=0.25 * state.w):
                state.lost_at_frame = self._frame
                self._dormant.append(state)
            else:
                self.removed.append(state.track_id)
                if state.hits >= settings.min_hits:
                    self.exited.append(self._exit(state))
        self._live = still
        keep: list[_State] = []
        for state in self._dormant:
            if self._frame - state.lost_at_frame > settings.dormant_frames:
                self.removed.append(state.track_id)
            else:
                keep.append(state)
        self._dormant = keep
        self._learn_sizes()
        return [self._snapshot(state) for state in self._live]

    def _learn_sizes(self) -> None:
        settings = self.settings
        for state in self._live:
            if len(state.areas) >= 5 and not state.coasting and state.hits >= settings.min_hits:
                area = statistics.median(state.areas)
                state.people = self.sizes.people(state.cy, area)
                # Only a blob that kept its size (no one joining or leaving it) is one person's size.
                steady = max(state.areas) <= settings.steady_ratio * min(state.areas) and state.merged == 0
                if (
                    state.people == 1
                    and steady
                    and self._frame - state.sampled_at_frame >= settings.sample_every
                ):
                    self.sizes.add(state.cy, area, state.track_id)
                    state.sampled_at_frame = self._frame
        if self._frame % 25 == 0:
            self.sizes.refresh()

    def trail(self, track_id: int) -> list[Point]:
        """Return the recent positions of a live track, oldest first (for drawing)."""
        for state in self._live:
            if state.track_id == track_id:
                return list(state.history)
        return []

    def _match(self, blobs: Sequence[Blob]) -> list[tuple[int, int]]:
        candidates: list[tuple[float, int, int]] = []
        for t_index, state in enumerate(self._live):
            px, py = state.predicted
            speed = math.hypot(state.vx, state.vy)
            gate = self.settings.gate_factor * 0.5 * max(state.w, state.h) + speed * (1 + state.missed)
            for b_index, blob in enumerate(blobs):
                distance = math.hypot(blob.cx - px, blob.cy - py)
                if distance <= gate:
                    candidates.append((distance / gate, t_index, b_index))
        candidates.sort()
        pairs: list[tuple[int, int]] = []
        used_tracks: set[int] = set()
        used_blobs: set[int] = set()
        for _, t_index, b_index in candidates:
            if t_index in used_tracks or b_index in used_blobs:
                continue
            used_tracks.add(t_index)
            used_blobs.add(b_index)
            pairs.append((t_index, b_index))
        return pairs

    def _correct(self, state: _State, blob: Blob) -> None:
        settings = self.settings
        px, py = state.predicted
        rx, ry = blob.cx - px, blob.cy - py
        state.cx, state.cy = px + settings.alpha * rx, py + settings.alpha * ry
        state.vx += settings.beta * rx
        state.vy += settings.beta * ry
        state.w += 0.5 * (blob.w - state.w)
        state.h += 0.5 * (blob.h - state.h)
        state.hits += 1
        state.missed = 0
        state.merged = 0
        state.coasting = False
        state.seen_box = (blob.x, blob.y, blob.w, blob.h)
        state.seen_area_px = blob.area_px
        if self._border_origin(blob) is None:  # a blob cut by the frame's edge is not the whole person
            state.areas.append(blob.area_px)

    def _birth(
        self, blob: Blob, before: list[tuple[_State, tuple[float, float, float, float], float]]
    ) -> _State:
        state = _State(
            track_id=self._next_id,
            cx=blob.cx,
            cy=blob.cy,
            w=blob.w,
            h=blob.h,
            born=blob.center,
            seen_box=(blob.x, blob.y, blob.w, blob.h),
            seen_area_px=blob.area_px,
        )
        self._next_id += 1
        state.origin = self._border_origin(blob)
        if state.origin is None:
            # Split off a tracked blob (a person leaving a group): its last box (and a quarter) held this
            # blob's centre, and its blob lost about this blob's area at once.
            holders = [
                s
                for s, (x, y, w, h), area_px in before
                if x - w / 4 <= blob.cx <= x + 1.25 * w
                and y - h / 4 <= blob.cy <= y + 1.25 * h
                and not s.coasting
                and area_px - s.seen_area_px >= 0.5 * blob.area_px
            ]
            parent = min(holders, key=lambda s: s.seen_box[2] * s.seen_box[3], default=None)
            parent = parent or self._nearest_dormant(blob)
            if parent is not None:
                state.parent_id = parent.track_id
        return state

    def _border_origin(self, blob: Blob) -> Point | None:
        width, height = self.frame_size
        edge = self.settings.edge_px
        # Where the person's centre was just before any of them showed: half a body beyond the border.
        half = 0.5 * max(blob.w, blob.h)
        gaps = [
            (blob.x, (-half, blob.cy), blob.cx),
            (width - (blob.x + blob.w), (width - 1.0 + half, blob.cy), width - blob.cx),
            (blob.y, (blob.cx, -half), blob.cy),
            (height - (blob.y + blob.h), (blob.cx, height - 1.0 + half), height - blob.cy),
        ]
        touching = [(distance, point) for gap, point, distance in gaps if gap <= edge]
        if not touching:
            return None
        # Of the borders it touches, it came through the one nearest its centre.
        return min(touching)[1]

    def _exit(self, state: _State) -> Track:
        """The track where it went after it was last seen: half a body beyond the border it left by."""
        width, height = self.frame_size
        x, y, w, h = state.seen_box
        cx, cy = x + w / 2, y + h / 2
        gaps = [
            (x, (-state.w / 2, cy)),
            (width - (x + w), (width - 1.0 + state.w / 2, cy)),
            (y, (cx, -state.h / 2)),
            (height - (y + h), (cx, height - 1.0 + state.h / 2)),
        ]
        border = min(gaps, key=lambda item: item[0])[1]
        state.cx, state.cy = border
        state.missed = 0
        return self._snapshot(state)

    def _nearest_dormant(self, blob: Blob) -> _State | None:
        best: _State | None = None
        best_distance = math.inf
        for state in self._dormant:
            distance = math.hypot(blob.cx - state.cx, blob.cy - state.cy)
            if distance <= max(state.w, state.h, blob.w, blob.h) and distance < best_distance:
                best, best_distance = state, distance
        return best

    def _inside_frame(self, state: _State) -> bool:
        width, height = self.frame_size
        return -0.5 * state.w <= state.cx <= width + 0.5 * state.w and (
            -0.5 * state.h <= state.cy <= height + 0.5 * state.h
        )

    def _near_edge(self, state: _State, margin_px: float) -> bool:
        width, height = self.frame_size
        return (
            state.cx - 0.5 * state.w <= margin_px
            or state.cy - 0.5 * state.h <= margin_px
            or state.cx + 0.5 * state.w >= width - margin_px
            or state.cy + 0.5 * state.h >= height - margin_px
        )

    def _snapshot(self, state: _State) -> Track:
        state.travelled_px = max(state.travelled_px, math.dist(state.born, (state.cx, state.cy)))
        if math.dist(state.still_since, (state.cx, state.cy)) > 0.25 * max(state.w, state.h):
            state.still_since, state.still_frames = (state.cx, state.cy), 0
        else:
            state.still_frames += 1
        state.history.append((state.cx, state.cy))
        del state.history[:-32]
        return Track(
            track_id=state.track_id,
            box=(state.cx - 0.5 * state.w, state.cy - 0.5 * state.h, state.w, state.h),
            anchor=(state.cx, state.cy),
            velocity=(state.vx, state.vy),
            hits=state.hits,
            confirmed=state.hits >= self.settings.min_hits,
            origin=state.origin,
            parent_id=state.parent_id,
            coasting=state.coasting,
            missed=state.missed,
            travelled_px=state.travelled_px,
            still_frames=state.still_frames,
            people=state.people,
        )


def _inside(point: Point, blob: Blob, margin: float) -> bool:
    mx, my = margin * blob.w, margin * blob.h
    return blob.x - mx <= point[0] <= blob.x + blob.w + mx and blob.y - my <= point[1] <= blob.y + blob.h + my
