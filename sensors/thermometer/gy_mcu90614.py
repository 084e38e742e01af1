"""GY-MCU90614 / GY-MCU90615: an MLX9061x behind an STM8, binary frames.

Reply ``5A 5A 45 04 TOh TOl TAh TAl SUM``: object then ambient, signed big-endian hundredths of a
degree C; SUM is the low byte of the sum of the bytes before it. Frames of other types (``0x25``
emissivity, ``0x35`` offset) share the header and carry their length in byte 3.
"""

from __future__ import annotations

import struct
from datetime import datetime

from sensors.thermometer.framing import BufferedDecoder, Step, low_byte_sum, skip_to
from sensors.thermometer.reading import Reading

HEADER = b"\x5a\x5a"
TEMPERATURE = 0x45
MAX_DATA_BYTES = 8
CONTINUOUS = bytes.fromhex("A5 45 EA")
QUERY = bytes.fromhex("A5 15 BA")


class GyMcu90614Decoder(BufferedDecoder):
    """Decodes GY-MCU90614 frames, resynchronising on the ``5A 5A`` header."""

    def _step(self, buffer: bytearray, at: datetime) -> Step:
        skip = skip_to(buffer, HEADER)
        if skip is not None or len(buffer) < 4:
            return skip
        length = buffer[3]
        if length > MAX_DATA_BYTES:
            return 1, []
        size = 4 + length + 1
        if len(buffer) < size:
            return None
        if low_byte_sum(buffer[: size - 1]) != buffer[size - 1]:
            return 1, []
        if buffer[2] != TEMPERATURE or length != 4:
            return size, []
        object_raw, ambient_raw = struct.unpack(">hh", bytes(buffer[4:8]))
        return size, [Reading(at=at, object_c=object_raw / 100, ambient_c=ambient_raw / 100)]


def encode(object_c: float, ambient_c: float) -> bytes:
    """Return the temperature frame a GY-MCU90614 sends for these values (for the emulator)."""
    body = (
        HEADER + bytes([TEMPERATURE, 4]) + struct.pack(">hh", round(object_c * 100), round(ambient_c * 100))
    )
    return body + bytes([low_byte_sum(body)])
