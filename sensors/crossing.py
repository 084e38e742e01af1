"""The value every door counter decodes to: one person crossing one door line, in or out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Direction(StrEnum):
    """Which way a person crossed: into the room or out of it."""

    IN = "in"
    OUT = "out"


@dataclass(frozen=True, slots=True)
class Crossing:
    """One person crossing one door line.

    Attributes:
        at: When the crossing was seen (UTC).
        direction: Into the room or out of it.
        line: Which line of the source: its index in the order configured, or its name.
        source: What saw it, such as ``"camera"`` or ``"beams"``.
        track_id: The camera tracker's id of the person, or None for sensors without tracks.
    """

    at: datetime
    direction: Direction
    line: int | str = 0
    source: str = "camera"
    track_id: int | None = None

    def as_json(self) -> dict[str, int | str | None]:
        """Return the crossing as JSON: ``at``, ``direction``, ``line``, ``source``, ``track_id``."""
        return {
            "at": self.at.isoformat(),
            "direction": str(self.direction),
            "line": self.line,
            "source": self.source,
            "track_id": self.track_id,
        }
