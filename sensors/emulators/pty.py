"""A pseudo-terminal that stands in for a USB serial device.

The emulator holds the master side; the software under test opens the slave side (or a stable symlink
to it, as udev's ``/dev/serial/by-id`` names are) with pyserial like any serial port. ``unplug``
makes the device vanish the way a pulled USB cable does, ``plug`` brings it back under a new name.
"""

from __future__ import annotations

import contextlib
import errno
import os
import pty
import select
import termios
import time
import tty
from pathlib import Path

_BAUD_BY_SPEED = {
    getattr(termios, f"B{baud}"): baud
    for baud in (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)
    if hasattr(termios, f"B{baud}")
}


class PtyDevice:
    """The device side of a pseudo-terminal pair.

    Args:
        link: Optional path of a symlink kept pointing at the current slave device, so a reader can
            open one stable name across unplug and replug.
    """

    def __init__(self, link: str | Path | None = None) -> None:
        self._link = Path(link) if link is not None else None
        self._master: int | None = None
        self._slave: int | None = None
        self._device = ""
        self.plug()

    @property
    def device(self) -> str:
        """The slave device's own name, such as ``/dev/pts/7``; empty while unplugged."""
        return self._device

    @property
    def path(self) -> str:
        """The name a reader should open: the symlink when one was asked for, else the device."""
        return str(self._link) if self._link is not None else self._device

    @property
    def host_baud(self) -> int | None:
        """The baud rate the host set when it opened the port (a pty keeps it, though it ignores it).

        None while unplugged or when the speed is not a standard one.
        """
        if self._master is None:
            return None
        speed = termios.tcgetattr(self._master)[5]
        return _BAUD_BY_SPEED.get(speed)

    @property
    def plugged(self) -> bool:
        """Whether the device is present."""
        return self._master is not None

    def plug(self) -> None:
        """Create the device (again): a fresh pty, raw, with the symlink pointing at it."""
        if self._master is not None:
            return
        master, slave = pty.openpty()
        tty.setraw(master)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self._device = os.ttyname(slave)
        if self._link is not None:
            temporary = self._link.with_name(f".{self._link.name}.{os.getpid()}")
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
            temporary.symlink_to(self._device)
            temporary.replace(self._link)

    def unplug(self) -> None:
        """Make the device vanish: both ends closed, the symlink removed."""
        if self._link is not None:
            with contextlib.suppress(FileNotFoundError):
                self._link.unlink()
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None
        self._device = ""

    close = unplug

    def write(self, data: bytes) -> int:
        """Send bytes to the host; like a UART, bytes nobody can take are lost. Returns bytes sent."""
        master = self._master  # another thread may unplug meanwhile
        if master is None or not data:
            return 0
        try:
            return os.write(master, data)
        except BlockingIOError:
            return 0
        except OSError as err:
            if err.errno in (errno.EIO, errno.EBADF):
                return 0
            raise

    def read(self, timeout_s: float) -> bytes:
        """Return what the host sent, waiting up to ``timeout_s``; empty on timeout or when unplugged."""
        master = self._master  # another thread may unplug meanwhile
        if master is None:
            time.sleep(timeout_s)
            return b""
        try:
            ready, _, _ = select.select([master], [], [], timeout_s)
            return os.read(master, 4096) if ready else b""
        except (BlockingIOError, InterruptedError, ValueError):
            return b""
        except OSError as err:
            if err.errno in (errno.EIO, errno.EBADF):
                return b""
            raise

    def __enter__(self) -> PtyDevice:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.unplug()
