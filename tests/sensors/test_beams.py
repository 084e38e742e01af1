from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from sensors.beams import BeamDecoder, BeamReader, checksum, encode_state
from sensors.beams_cli import beams
from sensors.crossing import Direction
from sensors.emulators.beams import BeamEmulator
from sensors.emulators.pty import PtyDevice
from sensors.serialport import SerialPort

AT = datetime(2026, 1, 1, tzinfo=UTC)

# The exact lines of the protocol. Checksum of the first worked by hand: XOR of "B,00,1000" =
# 42 ^ 2C ^ 30 ^ 30 ^ 2C ^ 31 ^ 30 ^ 30 ^ 30 = 43.
CLEAR = b"$B,00,1000*43\r\n"
A = b"$B,10,1100*43\r\n"
AB = b"$B,11,1200*41\r\n"
B = b"$B,01,1300*41\r\n"
CLEAR_END = b"$B,00,1400*47\r\n"
A_BACK = b"$B,10,1300*41\r\n"
B_FIRST = b"$B,01,1100*43\r\n"
A_LAST = b"$B,10,1300*41\r\n"


@pytest.mark.parametrize(
    ("line", "state", "ms"),
    [
        (CLEAR, (False, False), 1000),  # both clear
        (A, (True, False), 1100),  # A broken
        (AB, (True, True), 1200),  # both broken
        (B, (False, True), 1300),  # B broken
    ],
)
def test_encode_matches_the_documented_bytes(line: bytes, state: tuple[bool, bool], ms: int) -> None:
    assert encode_state(*state, ms) == line
    assert checksum(line[1 : line.index(b"*")]) == int(line[-4:-2], 16)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # Someone walks in: A breaks first, B is freed last.
        (CLEAR + A + AB + B + CLEAR_END, [Direction.IN]),
        # Someone walks out: B first, A last.
        (CLEAR + B_FIRST + AB + A_LAST + CLEAR_END, [Direction.OUT]),
        # Breaks both beams and steps back: A first and A last, nothing.
        (CLEAR + A + AB + A_BACK + CLEAR_END, []),
        # Breaks only the outer beam and leaves: nothing.
        (CLEAR + A + CLEAR_END, []),
        # Heartbeats repeating a state change nothing.
        (CLEAR + CLEAR + A + A + AB + AB + B + CLEAR_END + CLEAR_END, [Direction.IN]),
        # Two people in a row.
        (CLEAR + A + AB + B + CLEAR_END + A + AB + B + CLEAR_END, [Direction.IN, Direction.IN]),
        # Garbage before, between and inside lines is skipped: the lines around it still count.
        (
            b"\x00\xff#!" + CLEAR + b"\xfe\x01zz\r\n" + A + AB + b"$B,1" + b"\n" + B + CLEAR_END,
            [Direction.IN],
        ),
        # Garbage glued in front of a line (no newline between) does not lose the line.
        (CLEAR + b"\x13\x37" + A + AB + B + CLEAR_END, [Direction.IN]),
        # A bad checksum drops the only "A broken" line: both beams then change at once, nothing.
        (CLEAR + b"$B,10,1100*44\r\n" + AB + B + CLEAR_END, []),
        # A lost line: both beams changed between two lines, the order is unknown, nothing.
        (CLEAR + A + B + CLEAR_END, []),
        # The decoder starts mid-passage: where it began is unknown, nothing.
        (AB + B + CLEAR_END, []),
        # Comment lines (the boot banner) are ignored; bare \n line ends work too.
        (b"# gerbang-beams 1\n" + CLEAR + A + AB + B + CLEAR_END.replace(b"\r\n", b"\n"), [Direction.IN]),
    ],
)
def test_decoder(data: bytes, expected: list[Direction]) -> None:
    decoder = BeamDecoder()
    crossings = decoder.feed(data, AT)
    assert [c.direction for c in crossings] == expected
    assert all((c.source, c.line, c.track_id) == ("beams", 0, None) for c in crossings)


def test_the_decoder_takes_bytes_one_at_a_time() -> None:
    decoder = BeamDecoder(line="east")
    crossings = []
    for byte in CLEAR + A + AB + B + CLEAR_END:
        crossings += decoder.feed(bytes([byte]), AT)
    assert [(c.direction, c.line) for c in crossings] == [(Direction.IN, "east")]


def test_the_inner_beam_can_be_a() -> None:
    decoder = BeamDecoder(inner_beam="A")
    assert [c.direction for c in decoder.feed(CLEAR + A + AB + B + CLEAR_END, AT)] == [Direction.OUT]


def test_a_stale_partial_line_is_dropped() -> None:
    decoder = BeamDecoder()
    decoder.feed(CLEAR + A + AB + B[:6], AT)
    # The rest of that line arrives a second later glued to nothing: it cannot be trusted.
    assert decoder.feed(B[6:] + CLEAR_END, AT + timedelta(seconds=1)) == []
    assert decoder.lines_bad == 1


