"""Counting people at doors from video.

Two methods share the background model and the tracker. ``flux`` (the default) counts the area that
flows through each line (``station.vision.flux``), one person's area learnt from the people tracked
near the line and from the line's own events; ``tracks`` counts tracks whose centre crosses a line
(``station.vision.crossings``), kept for scenes of one person at a time and for comparison. The
tracker runs in both: it keeps walking people out of the background, and learns how big one person is.
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import cv2
import numpy as np

from sensors.camera import FrameSource
from sensors.crossing import Crossing, Direction
from station.vision.annotate import CountAnnotator, LineTotals, VideoOut
from station.vision.crossings import DoorLine, LineCounter
from station.vision.flux import FluxEvent, FluxSettings, LineFlux, people_for
from station.vision.motion import MotionDetector, MotionSettings
from station.vision.sizes import PersonSizes
from station.vision.tracking import Track, Tracker, TrackerSettings


class Method(StrEnum):
    """How crossings are told."""

    FLUX = "flux"
    TRACKS = "tracks"


class AreaBasis(StrEnum):
    """What a line's area of one person rests on, best first: how far an installer can trust its count.

    ``events``: the median of the line's own crossings (before anybody was tracked, or at a door where
    people come one at a time and the crossings are smaller than the tracked people).
    """

    GIVEN = "given"
    LONE_CROSSERS = "lone_crossers"
    TRACKED_PEOPLE = "tracked_people"
    EVENTS = "events"


#: Lone crossers a learnt area of one person needs before a line's totals call it learnt, not a guess.
TRUSTED_LONE_CROSSERS = 5


class PersonArea:
    """How much area one person sweeps through a line.

    Best are the line's own *singles*: events that exactly one tracked person made alone, measured
    where it matters (at the line, cut by the frame's edge as the line is, with the shadows and
    reflections the foreground has there); their median, once there are ``min_singles``. One single
    alone is not trusted: its window can catch a fragment, or a neighbour, and a count that rests on it
    swings with changes no eye can see (``bench/counting_noise.py``); until there are enough, the
    singles are pooled with the tracker's size (the median of them and it). Before any single, the
    usual blob of one tracked person at the event's height (``sizes``: nearest known height, then
    whoever was tracked nearby), or the median of the line's events when that is smaller (at a door
    where people come one at a time, the events are the people), and before anyone was tracked, the
    median of the line's first events. Never less than ``floor_px``, the smallest moving blob. An
    installer's ``given_px`` (the line's ``person_area_px``) replaces all of it.

    Args:
        sizes: The tracker's sizes of single people.
        floor_px: The smallest area that can be a person (source pixels).
        memory: Singles (and first events) remembered.
        min_singles: Singles needed before they are trusted alone. Measured over six noisy replicas of
            the twelve truths: 225 errors for 2 against 244 for 1 (no clip worse by more than a point;
            crosswalk_dense_b 4.7 against 11.3); 3 makes a child who comes in first size the adults
            after them (``test_a_child_first_does_not_make_each_adult_after_them_two``).
        min_events: Events needed before their median is weighed against the tracker's sizes.
        given_px: One person's area as the installer measured it, or None to learn it.
    """

    def __init__(
        self,
        sizes: PersonSizes,
        floor_px: float,
        memory: int = 25,
        min_singles: int = 2,
        min_events: int = 5,
        given_px: float | None = None,
    ) -> None:
        self.sizes = sizes
        self.floor_px = floor_px
        self.given_px = given_px
        self.min_singles = min_singles
        self.min_events = min_events
        self._singles: deque[float] = deque(maxlen=memory)
        self._events: deque[float] = deque(maxlen=memory)

    @property
    def lone_crossers(self) -> int:
        """How many lone crossers the line has measured (remembered ones)."""
        return len(self._singles)

    def basis(self, y: float) -> AreaBasis | None:
        """Return what ``estimate(y)`` rests on now, or None while it has nothing.

        Args:
            y: The height (source pixels) of the event the area is for.
        """
        return self._estimate(y)[1]

    @property
    def sized(self) -> bool:
        """Whether a crowd on the line may be counted while it lasts: given, or ``min_singles`` measured.

        (The totals' text calls an area a guess until ``TRUSTED_LONE_CROSSERS``: counting a crowd early
        needs less trust than telling an installer the line needs no calibration.)
        """
        return self.given_px is not None or len(self._singles) >= self.min_singles

    def estimate(self, y: float) -> float | None:
        """Return one person's area for an event centred at height ``y``, or None while it has nothing.

        Args:
            y: The event's height (source pixels): the tracker's sizes depend on it.
        """
        return self._estimate(y)[0]

    def _estimate(self, y: float) -> tuple[float | None, AreaBasis | None]:
        if self.given_px is not None:
            return max(self.given_px, self.floor_px), AreaBasis.GIVEN
        if len(self._singles) >= self.min_singles:
            return max(statistics.median(self._singles), self.floor_px), AreaBasis.LONE_CROSSERS
        tracked = (
            self.sizes.typical_area_px(y) or self.sizes.nearest_area_px(y) or self.sizes.rough_area_px(y)
        )
        if self._singles:  # too few to trust alone: pooled with the tracker's size
            pool = [*self._singles, *([] if tracked is None else [tracked])]
            return max(statistics.median(pool), self.floor_px), AreaBasis.LONE_CROSSERS
        own = statistics.median(self._events) if self._events else None
        if tracked is None:
            return (None, None) if own is None else (max(own, self.floor_px), AreaBasis.EVENTS)
        if own is not None and len(self._events) >= self.min_events and own < tracked:
            return max(own, self.floor_px), AreaBasis.EVENTS  # a door where people come one at a time
        return max(tracked, self.floor_px), AreaBasis.TRACKED_PEOPLE

    def learn(self, area_px: float, single: bool) -> None:
        """Remember an ended event; ``single`` when one tracked person made it alone."""
        if area_px < self.floor_px:
            return
        self._events.append(area_px)
        if single:
            self._singles.append(area_px)


@dataclass(frozen=True, slots=True)
class _Profile:
    """One frame's flow through a line: when, the area through each bin, and which event owns each bin."""

    at: datetime
    flux_px: np.ndarray
    owners: dict[Direction, np.ndarray]


