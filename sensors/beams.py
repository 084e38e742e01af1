r"""A beam-pair door counter over serial: its line protocol, a pure decoder and a reader.

Two infrared beams cross the doorway a hand's width apart; a microcontroller watches both and reports
their state. The beam broken first and the beam freed last give the direction; the host decides, so
the firmware stays trivial and every rule is tested here.

Protocol ``gerbang-beams/1`` (device to host only; 9600 baud 8N1 by default):

- ASCII lines ending in ``\n`` (a ``\r`` before it is ignored), at most 64 bytes.
- ``$B,<ab>,<ms>*<hh>`` — the beams' state: ``a`` for beam A then ``b`` for beam B, ``1`` broken and
  ``0`` clear; ``ms`` the device's uptime in milliseconds (decimal, wraps at 2**32); ``hh`` the XOR of
  every byte between ``$`` and ``*``, as two hex digits, like NMEA. Example: ``$B,10,1200*40``.
- The device sends a state line on every change of either beam, after holding the change for 20 ms
  (its own debounce), and at least once a second as a heartbeat.
- Lines starting with ``#`` are comments (the boot banner ``# gerbang-beams 1``); anything else is
  garbage and is skipped up to the next newline, as is a line with a bad checksum.

By default beam A is the outer one (the corridor side) and B the inner one (the room's side): a person
going in breaks A first and frees B last. Mounted the other way round, set ``inner_beam="A"``.

Decoding: a passage starts when a beam breaks while both were clear and ends when both are clear
again. It counts when one beam broke first and the *other* was freed last: someone who breaks a beam
and steps back (first and last the same beam) counts nothing. When both beams change between two
lines (a line was lost, or the decoder joined mid-passage) the order is unknown and the passage counts
nothing rather than guessing.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from sensors.crossing import Crossing, Direction
from sensors.serialport import SerialPort

log = logging.getLogger(__name__)

DEFAULT_BAUD = 9600
MAX_LINE_BYTES = 64
BANNER = b"# gerbang-beams 1\r\n"

_STATE = re.compile(rb"\$(B,([01])([01]),(\d{1,10}))\*([0-9A-Fa-f]{2})")
_UNKNOWN = "?"


def checksum(body: bytes) -> int:
    """Return the XOR of ``body``'s bytes (the part between ``$`` and ``*``)."""
    value = 0
    for byte in body:
        value ^= byte
    return value


def encode_state(a_broken: bool, b_broken: bool, ms: int) -> bytes:
    """Return the state line a device sends: ``$B,<ab>,<ms>*<hh>`` and CR LF."""
    body = f"B,{int(a_broken)}{int(b_broken)},{ms % 2**32}".encode("ascii")
    return b"$" + body + f"*{checksum(body):02X}\r\n".encode("ascii")


def utc_now() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


