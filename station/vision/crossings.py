"""Door lines and the rule that turns tracked positions into crossings, with hysteresis.

A line is two points in the source video's pixels; the room's side is named by a point inside the room
(``in_point``), so a line may have any orientation. Around the line lies a band ``band_px`` wide on each
side: a track is *in*, *out*, or *on* the line (inside the band). A crossing counts only when a track's
anchor passes from clearly one side to clearly the other, through the segment (not around its ends), so
lingering on the line, flicker across it and turning back inside the band count nothing. The band
widens with the track's size: a big blob's centre wanders further as people join and leave it.

Each track keeps a reference side: the side it came from, or the side of its last counted crossing.
It counts when it is seen clearly on the opposite side, and the counted side becomes the new
reference; so a track counts at most once per direction until it really crosses back. Tracks that
have not settled yet (not ``confirmed``) do not count until they are; a track born at the frame's
edge carries the border point it came from (``origin``), so a person first seen already past a line
near the edge still counts; a track that split from another or continues a lost one (``parent_id``)
takes over its reference, so a person stepping out of a group is counted from the group's side.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from sensors.crossing import Crossing, Direction

Point = tuple[float, float]


class Side(StrEnum):
    """Where a point lies relative to a door line."""

    IN = "in"
    OUT = "out"
    ON = "on"


@dataclass(frozen=True, slots=True)
class DoorLine:
    """A door line in source pixels, with the room's side named by a point inside the room.

    Attributes:
        start: One end of the line (x, y).
        end: The other end (x, y).
        in_point: Any point on the room's side.
        band_px: Half-width of the hysteresis band around the line; also how far beyond its ends a
            crossing still counts.
        name: What crossings of this line carry as ``line``: an index or a name.
        person_area_px: One person's area of flow through this line (source pixels, ``--method
            flux``), set by an installer from a recorded clip whose crossings they counted by eye
            (the line's ``flow_px`` over that count); None: learnt from the people the line sees.
            Worth setting at a door that is never empty, where nobody crosses alone to be measured.

    Raises:
        ValueError: The line has zero length, ``in_point`` lies on it, or ``person_area_px`` is not
            a number of at least 1 pixel.
    """

    start: Point
    end: Point
    in_point: Point
    band_px: float = 8.0
    name: int | str = 0
    person_area_px: float | None = None

    def __post_init__(self) -> None:
        if self.length_px < 1e-6:
            raise ValueError(f"line {self.name}: start and end are the same point {self.start}")
        if self.band_px < 0:
            raise ValueError(f"line {self.name}: band_px must not be negative, got {self.band_px}")
        if abs(self._raw_distance(self.in_point)) < 1e-6:
            raise ValueError(f"line {self.name}: in_point {self.in_point} lies on the line, not on a side")
        area = self.person_area_px
        if area is not None and not (math.isfinite(area) and area >= 1):
            raise ValueError(f"line {self.name}: person_area_px must be at least 1 pixel, got {area}")

    @property
    def length_px(self) -> float:
        """The line's length in pixels."""
        return math.dist(self.start, self.end)

    def _raw_distance(self, point: Point) -> float:
        (x1, y1), (x2, y2) = self.start, self.end
        return ((x2 - x1) * (point[1] - y1) - (y2 - y1) * (point[0] - x1)) / self.length_px

    def signed_distance(self, point: Point) -> float:
        """Return the distance of ``point`` from the (infinite) line, positive on the room's side."""
        sign = 1.0 if self._raw_distance(self.in_point) > 0 else -1.0
        return sign * self._raw_distance(point)

    def side(self, point: Point, band_px: float | None = None) -> Side:
        """Return IN or OUT when ``point`` is clearly on one side (beyond the band), else ON.

        Args:
            point: The point (x, y).
            band_px: A wider band to use instead of the line's own, or None.
        """
        band = self.band_px if band_px is None else max(band_px, self.band_px)
        distance = self.signed_distance(point)
        if distance > band:
            return Side.IN
        if distance < -band:
            return Side.OUT
        return Side.ON

    def extent_px(self, size: tuple[float, float]) -> float:
        """Return how far a box of ``size`` (w, h) reaches across the line (along its normal)."""
        (x1, y1), (x2, y2) = self.start, self.end
        length = self.length_px
        return (abs(y2 - y1) * size[0] + abs(x2 - x1) * size[1]) / length

    def passes_through(self, a: Point, b: Point) -> bool:
        """Whether the path from ``a`` to ``b`` meets the line within its ends (plus ``band_px``).

        ``a`` and ``b`` must lie on opposite sides of the line.
        """
        da, db = self.signed_distance(a), self.signed_distance(b)
        if da == db:
            return False
        t = da / (da - db)
        crossing_x = a[0] + (b[0] - a[0]) * t
        crossing_y = a[1] + (b[1] - a[1]) * t
        (x1, y1), (x2, y2) = self.start, self.end
        along_px = ((crossing_x - x1) * (x2 - x1) + (crossing_y - y1) * (y2 - y1)) / self.length_px
        return -self.band_px <= along_px <= self.length_px + self.band_px


class TrackLike(Protocol):
    """What the crossing rule needs of a track."""

    @property
    def track_id(self) -> int:
        """The tracker's id."""
        ...

    @property
    def anchor(self) -> Point:
        """The point tested against lines (x, y) in source pixels."""
        ...

    @property
    def confirmed(self) -> bool:
        """Whether the track has settled (seen long enough to be a person, not flicker)."""
        ...

    @property
    def origin(self) -> Point | None:
        """Where the track came from before it was first seen (a frame-border point), or None."""
        ...

    @property
    def parent_id(self) -> int | None:
        """The id of a track this one split from or continues, or None."""
        ...

    @property
    def size(self) -> tuple[float, float]:
        """The track's box (w, h); (0, 0) when unknown."""
        ...

    @property
    def people(self) -> int:
        """How many people the track is (two walking shoulder to shoulder make one blob)."""
        ...


@dataclass(frozen=True, slots=True)
class TrackPoint:
    """A track's position at one frame: the smallest thing ``LineCounter.trigger`` accepts.

    Attributes:
        track_id: The tracker's id.
        anchor: The point tested against lines (x, y).
        confirmed: Whether the track has settled.
        origin: Where the track came from before it was first seen, or None.
        parent_id: The id of a track this one split from or continues, or None.
        size: The track's box (w, h); (0, 0) when unknown.
        people: How many people the track is.
    """

    track_id: int
    anchor: Point
    confirmed: bool = True
    origin: Point | None = None
    parent_id: int | None = None
    size: tuple[float, float] = (0.0, 0.0)
    people: int = 1


@dataclass(slots=True)
class _Reference:
    side: Side | None  # the side the track came from or last counted on; None until it is known
    point: Point | None  # the track's last clear position on that side


class LineCounter:
    """Counts tracks crossing one door line.

    Args:
        line: The line.
        source: What crossings carry as ``source``.
        size_band_fraction: The band also grows to this fraction of how far the track's box reaches
            across the line: the centre of a big blob (a group, a person with a shadow) wanders more.
    """

    def __init__(self, line: DoorLine, *, source: str = "camera", size_band_fraction: float = 0.25) -> None:
        self.line = line
        self.source = source
        self.size_band_fraction = size_band_fraction
        self._in_count = 0
        self._out_count = 0
        self._references: dict[int, _Reference] = {}

    @property
    def in_count(self) -> int:
        """Crossings into the room so far."""
        return self._in_count

    @property
    def out_count(self) -> int:
        """Crossings out of the room so far."""
        return self._out_count

    def trigger(self, tracks: Iterable[TrackLike], at: datetime) -> list[Crossing]:
        """Take the tracks seen in one frame and return the crossings they completed.

        Args:
            tracks: The tracks of the frame, each at most once.
            at: The frame's time (UTC), stamped on the crossings.
        """
        crossings: list[Crossing] = []
        for track in tracks:
            reference = self._references.get(track.track_id)
            if reference is None:
                reference = self._start(track)
                self._references[track.track_id] = reference
            band_px = self.size_band_fraction * self.line.extent_px(track.size)
            side = self.line.side(track.anchor, band_px)
            if side is Side.ON:
                continue
            if reference.side is None or side is reference.side:
                reference.side, reference.point = side, track.anchor
                continue
            if not track.confirmed:
                continue  # not settled yet: decide once it is, from the same reference
            came_through = reference.point is not None and self.line.passes_through(
                reference.point, track.anchor
            )
            reference.side, reference.point = side, track.anchor
            if not came_through:
                continue  # went round the end of the line
            direction = Direction.IN if side is Side.IN else Direction.OUT
            people = max(1, track.people)
            if direction is Direction.IN:
                self._in_count += people
            else:
                self._out_count += people
            crossing = Crossing(
                at=at, direction=direction, line=self.line.name, source=self.source, track_id=track.track_id
            )
            crossings += [crossing] * people
        return crossings

    def forget(self, track_ids: Iterable[int]) -> None:
        """Drop what is known of tracks that are gone for good."""
        for track_id in track_ids:
            self._references.pop(track_id, None)

    def _start(self, track: TrackLike) -> _Reference:
        if track.parent_id is not None and track.parent_id in self._references:
            parent = self._references[track.parent_id]
            return _Reference(parent.side, parent.point)
        if track.origin is not None:
            origin_side = self.line.side(track.origin)
            if origin_side is not Side.ON:
                return _Reference(origin_side, track.origin)
        return _Reference(None, None)
