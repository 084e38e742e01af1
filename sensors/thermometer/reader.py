"""Reads a thermometer: sends what its protocol asks for, decodes what comes back."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from sensors.serialport import SerialPort
from sensors.thermometer.protocols import Protocol
from sensors.thermometer.reading import Reading


def utc_now() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


class ThermometerReader:
    """Polls or listens to one thermometer on a (reconnecting) serial port.

    A streaming device that needs a start command gets it after every (re)connection and again every
    ``start_retry_s`` until frames flow, and again once frames have stopped for ``stale_s`` (the
    device may have been power-cycled). A polled device gets its poll every ``poll_interval_s``; the
    decoder is reset before each poll so an answer is never glued to stray bytes.

    Args:
        port: The port to read; the reader never closes it.
        protocol: The device's wire protocol.
        stale_s: Silence after which readings are stale and the start command is sent again.
        start_retry_s: Time between start commands while no frames flow.
        clock: Returns the time stamped on readings (UTC).
    """

    def __init__(
        self,
        port: SerialPort,
        protocol: Protocol,
        *,
        stale_s: float = 2.0,
        start_retry_s: float = 0.2,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.port = port
        self.protocol = protocol
        self._stale_s = stale_s
        self._start_retry_s = start_retry_s
        self._clock = clock
        self._decoder = protocol.make_decoder()
        self._connection = -1
        self._last_frame = -math.inf
        self._last_start = -math.inf
        self._last_poll = -math.inf

    @property
    def stale(self) -> bool:
        """Whether no valid frame has arrived for ``stale_s`` seconds."""
        return time.monotonic() - self._last_frame > self._stale_s

    def poll(self) -> list[Reading]:
        """Do one round (at most about the port's ``timeout_s``) and return the readings it made."""
        now = time.monotonic()
        if self.port.connections != self._connection:
            self._connection = self.port.connections
            self._decoder.reset()
            self._last_frame = self._last_start = -math.inf
        protocol = self.protocol
        if protocol.start and self.stale and now - self._last_start >= self._start_retry_s:
            self.port.write(protocol.start)
            self._last_start = now
        if protocol.poll and now - self._last_poll >= protocol.poll_interval_s:
            self._decoder.reset()
            self.port.write(protocol.poll)
            self._last_poll = now
        readings = self._decoder.feed(self.port.read(), self._clock())
        if readings:
            self._last_frame = time.monotonic()
        return readings

    def readings(self, stop: threading.Event | None = None) -> Iterator[Reading]:
        """Yield readings as they come, until ``stop`` is set."""
        stop = stop or threading.Event()
        while not stop.is_set():
            yield from self.poll()
