"""A serial port that survives its device: open any pyserial URL, read with timeouts, reconnect.

Any URL ``serial.serial_for_url`` takes works: ``/dev/ttyUSB0``, ``socket://host:port``,
``rfc2217://host:port``, ``hwgrep://VID:PID`` (which finds a USB device again after it comes back
under another name), ``loop://``. When the device disappears the port reports itself offline,
logs that once, and retries opening with exponential back-off; when it is back it logs that once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from enum import StrEnum

import serial

#: What a vanished or failing device raises, from pyserial and beneath it.
DEVICE_ERRORS: tuple[type[BaseException], ...] = (serial.SerialException, OSError, TypeError)
try:  # POSIX: pyserial's flush (tcdrain) on a device gone mid-write raises termios.error, no OSError
    import termios

    DEVICE_ERRORS += (termios.error,)
except ImportError:  # pragma: no cover - Windows has no termios
    pass

log = logging.getLogger(__name__)

Opener = Callable[..., serial.SerialBase]


class PortState(StrEnum):
    """Whether the device behind a port is there."""

    ONLINE = "online"
    OFFLINE = "offline"


class PortError(RuntimeError):
    """A port that cannot be opened, with a message fit for the person at the keyboard."""


class SerialPort:
    """A reconnecting serial port.

    Args:
        url: A pyserial URL or device path.
        baud: Baud rate.
        timeout_s: How long one ``read`` waits for data.
        backoff_initial_s: First wait before reopening a lost device; doubles up to ``backoff_max_s``.
        backoff_max_s: Longest wait between reopening attempts.
        on_state: Called with the new state whenever the device goes or comes back.
        opener: Opens the URL; ``serial.serial_for_url`` unless a test passes another.
    """

    def __init__(
        self,
        url: str,
        *,
        baud: int,
        timeout_s: float = 0.05,
        backoff_initial_s: float = 0.1,
        backoff_max_s: float = 1.0,
        on_state: Callable[[PortState], None] | None = None,
        opener: Opener = serial.serial_for_url,
    ) -> None:
        self.url = url
        self.baud = baud
        self.timeout_s = timeout_s
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._backoff_s = backoff_initial_s
        self._on_state = on_state
        self._opener = opener
        self._serial: serial.SerialBase | None = None
        self._state = PortState.OFFLINE
        self._next_attempt = 0.0
        self._lock = threading.Lock()
        self.connections = 0

    @property
    def state(self) -> PortState:
        """ONLINE while the device is open, OFFLINE while it is gone."""
        return self._state

    def open(self) -> None:
        """Open the port now.

        Raises:
            PortError: The port cannot be opened (no such device, no permission, bad URL).
        """
        try:
            self._connect()
        except (serial.SerialException, OSError, ValueError) as err:
            raise PortError(f"cannot open {self.url}: {_reason(err)}") from err

    def read(self, size: int = 4096) -> bytes:
        """Return the bytes waiting, up to ``size``, after at most ``timeout_s``.

        Returns an empty result on timeout and while the device is gone; a lost device is reopened
        in the background of later calls, so a caller's loop simply goes on.
        """
        port = self._ensure()
        if port is None:
            return b""
        try:
            data = port.read(max(1, min(size, port.in_waiting)))
            if data and port.in_waiting:
                data += port.read(min(size - len(data), port.in_waiting))
            return data
        except DEVICE_ERRORS as err:
            self._lost(err)
            return b""

    def write(self, data: bytes) -> bool:
        """Send ``data``; returns False when the device is gone (the bytes are dropped)."""
        port = self._ensure()
        if port is None:
            return False
        try:
            port.write(data)
            port.flush()
            return True
        except DEVICE_ERRORS as err:
            self._lost(err)
            return False

    def close(self) -> None:
        """Close the port; a later read or write reopens it."""
        with self._lock:
            if self._serial is not None:
                try:
                    self._serial.close()
                except DEVICE_ERRORS:
                    log.debug("closing %s failed", self.url, exc_info=True)
                self._serial = None

    def __enter__(self) -> SerialPort:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _connect(self) -> None:
        port = self._opener(self.url, baudrate=self.baud, timeout=self.timeout_s, write_timeout=1.0)
        with self._lock:
            self._serial = port
        self.connections += 1
        self._backoff_s = self._backoff_initial_s
        if self._state is not PortState.ONLINE:
            if self.connections > 1:
                log.warning("%s is back", self.url)
            self._set_state(PortState.ONLINE)

    def _ensure(self) -> serial.SerialBase | None:
        if self._serial is not None:
            return self._serial
        wait_s = self._next_attempt - time.monotonic()
        if wait_s > 0:
            time.sleep(min(wait_s, self.timeout_s))
            return None
        try:
            self._connect()
        except (serial.SerialException, OSError, ValueError) as err:
            log.debug("reopening %s failed: %s", self.url, err)
            self._schedule_retry()
            return None
        return self._serial

    def _lost(self, err: BaseException) -> None:
        self.close()
        if self._state is PortState.ONLINE:
            log.warning("%s is gone (%s); retrying in the background", self.url, _reason(err))
            self._set_state(PortState.OFFLINE)
        self._backoff_s = self._backoff_initial_s
        self._schedule_retry()

    def _schedule_retry(self) -> None:
        self._next_attempt = time.monotonic() + self._backoff_s
        self._backoff_s = min(self._backoff_s * 2, self._backoff_max_s)

    def _set_state(self, state: PortState) -> None:
        self._state = state
        if self._on_state is not None:
            self._on_state(state)


def _reason(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0]