def test_endless_garbage_does_not_grow_the_buffer() -> None:
    decoder = BeamDecoder()
    assert decoder.feed(b"\xaa" * 10_000, AT) == []
    assert decoder.feed(CLEAR + A + AB + B + CLEAR_END, AT)[0].direction is Direction.IN


def test_a_bad_inner_beam_is_refused() -> None:
    with pytest.raises(ValueError, match="inner_beam"):
        BeamDecoder(inner_beam="C")


def _read_until(reader: BeamReader, n: int, timeout_s: float = 5.0) -> list[Direction]:
    directions: list[Direction] = []
    deadline = time.monotonic() + timeout_s
    while len(directions) < n and time.monotonic() < deadline:
        directions += [c.direction for c in reader.poll()]
    return directions


def test_reader_through_a_pty_with_the_emulator() -> None:
    with PtyDevice() as device:
        port = SerialPort(device.path, baud=9600, timeout_s=0.05)
        port.open()
        try:
            reader = BeamReader(port)
            emulator = BeamEmulator(device, step_s=0.01, sleep=lambda _: None)
            emulator.boot()
            emulator.walk(Direction.IN)
            emulator.turn_back(Direction.OUT)
            emulator.garbage()
            emulator.walk(Direction.OUT)
            emulator.walk(Direction.IN)
            assert _read_until(reader, 3) == [Direction.IN, Direction.OUT, Direction.IN]
            assert reader.decoder.lines_bad >= 1  # the garbage was seen and skipped
        finally:
            port.close()


def test_reader_survives_an_unplug(tmp_path) -> None:
    with PtyDevice(link=tmp_path / "beams") as device:
        port = SerialPort(device.path, baud=9600, timeout_s=0.05, backoff_initial_s=0.01, backoff_max_s=0.05)
        port.open()
        try:
            reader = BeamReader(port)
            emulator = BeamEmulator(device, step_s=0.01, sleep=lambda _: None)
            emulator.boot()
            emulator.set(True, False)  # someone is halfway through when the cable is pulled
            assert _read_until(reader, 1, timeout_s=0.3) == []
            device.unplug()
            _read_until(reader, 1, timeout_s=0.3)
            device.plug()
            deadline = time.monotonic() + 5.0
            while port.connections < 2 and time.monotonic() < deadline:
                reader.poll()  # the port reopens the new device (and flushes what waited there)
            emulator.boot()
            emulator.walk(Direction.OUT)
            assert _read_until(reader, 1) == [Direction.OUT]
            assert port.connections == 2
        finally:
            port.close()


def test_cli_read_prints_json_lines_from_the_emulator() -> None:
    with PtyDevice() as device:
        emulator = BeamEmulator(device, step_s=0.01, sleep=lambda _: None)
        done = threading.Event()

        def play() -> None:
            time.sleep(0.3)  # let the reader open the port
            emulator.boot()
            emulator.walk(Direction.IN)
            emulator.walk(Direction.OUT)
            done.set()

        player = threading.Thread(target=play)
        player.start()
        result = CliRunner().invoke(beams, ["read", device.path, "--json", "--count", "2", "--line", "north"])
        player.join()
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert [line.split('"direction": ')[1].split(",")[0] for line in lines] == ['"in"', '"out"']
    assert all('"line": "north"' in line and '"source": "beams"' in line for line in lines)


def test_cli_read_of_a_missing_port_is_one_clear_line(tmp_path) -> None:
    result = CliRunner().invoke(beams, ["read", str(tmp_path / "nothing")])
    assert result.exit_code != 0
    assert "cannot open" in result.output
    assert "Traceback" not in result.output


def test_cli_read_fails_when_the_device_is_silent() -> None:
    with PtyDevice() as device:
        result = CliRunner().invoke(beams, ["read", device.path, "--timeout", "0.3"])
    assert result.exit_code != 0
    assert "no valid gerbang-beams line" in result.output


@given(noise=st.lists(st.binary(max_size=40), min_size=5, max_size=5), chunk=st.integers(1, 17))
def test_noise_between_lines_never_loses_a_passage(noise: list[bytes], chunk: int) -> None:
    # Any noise without a newline or a '$' (which would make a line of its own), in any chunking.
    lines = [CLEAR, A, AB, B, CLEAR_END]
    data = b"".join(
        n.replace(b"\n", b"").replace(b"$", b"") + b"\n" + line for n, line in zip(noise, lines, strict=True)
    )
    decoder = BeamDecoder()
    crossings = []
    for start in range(0, len(data), chunk):
        crossings += decoder.feed(data[start : start + chunk], AT)
    assert [c.direction for c in crossings] == [Direction.IN]