class FluxLineCounter:
    """Counts one door line by the area flowing through it (``station.vision.flux``).

    Args:
        line: The door line.
        frame_size: The source frames' (width, height).
        sizes: The tracker's sizes of single people.
        settings: Tuning.
        floor_px: The smallest area that can be a person (source pixels).
        source: What crossings carry as ``source``.
    """

    def __init__(
        self,
        line: DoorLine,
        frame_size: tuple[int, int],
        sizes: PersonSizes,
        settings: FluxSettings | None = None,
        *,
        floor_px: float = 0.0,
        source: str = "camera",
    ) -> None:
        self.line = line
        self.settings = settings or FluxSettings()
        self.flux = LineFlux(line, frame_size, self.settings)
        self.person = PersonArea(sizes, floor_px, given_px=line.person_area_px)
        self.source = source
        self.in_count = 0
        self.out_count = 0
        #: Area of the events that counted somebody (source pixels): over a clip whose crossings
        #: were counted by eye, this over that count is the line's ``person_area_px``.
        self.flow_px = 0.0
        self._held: list[FluxEvent] = []  # ended, waiting in case the same person steps back
        self._votes: deque[tuple[Direction, datetime, int, bool]] = deque(maxlen=64)  # tracks that crossed
        self._history: deque[_Profile] = deque(maxlen=150)  # recent flux profiles
        self._measuring: list[tuple[Direction, datetime, datetime, slice, int]] = []  # lone crossers

    def vote(self, direction: Direction, at: datetime, track: Track, alone: bool) -> None:
        """Note that a tracked person crossed the line (their event counts at least one).

        Args:
            direction: Which way they crossed.
            at: When.
            track: The track; its box and speed say where and how long it crosses.
            alone: Nobody else was near them: what flows through the line around them is one
                person's area, a sample of its size.
        """
        (x1, y1), (x2, y2) = self.line.start, self.line.end
        ux, uy = (x2 - x1) / self.line.length_px, (y2 - y1) / self.line.length_px
        along_px = (track.anchor[0] - x1) * ux + (track.anchor[1] - y1) * uy
        centre_bin = int(along_px // self.flux.bin_px)
        self._votes.append((direction, at, centre_bin, alone))
        if not alone:
            return
        width, height = track.size
        reach = self.settings.lone_reach
        half_px = reach * (abs(ux) * width + abs(uy) * height) + self.flux.bin_px
        across_px = abs(uy) * width + abs(ux) * height
        speed_px = abs(-uy * track.velocity[0] + ux * track.velocity[1])
        fps = 25.0
        if len(self._history) >= 2:
            span_s = (self._history[-1].at - self._history[0].at).total_seconds()
            fps = (len(self._history) - 1) / span_s if span_s > 0 else fps
        half_s = min(2.5, 0.5 * across_px / max(speed_px, 0.5) / fps + 0.2)
        bins = slice(
            max(0, int((along_px - half_px) // self.flux.bin_px)),
            min(self.flux.bins, int((along_px + half_px) // self.flux.bin_px) + 1),
        )
        window = timedelta(seconds=half_s)
        # A track's crossing is told once its centre is past the line's band, late in its passage:
        # the window reaches twice as far back as ahead (measured on the truths: 26 errors against 37
        # for a window centred on the vote; wider ahead takes in the next person in a crowd).
        self._measuring.append((direction, at - 2 * window, at + window, bins, centre_bin))

    def _measure(self, at: datetime) -> None:
        """Size one person from the flow around a lone crosser, once it has gone through.

        What counts is the flow of the events flowing where the crosser crossed, during their passage:
        all of it when those events are no wider than ``lone_event_span`` windows (they are that
        person), else their part inside the crosser's window (``lone_reach``): flow not connected to
        them, a neighbour passing beside, is never theirs.
        """
        for item in list(self._measuring):
            direction, start, end, bins, centre_bin = item
            if at < end:
                continue
            self._measuring.remove(item)
            sign = 1.0 if direction is Direction.IN else -1.0
            passage = [profile for profile in self._history if start <= profile.at <= end]
            gap = self.settings.gap_bins
            near = slice(max(0, centre_bin - gap), centre_bin + gap + 1)
            theirs = list({int(i) for profile in passage for i in profile.owners[direction][near]} - {-1})
            window = np.zeros(self.flux.bins, bool)
            window[bins] = True
            if theirs:
                owned = [np.isin(profile.owners[direction], theirs) for profile in passage]
                spread = np.flatnonzero(np.logical_or.reduce(owned))
                whole = spread[-1] - spread[0] + 1 <= self.settings.lone_event_span * window.sum()
                chosen = owned if whole else [mine & window for mine in owned]
            else:
                chosen = [window] * len(passage)
            area = sum(
                float(np.clip(sign * profile.flux_px[mine], 0.0, None).sum())
                for profile, mine in zip(passage, chosen, strict=True)
            )
            self.person.learn(area, single=True)

    def trigger(self, grey: np.ndarray, foreground: np.ndarray, at: datetime) -> list[Crossing]:
        """Take one frame and return the crossings it made certain."""
        ended = self.flux.update(grey, foreground, at)
        self._history.append(
            _Profile(at, self.flux.flux_px, {d: self.flux.owners(d) for d in (Direction.IN, Direction.OUT)})
        )
        self._measure(at)
        crossings: list[Crossing] = []
        if self.person.sized:  # a crowd on the line: all but its last few people while it lasts
            for event in self.flux.open_events():
                crossings += self._count(event, keep_back=self.settings.open_keep_back)
        for event in ended:
            self._hold(event)
        hold, longest = timedelta(seconds=self.settings.hold_s), timedelta(seconds=self.settings.max_hold_s)
        occupied = self.flux.occupied
        for event in list(self._held):
            if occupied[event.start_bin : event.end_bin + 1].any():
                event.seen_at = at  # someone still stands where it crossed
            if at - (event.seen_at or event.last_at) >= hold or at - event.first_at >= longest:
                self._held.remove(event)
                crossings += self._count(event)
        return crossings

    def finish(self) -> list[Crossing]:
        """The source has ended: count what is still on the line."""
        for event in self.flux.finish():
            self._hold(event)
        crossings: list[Crossing] = []
        for event in self._held:
            crossings += self._count(event)
        self._held = []
        return crossings

    def _hold(self, event: FluxEvent) -> None:
        """Keep an ended event a moment; part of a person that came in and went back out cancels."""
        person_px = self.person.estimate(self._height(event))
        if person_px is None:
            self.person.learn(event.area_px, single=False)  # the first event sizes the first person
        else:
            partial_px = self.settings.partial_share * person_px
            hold = timedelta(seconds=self.settings.hold_s)
            for other in list(self._held):
                if event.first_at - (other.seen_at or other.last_at) > hold:
                    continue
                if not _overlap(other, event, self.settings.gap_bins):
                    continue
                smaller = min(other.area_px, event.area_px)
                if smaller >= partial_px or self._votes_in(min(other, event, key=lambda e: e.area_px)):
                    continue  # two people, one after the other (or a tracked person): both count
                if other.direction is event.direction:  # stopped halfway, then went on
                    self._held.remove(other)
                    event.area_px += other.area_px
                    event.counted += other.counted
                    event.first_at = min(event.first_at, other.first_at)
                    event.start_bin = min(event.start_bin, other.start_bin)
                    event.end_bin = max(event.end_bin, other.end_bin)
                else:  # stepped onto the line and back
                    other.area_px -= smaller
                    event.area_px -= smaller
        self._held.append(event)

    def _height(self, event: FluxEvent) -> float:
        middle_px = (event.start_bin + event.end_bin + 1) / 2 * self.flux.bin_px
        y1, y2 = self.line.start[1], self.line.end[1]
        return y1 + (y2 - y1) * middle_px / self.line.length_px

    def person_area_px(self) -> float | None:
        """One person's area at the line's middle as the line sees it now; None before any event."""
        return self.person.estimate(self._middle_y())

    def totals(self) -> LineCount:
        """The line's totals, with what it measured and what its area of one person rests on."""
        return LineCount(
            self.in_count,
            self.out_count,
            self.flow_px,
            self.person_area_px(),
            person_area_from=self.person.basis(self._middle_y()),
            lone_crossers=self.person.lone_crossers,
        )

    def _middle_y(self) -> float:
        return (self.line.start[1] + self.line.end[1]) / 2

    def _count(self, event: FluxEvent, keep_back: int = 0) -> list[Crossing]:
        person_px = self.person.estimate(self._height(event))
        if person_px is None:
            return []  # nobody's size is known yet: wait for the event to end
        alone = self._lone_vote(event)
        two_ratio = self.settings.two_ratio if alone else self.settings.group_two_ratio
        people = people_for(event.area_px, person_px, self.settings, two_ratio=two_ratio)
        if not keep_back:
            votes = self._votes_in(event)
            if people == 0 and votes and event.area_px >= self.settings.tracked_share * person_px:
                people = 1  # small, but a tracked person crossed with it
            self.person.learn(event.area_px, single=False)
            if people > 0:
                self.flow_px += event.area_px
        people -= keep_back
        new = people - event.counted
        if new <= 0:
            return []
        event.counted = people
        if event.direction is Direction.IN:
            self.in_count += new
        else:
            self.out_count += new
        crossing = Crossing(
            at=event.mean_at, direction=event.direction, line=self.line.name, source=self.source
        )
        return [crossing] * new

    def _lone_vote(self, event: FluxEvent) -> bool:
        """Whether exactly one tracked person crossed with ``event``, with nobody near them."""
        votes = self._votes_near(event)
        return len(votes) == 1 and votes[0][3]

    def _votes_near(self, event: FluxEvent) -> list[tuple[Direction, datetime, int, bool]]:
        """The tracked crossings (direction, when, bin, alone) during ``event`` and where it crossed."""
        slack = timedelta(seconds=self.settings.hold_s)
        margin = 2 * self.settings.gap_bins
        return [
            vote
            for vote in self._votes
            if event.first_at - slack <= vote[1] <= event.last_at + slack
            and event.start_bin - margin <= vote[2] <= event.end_bin + margin
        ]

    def _votes_in(self, event: FluxEvent) -> int:
        """How many tracked people crossed with ``event`` (either way: a single has one, going its way)."""
        votes = [vote[0] for vote in self._votes_near(event)]
        return len(votes) if all(d is event.direction for d in votes) else 0


def _near(track: Track, other: Track) -> bool:
    """Whether two tracks' boxes, each grown by half, touch."""
    (ax, ay, aw, ah), (bx, by, bw, bh) = track.box, other.box
    return abs((ax + aw / 2) - (bx + bw / 2)) < 0.6 * (aw + bw) and abs(
        (ay + ah / 2) - (by + bh / 2)
    ) < 0.75 * (ah + bh)


def _overlap(a: FluxEvent, b: FluxEvent, margin_bins: int) -> bool:
    return a.start_bin - margin_bins <= b.end_bin and b.start_bin - margin_bins <= a.end_bin


@dataclass(frozen=True, slots=True)
class LineCount:
    """One line's totals.

    Attributes:
        in_count: Crossings into the room.
        out_count: Crossings out of it.
        flow_px: With ``flux``: the area of the events that counted somebody (source pixels).
        person_area_px: With ``flux``: one person's area at the line's middle at the end (given,
            or learnt), or None when it never saw anybody.
        person_area_from: With ``flux``: what that area rests on (an ``AreaBasis`` value), or None.
        lone_crossers: With ``flux``: how many lone crossers the line measured it on.
    """

    in_count: int
    out_count: int
    flow_px: float | None = None
    person_area_px: float | None = None
    person_area_from: AreaBasis | None = None
    lone_crossers: int | None = None

    def text(self) -> str:
        """What the line measured, for an installer checking its counts: flow, and one person's area.

        An area learnt from fewer than ``TRUSTED_LONE_CROSSERS`` lone crossers is called a guess, with how
        to replace it: at a door that is never empty the learnt area swings with changes no eye can see
        (``bench/counting_noise.py``), while the flow holds. Empty with ``tracks`` (nothing measured).
        """
        if self.flow_px is None:
            return ""
        if self.person_area_px is None:
            return f"  (flow {self.flow_px:,.0f} px)"
        measured = f"  (flow {self.flow_px:,.0f} px, one person {self.person_area_px:,.0f} px"
        lone = self.lone_crossers or 0
        if self.person_area_from is None:
            return measured + ")"
        if self.person_area_from is AreaBasis.GIVEN:
            return measured + ", given)"
        if self.person_area_from is AreaBasis.LONE_CROSSERS and lone >= TRUSTED_LONE_CROSSERS:
            return measured + f", learnt from {lone} lone crossers)"
        source = {
            AreaBasis.LONE_CROSSERS: f"{lone} lone crosser{'s' if lone != 1 else ''}",
            AreaBasis.TRACKED_PEOPLE: "tracked people",
            AreaBasis.EVENTS: "the line's own crossings",
        }[self.person_area_from]
        return measured + f", a guess from {source}: count a recorded clip by eye and give --person-area-px)"

    def as_json(self) -> dict[str, int | str | None]:
        """Return in, out, flow_px, person_area_px, person_area_from, lone_crossers (None if not measured)."""
        return {
            "in": self.in_count,
            "out": self.out_count,
            "flow_px": None if self.flow_px is None else round(self.flow_px),
            "person_area_px": None if self.person_area_px is None else round(self.person_area_px),
            "person_area_from": None if self.person_area_from is None else self.person_area_from.value,
            "lone_crossers": self.lone_crossers,
        }


@dataclass(frozen=True, slots=True)
class CountResult:
    """What counting a source found.

    Attributes:
        lines: Each line's totals, in the order the lines were given.
        frames: Frames processed.
        fps: Frames processed per second of wall-clock time.
    """

    lines: tuple[LineCount, ...]
    frames: int
    fps: float

    @property
    def in_count(self) -> int:
        """Crossings into the room over all lines."""
        return sum(line.in_count for line in self.lines)

    @property
    def out_count(self) -> int:
        """Crossings out of the room over all lines."""
        return sum(line.out_count for line in self.lines)

    def as_json(self) -> dict[str, object]:
        """Return the CLI's summary: ``in``, ``out``, ``frames``, ``fps`` and each line's ``lines``."""
        return {
            "in": self.in_count,
            "out": self.out_count,
            "frames": self.frames,
            "fps": round(self.fps, 1),
            "lines": [line.as_json() for line in self.lines],
        }


class DoorCounter:
    """Counts crossings of one camera's door lines, frame by frame.

    Args:
        lines: The door lines, in source pixels.
        frame_size: The source frames' (width, height).
        motion: Tuning of the background model.
        tracking: Tuning of the tracker.
        max_still_frames: How long someone may stand still and still be kept out of the background.
        method: How crossings are told: by area flowing through the lines, or by tracks.
        flux: Tuning of the flux method.
    """

    def __init__(
        self,
        lines: Sequence[DoorLine],
        frame_size: tuple[int, int],
        *,
        motion: MotionSettings | None = None,
        tracking: TrackerSettings | None = None,
        max_still_frames: int = 1500,
        method: Method = Method.FLUX,
        flux: FluxSettings | None = None,
    ) -> None:
        if not lines:
            raise ValueError("at least one door line is needed")
        self.detector = MotionDetector(frame_size, motion)
        self.tracker = Tracker(frame_size, tracking)
        self.method = Method(method)
        sizes = self.tracker.sizes
        # The flux method hears the tracks' crossings too: a small event a tracked person made counts.
        self._track_counters = [LineCounter(line) for line in lines]
        self._flux_counters = (
            [
                FluxLineCounter(line, frame_size, sizes, flux, floor_px=self.detector.min_area_px)
                for line in lines
            ]
            if self.method is Method.FLUX
            else []
        )
        self.counters: list[LineTotals] = (
            list(self._flux_counters) if self.method is Method.FLUX else list(self._track_counters)
        )
        self.tracks: list[Track] = []
        self.frames = 0
        self._protect: list[tuple[float, float, float, float]] = []
        self.max_still_frames = max_still_frames

    def process(self, image: np.ndarray, at: datetime) -> list[Crossing]:
        """Take one frame and return the crossings it completed."""
        self.frames += 1
        blobs = self.detector.detect(image, protect=self._protect)
        self.tracks = self.tracker.update(blobs)
        self._protect = [_next_box(t) for t in self.tracks if _walked(t, self.max_still_frames)]
        crossings: list[Crossing] = []
        if self._flux_counters:
            grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
            foreground = self.detector.foreground
            if foreground is not None:
                for flux_counter in self._flux_counters:
                    crossings += flux_counter.trigger(grey, foreground, at)
        seen = [track for track in self.tracks if track.missed == 0] + self.tracker.exited
        by_id = {track.track_id: track for track in seen}
        for index, counter in enumerate(self._track_counters):
            found = counter.trigger(seen, at)
            counter.forget(self.tracker.removed)
            if not self._flux_counters:
                crossings += found
                continue
            for crossing in found:
                track = by_id.get(crossing.track_id or -1)
                if track is not None:
                    alone = not any(_near(track, other) for other in self.tracks if other is not track)
                    self._flux_counters[index].vote(crossing.direction, at, track, alone)
        return crossings

    def finish(self) -> list[Crossing]:
        """The source has ended: return the crossings still being measured on the lines."""
        crossings: list[Crossing] = []
        for counter in self._flux_counters:
            crossings += counter.finish()
        return crossings

    def result(self, fps: float) -> CountResult:
        """Return the totals so far."""
        if self._flux_counters:
            lines = tuple(c.totals() for c in self._flux_counters)
        else:
            lines = tuple(LineCount(c.in_count, c.out_count) for c in self.counters)
        return CountResult(
            lines=lines,
            frames=self.frames,
            fps=fps,
        )


def _walked(track: Track, max_still_frames: int) -> bool:
    """Whether the background must keep a track: a person who walked here and has not stood for too long.

    A ghost (where someone stood when the video began) never walked, so it fades; something that
    stands for ``max_still_frames`` (a door leaf left open, a bag put down) fades too.
    """
    size = max(track.box[2], track.box[3])
    return (
        track.confirmed
        and track.missed == 0
        and track.travelled_px > 0.5 * size
        and track.still_frames < max_still_frames
    )


def _next_box(track: Track, margin: float = 0.15) -> tuple[float, float, float, float]:
    """The track's box where it is expected next frame, grown by ``margin`` on every side."""
    x, y, w, h = track.box
    vx, vy = track.velocity
    return (x + vx - margin * w, y + vy - margin * h, w * (1 + 2 * margin), h * (1 + 2 * margin))


def count_source(
    source: FrameSource,
    lines: Sequence[DoorLine],
    *,
    annotate: VideoOut | None = None,
    on_crossing: Callable[[Crossing], None] | None = None,
    on_progress: Callable[[int, float], None] | None = None,
    max_frames: int | None = None,
    stop: Callable[[], bool] | None = None,
    motion: MotionSettings | None = None,
    tracking: TrackerSettings | None = None,
    method: Method = Method.FLUX,
    flux: FluxSettings | None = None,
) -> CountResult:
    """Count crossings over a whole source (a file to its end, a live source until ``stop``).

    Args:
        source: The frames.
        lines: The door lines, in source pixels.
        annotate: Where to write the frames with lines, tracks and counts drawn, or None.
        on_crossing: Called with every crossing as it happens.
        on_progress: Called about once a second, and at the end, with (frames done, frames per second).
        max_frames: Stop after this many frames.
        stop: Polled each frame; counting ends when it returns True.
        motion: Tuning of the background model.
        tracking: Tuning of the tracker.
        method: How crossings are told.
        flux: Tuning of the flux method.
    """
    counter: DoorCounter | None = None
    annotator = CountAnnotator()
    started = time.perf_counter()
    last_progress = started
    for frame in source:
        if counter is None:
            height, width = frame.image.shape[:2]
            counter = DoorCounter(
                lines, (width, height), motion=motion, tracking=tracking, method=method, flux=flux
            )
        for crossing in counter.process(frame.image, frame.at):
            if on_crossing is not None:
                on_crossing(crossing)
        if annotate is not None:
            trails = {t.track_id: counter.tracker.trail(t.track_id) for t in counter.tracks}
            annotate.write(annotator.draw(frame.image, counter.counters, counter.tracks, trails))
        now = time.perf_counter()
        if on_progress is not None and now - last_progress >= 1.0:
            last_progress = now
            on_progress(counter.frames, counter.frames / (now - started))
        if (max_frames is not None and counter.frames >= max_frames) or (stop is not None and stop()):
            break
    if counter is not None:
        for crossing in counter.finish():
            if on_crossing is not None:
                on_crossing(crossing)
    elapsed = time.perf_counter() - started
    if counter is None:
        return CountResult(lines=tuple(LineCount(0, 0) for _ in lines), frames=0, fps=0.0)
    fps = counter.frames / elapsed if elapsed > 0 else 0.0
    if on_progress is not None:
        on_progress(counter.frames, fps)
    return counter.result(fps)
