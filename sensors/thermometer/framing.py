"""What every decoder shares: a byte buffer that survives split frames and forgets stale partial ones."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sensors.thermometer.reading import Reading

#: What a decoder's ``_step`` answers: bytes to drop from the buffer's front and the readings they
#: made (none for garbage or a frame of another type), or None when more bytes are needed.
Step = tuple[int, list[Reading]] | None


class Decoder(Protocol):
    """Turns the bytes of one wire protocol into readings. Pure: no I/O, time comes in as ``at``."""

    def feed(self, data: bytes, at: datetime) -> list[Reading]:
        """Take the bytes received at ``at`` and return the readings they complete."""
        ...

    def reset(self) -> None:
        """Forget buffered bytes (a new connection, or a new poll of a polled device)."""
        ...


class BufferedDecoder:
    """Base of the decoders: buffers bytes and asks ``_step`` to consume frames from the front.

    A partial frame that waited longer than ``stale_partial_s`` for its rest is dropped when new
    bytes arrive: the rest was lost, and gluing it to a later frame would invent a reading. Feeding
    no bytes tells the decoder that time has passed (the polled decoders need that).
    """

    stale_partial_s = 0.2
    max_buffer_bytes = 4096

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._last_at: datetime | None = None

    def reset(self) -> None:
        """Forget buffered bytes."""
        self._buffer.clear()

    def feed(self, data: bytes, at: datetime) -> list[Reading]:
        """Take the bytes received at ``at`` and return the readings they complete."""
        if data:
            if self._buffer and self._last_at is not None and self._age_s(at) > self.stale_partial_s:
                self._buffer.clear()
            self._last_at = at
            self._buffer += data
        if len(self._buffer) > self.max_buffer_bytes:
            del self._buffer[: len(self._buffer) - self.max_buffer_bytes]
        readings: list[Reading] = []
        while self._buffer:
            step = self._step(self._buffer, at)
            if step is None:
                break
            consumed, made = step
            del self._buffer[:consumed]
            readings += made
        return readings

    def _age_s(self, at: datetime) -> float:
        """Seconds from the last byte received to ``at``."""
        return (at - self._last_at).total_seconds() if self._last_at is not None else 0.0

    def _step(self, buffer: bytearray, at: datetime) -> Step:
        raise NotImplementedError


def low_byte_sum(data: bytes | bytearray) -> int:
    """Return the low byte of the sum of ``data``: the checksum of most of these protocols."""
    return sum(data) & 0xFF


def skip_to(buffer: bytearray, header: bytes) -> Step:
    """Drop garbage before ``header``; keep a trailing part of it that may be completed later.

    Returns the step dropping the garbage, or None when the buffer already starts with the header
    (or holds only the start of one).
    """
    index = buffer.find(header)
    if index == 0:
        return None
    if index > 0:
        return index, []
    keep = next(
        (n for n in range(len(header) - 1, 0, -1) if buffer.endswith(header[:n])),
        0,
    )
    drop = len(buffer) - keep
    return (drop, []) if drop else None
