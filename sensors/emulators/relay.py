"""An LCUS-1 relay board on a pty: it takes switching commands and reports its relays' states."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sensors.emulators.pty import PtyDevice
from sensors.relay import decode


class RelayEmulator:
    """A relay board with ``channels`` relays, all open at power-up.

    Args:
        device: The pty to listen on; a new one when None.
        channels: Relays on the board.
        on_change: Called with (channel, closed) whenever a relay switches.
    """

    def __init__(
        self,
        device: PtyDevice | None = None,
        channels: int = 1,
        on_change: Callable[[int, bool], None] | None = None,
    ) -> None:
        self.device = device or PtyDevice()
        self.closed = dict.fromkeys(range(1, channels + 1), False)
        self._on_change = on_change
        self._pending = b""

    @property
    def path(self) -> str:
        """The device path a host should open."""
        return self.device.path

    def run(self, stop: threading.Event) -> None:
        """Take commands until ``stop`` is set."""
        while not stop.is_set():
            self.feed(self.device.read(0.05))

    def feed(self, data: bytes) -> None:
        """Apply the commands in ``data`` (kept across calls when a command is split)."""
        commands, self._pending = decode(self._pending + data)
        for channel, closed in commands:
            if channel in self.closed and self.closed[channel] != closed:
                self.closed[channel] = closed
                if self._on_change is not None:
                    self._on_change(channel, closed)
