"""How big one person looks at each height of the frame, learnt from the people already tracked.

The tracker uses it twice. A blob far smaller than the people seen near its height is a fragment and
starts no track. And, when asked (``max_people`` above 1), a blob about twice the usual area is two
people walking shoulder to shoulder. Perspective makes people nearer the camera bigger, so sizes are
kept per band of heights; the estimate stays silent until it has seen enough distinct people nearby,
so the first people of a video are never judged by a guess.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SizeSettings:
    """How group sizes are estimated.

    Attributes:
        window_fraction: Samples within this fraction of the frame height count as "nearby".
        min_people: Distinct people needed nearby before any blob counts as several.
        two_ratio: Area ratio from which a blob counts as two people.
        max_people: The most people one blob counts as; 1 (the default) turns counting groups off.
            On real door footage people queue through the door, blobs merge with whoever is next, and
            counting by area over-counts; where people walk abreast, 2 is worth trying.
        memory: Samples kept.
        quantile: Which of the people's sizes near a height is the usual one (0.5 the median).
    """

    window_fraction: float = 0.12
    min_people: int = 3
    two_ratio: float = 1.8
    max_people: int = 1
    memory: int = 300
    quantile: float = 0.35


class PersonSizes:
    """Samples of single people's blob areas by height in the frame.

    The usual area per band of heights is worked out again by ``refresh`` (the tracker calls it about
    once a second), so asking for a blob's head-count is a dictionary look-up.

    Args:
        frame_height_px: The source frames' height.
        settings: Tuning.
    """

    def __init__(self, frame_height_px: int, settings: SizeSettings | None = None) -> None:
        self.settings = settings or SizeSettings()
        self._window_px = max(1.0, self.settings.window_fraction * frame_height_px)
        self._bucket_px = self._window_px / 2
        self._buckets = int(frame_height_px / self._bucket_px) + 1
        self._samples: deque[tuple[float, float, int]] = deque(maxlen=self.settings.memory)
        self._typical: dict[int, float] = {}

    def add(self, cy: float, area_px: float, track_id: int) -> None:
        """Record that track ``track_id``, one person, had a blob of ``area_px`` centred at height ``cy``."""
        self._samples.append((cy, area_px, track_id))

    def refresh(self) -> None:
        """Work out the usual area of one person for every band of heights from the samples."""
        typical: dict[int, float] = {}
        for bucket in range(self._buckets):
            centre = (bucket + 0.5) * self._bucket_px
            per_person: dict[int, list[float]] = {}
            for y, area, track_id in self._samples:
                if abs(y - centre) <= self._window_px:
                    per_person.setdefault(track_id, []).append(area)
            if len(per_person) >= self.settings.min_people:
                # One vote per person, so someone who lingered does not outweigh the rest; a low
                # quantile, since the blobs that fool the tracker (two walking as one) are all bigger.
                votes = sorted(statistics.median(a) for a in per_person.values())
                typical[bucket] = votes[int(self.settings.quantile * (len(votes) - 1))]
        self._typical = typical

    def typical_area_px(self, cy: float) -> float | None:
        """Return the usual area of one person near height ``cy``, or None when too few were seen."""
        return self._typical.get(int(cy / self._bucket_px))

    def nearest_area_px(self, cy: float) -> float | None:
        """Return the usual area of one person at the known height nearest ``cy``, or None if none is."""
        if not self._typical:
            return None
        bucket = int(cy / self._bucket_px)
        return self._typical[min(self._typical, key=lambda known: abs(known - bucket))]

    def rough_area_px(self, cy: float) -> float | None:
        """Return a first guess at one person's area near height ``cy`` from whoever was seen there.

        Unlike ``typical_area_px`` it needs a single person's samples, not several people's; it is
        what a door uses before its first few visitors have been sized properly. None before any sample.
        """
        if not self._samples:
            return None
        nearby = [area for y, area, _ in self._samples if abs(y - cy) <= self._window_px]
        if not nearby:
            nearest = min(abs(y - cy) for y, _, _ in self._samples)
            nearby = [area for y, area, _ in self._samples if abs(y - cy) <= nearest + self._window_px]
        return statistics.median(nearby)

    def people(self, cy: float, area_px: float) -> int:
        """Return how many people a blob of ``area_px`` at height ``cy`` most likely is (at least one)."""
        typical = self.typical_area_px(cy)
        if typical is None or typical <= 0:
            return 1
        ratio = area_px / typical
        if ratio < self.settings.two_ratio or self.settings.max_people < 2:
            return 1
        return min(self.settings.max_people, max(2, int(ratio + 0.3)))
