"""The value every thermometer protocol decodes to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Reading:
    """One valid measurement as the device reported it, in degrees Celsius.

    Attributes:
        at: When the frame was received (UTC).
        object_c: The target (skin) temperature, or None when the device does not report it.
        ambient_c: The sensor's own ambient temperature, or None.
        body_c: A body estimate the device computed itself (lu90614 body mode, idc50), or None.
    """

    at: datetime
    object_c: float | None = None
    ambient_c: float | None = None
    body_c: float | None = None

    def as_json(self) -> dict[str, float | str | None]:
        """Return the reading as the CLI's JSON object (``object_c``, ``ambient_c``, ``body_c``, ``at``)."""
        return {
            "object_c": self.object_c,
            "ambient_c": self.ambient_c,
            "body_c": self.body_c,
            "at": self.at.isoformat(),
        }


def fahrenheit_to_celsius(value_f: float) -> float:
    """Convert Fahrenheit to Celsius, rounded to hundredths as the devices print them."""
    return round((value_f - 32.0) * 5.0 / 9.0, 2)
