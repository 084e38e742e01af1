"""LCUS-1 relay boards: the command bytes, and a relay driven through a real pty."""

import threading
import time

import pytest

from sensors.emulators.relay import RelayEmulator
from sensors.relay import Relay, command, decode
from sensors.serialport import SerialPort

H = bytes.fromhex


@pytest.mark.parametrize(
    ("channel", "closed", "expected"),
    [
        # the manual's own bytes: close relay 1
        (1, True, H("A00101A2")),
        # open relay 1
        (1, False, H("A00100A1")),
        # relay 2 of a two-channel board
        (2, True, H("A00201A3")),
    ],
)
def test_command_bytes(channel, closed, expected):
    assert command(channel, closed) == expected


@pytest.mark.parametrize(
    ("data", "commands", "rest"),
    [
        # two commands back to back
        (H("A00101A2A00100A1"), [(1, True), (1, False)], b""),
        # garbage and a bad checksum are skipped
        (H("FF00A00101A3A00101A2"), [(1, True)], b""),
        # a command split across reads keeps its start for the next read
        (H("A00101A2A001"), [(1, True)], H("A001")),
    ],
)
def test_decode(data, commands, rest):
    assert decode(data) == (commands, rest)


def test_channel_out_of_range():
    with pytest.raises(ValueError, match="1 to 8"):
        command(9, True)


def test_relay_switches_the_emulated_board():
    changes = []
    board = RelayEmulator(on_change=lambda channel, closed: changes.append((channel, closed)))
    stop = threading.Event()
    thread = threading.Thread(target=board.run, args=(stop,), daemon=True)
    thread.start()
    try:
        with SerialPort(board.path, baud=9600) as port:
            relay = Relay(port)
            assert relay.set(True)
            assert relay.set(False)
            assert relay.set(True)
            deadline = time.monotonic() + 3
            while len(changes) < 3 and time.monotonic() < deadline:
                time.sleep(0.02)
    finally:
        stop.set()
        thread.join(timeout=2)
        board.device.close()
    assert changes == [(1, True), (1, False), (1, True)]
    assert board.closed == {1: True}
