"""LU90614: a UART thermometer module with a body mode; polled.

Commands: body mode ``FA C5 BF``, object mode ``FA C6 C0``, measure ``FA CA C4``. Reply
``FE mode int frac 00 00 00 00 SUM`` (mode ``AC`` body, ``AA`` object; frac in hundredths; SUM the
low byte of the sum of bytes 0-7).
"""

from __future__ import annotations

from datetime import datetime

from sensors.thermometer.framing import BufferedDecoder, Step, low_byte_sum, skip_to
from sensors.thermometer.reading import Reading

HEADER = b"\xfe"
BODY = 0xAC
OBJECT = 0xAA
FRAME_BYTES = 9
BODY_MODE = bytes.fromhex("FA C5 BF")
OBJECT_MODE = bytes.fromhex("FA C6 C0")
MEASURE = bytes.fromhex("FA CA C4")


class Lu90614Decoder(BufferedDecoder):
    """Decodes LU90614 replies, resynchronising on the ``FE`` header."""

    def _step(self, buffer: bytearray, at: datetime) -> Step:
        skip = skip_to(buffer, HEADER)
        if skip is not None or len(buffer) < 2:
            return skip
        if buffer[1] not in (BODY, OBJECT):
            return 1, []
        if len(buffer) < FRAME_BYTES:
            return None
        if low_byte_sum(buffer[: FRAME_BYTES - 1]) != buffer[FRAME_BYTES - 1]:
            return 1, []
        value_c = buffer[2] + buffer[3] / 100
        if buffer[1] == BODY:
            return FRAME_BYTES, [Reading(at=at, body_c=round(value_c, 2))]
        return FRAME_BYTES, [Reading(at=at, object_c=round(value_c, 2))]


def encode(value_c: float, *, body: bool) -> bytes:
    """Return the reply an LU90614 sends for ``value_c`` in body or object mode (for the emulator)."""
    hundredths = max(0, round(value_c * 100))
    frame = bytes([HEADER[0], BODY if body else OBJECT, hundredths // 100, hundredths % 100])
    frame += bytes(4)
    return frame + bytes([low_byte_sum(frame)])
