"""IDC50: a kiosk board with a 32x32 thermopile array; streams a body value every 500 ms.

Frame ``AA 55 06 int tenths SUM``, SUM the low byte of the sum of the bytes before it.
"""

from __future__ import annotations

from datetime import datetime

from sensors.thermometer.framing import BufferedDecoder, Step, low_byte_sum, skip_to
from sensors.thermometer.reading import Reading

HEADER = b"\xaa\x55"
TEMPERATURE = 0x06
FRAME_BYTES = 6


class Idc50Decoder(BufferedDecoder):
    """Decodes IDC50 frames, resynchronising on the ``AA 55`` header."""

    def _step(self, buffer: bytearray, at: datetime) -> Step:
        skip = skip_to(buffer, HEADER)
        if skip is not None or len(buffer) < 3:
            return skip
        if buffer[2] != TEMPERATURE:
            return 1, []
        if len(buffer) < FRAME_BYTES:
            return None
        if low_byte_sum(buffer[: FRAME_BYTES - 1]) != buffer[FRAME_BYTES - 1]:
            return 1, []
        return FRAME_BYTES, [Reading(at=at, body_c=round(buffer[3] + buffer[4] / 10, 1))]


def encode(body_c: float) -> bytes:
    """Return the frame an IDC50 sends for ``body_c`` (for the emulator)."""
    tenths = max(0, round(body_c * 10))
    frame = HEADER + bytes([TEMPERATURE, tenths // 10, tenths % 10])
    return frame + bytes([low_byte_sum(frame)])
