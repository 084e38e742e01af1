"""The reader on real pseudo-terminals, with each emulator on the master side."""

import logging
import threading
import time

import pytest

from sensors.emulators.pty import PtyDevice
from sensors.emulators.scenario import Boot, Scenario, Step, StepKind
from sensors.emulators.thermometer import ThermometerEmulator
from sensors.serialport import PortState, SerialPort
from sensors.thermometer.protocols import get_protocol
from sensors.thermometer.reader import ThermometerReader

STEADY = Scenario(
    ambient_c=25.0,
    noise_c=0.0,
    step_up_s=0.0,
    body_offset_c=2.5,
    boot=Boot.ESP32,
    steps=(Step(StepKind.PERSON, seconds=30.0, object_c=34.5),),
)


def first_readings(reader, count, deadline_s=5.0):
    readings = []
    end = time.monotonic() + deadline_s
    while len(readings) < count and time.monotonic() < end:
        readings += reader.poll()
    return readings


@pytest.fixture
def emulated():
    """Start an emulator in a thread; stop and unplug it afterwards."""
    running = []

    def start(protocol, scenario=STEADY, link=None, before=None, **kwargs):
        """Make an emulator; ``before(path)`` runs before it starts (to open the port first)."""
        emulator = ThermometerEmulator(protocol, scenario, PtyDevice(link), **kwargs)
        if before is not None:
            before(emulator.path)
        stop = threading.Event()
        thread = threading.Thread(target=emulator.run, args=(stop,), daemon=True)
        thread.start()
        running.append((emulator, stop, thread))
        return emulator

    yield start
    for emulator, stop, thread in running:
        stop.set()
        thread.join(timeout=3)
        emulator.device.close()


@pytest.mark.parametrize(
    ("protocol", "expected"),
    [
        # streams only after the start command A5 45 EA
        ("gy-mcu90614", (34.5, 25.0, None)),
        # polled with FA CA C4 after body mode FA C5 BF: the device's own body value
        ("lu90614", (None, None, 37.0)),
        # polled with 01, no framing at all
        ("optris-ct", (34.5, None, None)),
        # streams a body value every 500 ms
        ("idc50", (None, None, 37.0)),
        # text lines in C and F after a banner: one reading each
        ("adafruit-mlx90614", (34.5, 25.0, None)),
        # text lines in F with a raw 0xB0 degree sign
        ("sparkfun-mlx90614", (34.5, 25.0, None)),
    ],
)
def test_reader_decodes_each_emulated_device(emulated, protocol, expected):
    emulator = emulated(protocol)
    spec = get_protocol(protocol)
    with SerialPort(emulator.path, baud=spec.baud) as port:
        readings = first_readings(ThermometerReader(port, spec), 3)
    assert [(r.object_c, r.ambient_c, r.body_c) for r in readings] == [expected] * 3


def test_wrong_baud_rate_gives_no_readings(emulated):
    emulator = emulated("idc50", baud=115200)
    with SerialPort(emulator.path, baud=9600) as port:
        assert first_readings(ThermometerReader(port, get_protocol("idc50")), 1, deadline_s=1.5) == []


def test_corrupt_frames_nan_and_garbage_are_skipped(emulated):
    scenario = Scenario(
        noise_c=0.0,
        step_up_s=0.0,
        steps=(
            Step(StepKind.CORRUPT, count=3),
            Step(StepKind.NAN, count=2),
            Step(StepKind.GARBAGE, text=r"\xff\xffrst:0x1 (POWERON_RESET)\r\n"),
            Step(StepKind.PERSON, seconds=30.0, object_c=36.2),
        ),
    )
    port = SerialPort("", baud=9600)
    emulator = emulated(
        "gy-mcu90614", scenario, before=lambda path: setattr(port, "url", path) or port.open()
    )
    try:
        reader = ThermometerReader(port, get_protocol("gy-mcu90614"))
        first = first_readings(reader, 1, 6.0)
        sent_before_first = emulator.frames_sent
        readings = first + first_readings(reader, 2, 6.0)
    finally:
        port.close()
    # three damaged frames and two failed reads came first; what comes through is exact
    assert sent_before_first >= 6
    assert [(r.object_c, r.ambient_c) for r in readings] == [(36.2, 25.0)] * 3


def test_unplug_and_replug_resumes_within_two_seconds(emulated, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="sensors.serialport")
    replugged = []
    scenario = Scenario(
        noise_c=0.0,
        step_up_s=0.0,
        repeat=False,
        steps=(
            Step(StepKind.PERSON, seconds=1.5, object_c=34.5),
            Step(StepKind.UNPLUG, seconds=1.5),
            Step(StepKind.PERSON, seconds=20.0, object_c=35.5),
        ),
    )
    link = tmp_path / "ttyUSB-thermometer"
    emulated("gy-mcu90614", scenario, link=link, on_replug=lambda _: replugged.append(time.monotonic()))
    states = []
    port = SerialPort(str(link), baud=9600, on_state=states.append)
    port.open()
    reader = ThermometerReader(port, get_protocol("gy-mcu90614"))
    try:
        before = first_readings(reader, 3)
        after = []
        end = time.monotonic() + 8
        while time.monotonic() < end and not (replugged and after):
            after += [r for r in reader.poll() if r.object_c == 35.5]
        resumed = time.monotonic()
    finally:
        port.close()
    assert [r.object_c for r in before] == [34.5] * 3
    assert after, "no reading after the device came back"
    assert resumed - replugged[0] < 2.0
    assert states == [PortState.ONLINE, PortState.OFFLINE, PortState.ONLINE]
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len([m for m in messages if "is gone" in m]) == 1
    assert len([m for m in messages if "is back" in m]) == 1
