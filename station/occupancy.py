"""The room's ledger at one station: who came in, who went out, the guards' corrections, the limit.

The room's limit is floor(capacity x share), by the shared room rules (``station.rooms``); while the
dashboard is reachable its limit wins, and offline the ledger keeps the last limit it was given.
The count never goes below zero: an exit counted
while the room reads 0 is recorded but moves nothing, so the entries after it count from 0 (a room
that reads fewer people than it holds lets too many in). Corrections are kept beside the counted
figures, never folded into them. When the dashboard is reachable its figure (every door of the
room) is the authority; the ledger adds its own crossings the dashboard has not seen yet.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import cast

from station.events import Direction
from station.rooms import RoomState, room_limit, room_state

__all__ = ["Ledger", "LimitSource", "RoomState", "Snapshot", "room_limit", "room_state"]


class LimitSource(StrEnum):
    """Where the ledger's limit comes from."""

    CONFIG = "config"  # the station's own file: the dashboard has not given one yet
    DASHBOARD = "dashboard"  # the dashboard's, just now
    LAST_KNOWN = "last_known"  # the dashboard's, kept while it cannot be reached


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The ledger's figures at one moment (what the kiosk shows)."""

    occupancy_people: int
    limit_people: int
    state: RoomState
    counted_in: int
    counted_out: int
    corrections: int
    online: bool
    limit_source: LimitSource = LimitSource.CONFIG


class Ledger:
    """The station's running count of the room.

    Args:
        capacity_people: The room's capacity.
        share: The share of capacity allowed in (0.5 under the transitional rules).
        near_share: Share of the limit from which the room is NEAR.
    """

    def __init__(self, capacity_people: int, share: float = 0.5, near_share: float = 0.8) -> None:
        self.limit_people = room_limit(capacity_people, share)
        self.capacity_people = capacity_people
        self.limit_source = LimitSource.CONFIG
        self.near_share = near_share
        self.counted_in = 0
        self.counted_out = 0
        self.corrections = 0
        self._people = 0
        self.online = False
        self._exits: deque[datetime] = deque(maxlen=500)

    @property
    def occupancy_people(self) -> int:
        """The best estimate of the people inside now."""
        return self._people

    @property
    def state(self) -> RoomState:
        """OPEN, NEAR or FULL."""
        return room_state(self.occupancy_people, self.limit_people, self.near_share)

    @property
    def has_room(self) -> bool:
        """Whether one more person may enter."""
        return self.occupancy_people < self.limit_people

    def snapshot(self) -> Snapshot:
        """Return the figures for the kiosk."""
        return Snapshot(
            self.occupancy_people,
            self.limit_people,
            self.state,
            self.counted_in,
            self.counted_out,
            self.corrections,
            self.online,
            self.limit_source,
        )

    def cross(self, direction: Direction, at: datetime) -> None:
        """Count one crossing of this station's door."""
        if direction is Direction.IN:
            self.counted_in += 1
            self._people += 1
        else:
            self.counted_out += 1
            self._people = max(0, self._people - 1)
            self._exits.append(at)

    def correct(self, *, delta: int | None = None, value: int | None = None) -> None:
        """Apply a guard's correction: ``delta`` people more (or fewer), or set to ``value``."""
        if (delta is None) == (value is None):
            raise ValueError("give exactly one of delta and value")
        if value is not None and value < 0:
            raise ValueError("a room cannot hold fewer than 0 people")
        target = self._people + delta if delta is not None else cast(int, value)  # one of them is set
        self.corrections += 1
        self._people = max(0, target)

    def set_limit(self, limit_people: int, capacity_people: int | None = None) -> None:
        """Take the dashboard's limit (and capacity) for the room: the dashboard's settings win."""
        if limit_people < 0:
            raise ValueError("a limit cannot be below 0")
        self.limit_people = limit_people
        if capacity_people is not None:
            self.capacity_people = capacity_people
        self.limit_source = LimitSource.DASHBOARD

    def restore_limit(self, limit_people: int, capacity_people: int) -> None:
        """Take the dashboard's last limit, kept from before a restart, until it answers again."""
        self.set_limit(limit_people, capacity_people)
        self.limit_source = LimitSource.LAST_KNOWN

    def reconcile(self, remote_people: int) -> None:
        """Take the dashboard's figure for the room, which includes everything uploaded so far.

        Call it right after the uplink confirmed every event up to now, so that nothing counted
        locally is missing from ``remote_people``.
        """
        self._people = max(0, remote_people)
        self.online = True

    def offline(self) -> None:
        """The dashboard is unreachable: go on counting from the last known figure and limit."""
        self.online = False
        if self.limit_source is LimitSource.DASHBOARD:
            self.limit_source = LimitSource.LAST_KNOWN

    def reset(self) -> None:
        """Start a new day: the room is empty, the counts start again."""
        self.counted_in = self.counted_out = self.corrections = 0
        self._people = 0
        self._exits.clear()

    def exits_per_minute(self, now: datetime, window: timedelta = timedelta(minutes=30)) -> float:
        """Recent exits per minute (0 when nobody left in ``window``)."""
        recent = [t for t in self._exits if now - t <= window]
        if not recent:
            return 0.0
        span_s = max(60.0, (now - min(recent)).total_seconds())
        return len(recent) / (span_s / 60.0)
