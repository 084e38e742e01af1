"""Optris CT / CS / CSmicro (and Micro-Epsilon thermoMETER CT): binary, polled, no framing.

The host sends ``01``; the device answers two bytes, degrees C = (b1 * 256 + b2 - 1000) / 10. With no
header and no checksum, a reply is recognised by time alone: the reader resets the decoder before
each poll, and an answer is exactly two bytes followed by ``quiet_s`` of silence. Anything else
between two polls (boot noise, a cut answer, stray bytes) is no reading.
"""

from __future__ import annotations

from datetime import datetime

from sensors.thermometer.framing import BufferedDecoder, Step
from sensors.thermometer.reading import Reading

READ_TARGET = b"\x01"


class OptrisCtDecoder(BufferedDecoder):
    """Decodes the two-byte answer to a target-temperature poll."""

    quiet_s = 0.02

    def __init__(self) -> None:
        super().__init__()
        self._answered = False

    def reset(self) -> None:
        """Forget buffered bytes: a new poll is about to be sent."""
        super().reset()
        self._answered = False

    def _step(self, buffer: bytearray, at: datetime) -> Step:
        if self._answered or len(buffer) > 2:
            self._answered = True
            return len(buffer), []
        if len(buffer) < 2 or self._age_s(at) < self.quiet_s:
            return None
        self._answered = True
        value_c = (buffer[0] * 256 + buffer[1] - 1000) / 10
        return 2, [Reading(at=at, object_c=value_c)]


def encode(object_c: float) -> bytes:
    """Return the answer an Optris CT gives to ``01`` for ``object_c`` (for the emulator)."""
    raw = min(0xFFFF, max(0, round(object_c * 10) + 1000))
    return bytes([raw >> 8, raw & 0xFF])