class BeamDecoder:
    """Turns the bytes of ``gerbang-beams/1`` into crossings. Pure: no I/O, time comes in as ``at``.

    Args:
        inner_beam: Which beam is on the room's side, ``"A"`` or ``"B"``.
        line: What crossings carry as ``line`` (this door's index or name).
        stale_partial_s: A partial line waiting longer than this for its rest is dropped.
    """

    def __init__(self, *, inner_beam: str = "B", line: int | str = 0, stale_partial_s: float = 0.5) -> None:
        inner_beam = inner_beam.upper()
        if inner_beam not in ("A", "B"):
            raise ValueError(f"inner_beam must be 'A' or 'B', got {inner_beam!r}")
        self.inner_beam = inner_beam
        self.line = line
        self._stale_partial_s = stale_partial_s
        self._buffer = bytearray()
        self._last_at: datetime | None = None
        self.lines_ok = 0
        self.lines_bad = 0
        self.in_count = 0
        self.out_count = 0
        self.last_ms: int | None = None
        self.reset()

    def reset(self) -> None:
        """Forget buffered bytes and the beams' state (a new connection)."""
        self._buffer.clear()
        self._state: tuple[bool, bool] | None = None
        self._first: str | None = None  # beam broken first in the passage under way, or "?"
        self._last_freed: str | None = None

    @property
    def state(self) -> tuple[bool, bool] | None:
        """The last reported (A broken, B broken), or None before the first state line."""
        return self._state

    def feed(self, data: bytes, at: datetime) -> list[Crossing]:
        """Take the bytes received at ``at`` and return the crossings they complete."""
        stale = self._last_at is not None and (at - self._last_at).total_seconds() > self._stale_partial_s
        if self._buffer and stale:
            self._buffer.clear()
        self._last_at = at
        self._buffer += data
        crossings: list[Crossing] = []
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                break
            line = bytes(self._buffer[:end]).rstrip(b"\r")
            del self._buffer[: end + 1]
            crossing = self._line(line, at)
            if crossing is not None:
                crossings.append(crossing)
        if len(self._buffer) > MAX_LINE_BYTES:
            start = self._buffer.rfind(b"$")
            keep = self._buffer[start:] if start >= 0 and len(self._buffer) - start <= MAX_LINE_BYTES else b""
            self.lines_bad += 1
            self._buffer = bytearray(keep)
        return crossings

    def _line(self, line: bytes, at: datetime) -> Crossing | None:
        if not line or line.startswith(b"#"):
            return None
        start = line.rfind(b"$")  # garbage glued in front of a line is dropped with it
        match = _STATE.fullmatch(line[start:]) if start >= 0 else None
        if match is None or checksum(match.group(1)) != int(match.group(5), 16):
            self.lines_bad += 1
            log.debug("skipped a bad beam line %r", line[:MAX_LINE_BYTES])
            return None
        self.lines_ok += 1
        self.last_ms = int(match.group(4))
        return self._step((match.group(2) == b"1", match.group(3) == b"1"), at)

    def _step(self, state: tuple[bool, bool], at: datetime) -> Crossing | None:
        previous = self._state
        self._state = state
        if previous is None:
            # Joined mid-passage: its start is unknown, so it cannot count.
            self._first = _UNKNOWN if any(state) else None
            return None
        if state == previous:
            return None
        broke = [beam for beam, was, now in zip("AB", previous, state, strict=True) if now and not was]
        freed = [beam for beam, was, now in zip("AB", previous, state, strict=True) if was and not now]
        if not any(previous):
            self._first = broke[0] if len(broke) == 1 else _UNKNOWN
            self._last_freed = None
        elif len(broke) + len(freed) > 1:
            self._first = _UNKNOWN  # both beams changed between two lines: the order is lost
        if freed:
            self._last_freed = freed[0] if len(freed) == 1 else _UNKNOWN
        if any(state):
            return None
        first, last = self._first, self._last_freed
        self._first = self._last_freed = None
        if first in (None, _UNKNOWN) or last in (None, _UNKNOWN) or first == last:
            return None
        direction = Direction.IN if last == self.inner_beam else Direction.OUT
        if direction is Direction.IN:
            self.in_count += 1
        else:
            self.out_count += 1
        return Crossing(at=at, direction=direction, line=self.line, source="beams")


class BeamReader:
    """Reads crossings from a beam counter on a (reconnecting) serial port.

    Args:
        port: The port to read; the reader never closes it.
        decoder: The decoder (its ``inner_beam`` and ``line`` settings).
        stale_s: Silence after which the device counts as gone (it sends a heartbeat every second).
        clock: Returns the time stamped on crossings (UTC).
    """

    def __init__(
        self,
        port: SerialPort,
        decoder: BeamDecoder | None = None,
        *,
        stale_s: float = 3.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.port = port
        self.decoder = decoder or BeamDecoder()
        self._stale_s = stale_s
        self._clock = clock
        self._connection = -1
        self._last_line = time.monotonic()
        self._lines_seen = 0

    @property
    def stale(self) -> bool:
        """Whether no valid line (not even a heartbeat) arrived for ``stale_s`` seconds."""
        return time.monotonic() - self._last_line > self._stale_s

    def poll(self) -> list[Crossing]:
        """Read once (at most about the port's ``timeout_s``) and return the crossings completed."""
        data = self.port.read()
        if self.port.connections != self._connection:  # (re)opened, maybe by this read: a new device state
            self._connection = self.port.connections
            self.decoder.reset()
        if not data:
            return []
        crossings = self.decoder.feed(data, self._clock())
        if self.decoder.lines_ok != self._lines_seen:
            self._lines_seen = self.decoder.lines_ok
            self._last_line = time.monotonic()
        return crossings

    def crossings(self, stop: threading.Event | None = None) -> Iterator[Crossing]:
        """Yield crossings as they come, until ``stop`` is set."""
        stop = stop or threading.Event()
        while not stop.is_set():
            yield from self.poll()
