"""USB relay boards of the LCUS-1 type (CH340 serial, 9600 baud) for a door lock or a traffic light.

Command: ``A0 ch state sum`` with sum the low byte of ``A0 + ch + state``: ``A0 01 01 A2`` closes
relay 1, ``A0 01 00 A1`` opens it. The board does not answer.
"""

from __future__ import annotations

from typing import Protocol

from sensors.serialport import SerialPort

BAUD = 9600
START = 0xA0


def command(channel: int, closed: bool) -> bytes:
    """Return the bytes that close (or open) relay ``channel`` (1-based)."""
    if not 1 <= channel <= 8:
        raise ValueError(f"relay channel must be 1 to 8, not {channel}")
    state = 1 if closed else 0
    return bytes([START, channel, state, (START + channel + state) & 0xFF])


def decode(data: bytes) -> tuple[list[tuple[int, bool]], bytes]:
    """Find the commands in ``data``.

    Returns:
        The (channel, closed) commands, skipping bytes that are not one, and the tail that may be
        the start of a command completed by the next bytes.
    """
    found = []
    index = 0
    while index + 4 <= len(data):
        frame = data[index : index + 4]
        if frame[0] == START and frame[2] in (0, 1) and (frame[0] + frame[1] + frame[2]) & 0xFF == frame[3]:
            found.append((frame[1], frame[2] == 1))
            index += 4
        else:
            index += 1
    tail = data[index:]
    start = tail.find(bytes([START]))
    return found, tail[start:] if start >= 0 else b""


class Switch(Protocol):
    """Something that can be switched on and off (a door lock, a light)."""

    def set(self, closed: bool) -> bool:
        """Close (True) or open (False); returns whether the command went out."""
        ...


class Relay:
    """One channel of a relay board.

    Args:
        port: The board's serial port.
        channel: The relay to drive (1-based).
    """

    def __init__(self, port: SerialPort, channel: int = 1) -> None:
        command(channel, True)  # check the channel now
        self.port = port
        self.channel = channel
        self.closed: bool | None = None

    def set(self, closed: bool) -> bool:
        """Close or open the relay; returns False when the board is unplugged."""
        sent = self.port.write(command(self.channel, closed))
        if sent:
            self.closed = closed
        return sent
