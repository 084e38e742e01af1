"""``gerbang thermometer read --json`` on a real pty: device streams replayed byte for byte."""

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sensors.emulators.pty import PtyDevice

GERBANG = shutil.which("gerbang", path=str(Path(sys.executable).parent)) or "gerbang"
H = bytes.fromhex
ESP32 = (
    b"ets Jun  8 2016 00:22:57\r\n\r\n"
    b"rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\nentry 0x400805f0\r\n"
)
GY_36_70 = H("5A5A45040E5609C42E")
GY_38_05 = H("5A5A45040EDD0A5A4C")


def read_stream(protocol, baud, chunks, count, extra=()):
    """Run the CLI on a pty, replay ``chunks`` once it has opened the port, return its JSON lines."""
    with PtyDevice() as device:
        command = [
            GERBANG,
            "thermometer",
            "read",
            device.path,
            "--protocol",
            protocol,
            "--json",
            "--count",
            str(count),
            "--timeout",
            "5",
            *extra,
        ]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 20
            while device.host_baud != baud and time.monotonic() < deadline and process.poll() is None:
                time.sleep(0.02)
            time.sleep(0.2)  # pyserial flushes its input right after setting the baud rate
            for chunk in chunks:
                device.write(chunk)
                time.sleep(0.03)
            out, err = process.communicate(timeout=15)
        finally:
            process.kill()
    assert process.returncode == 0, err
    return [json.loads(line) for line in out.splitlines()]


def values(lines):
    return [(line["object_c"], line["ambient_c"], line["body_c"]) for line in lines]


@pytest.mark.parametrize(
    ("protocol", "baud", "chunks", "expected"),
    [
        # gy-mcu90614: ESP32 boot log, 0xFF burst, a frame split in three reads, a bad checksum,
        # an emissivity frame, a cut frame, then a good one
        (
            "gy-mcu90614",
            9600,
            [
                ESP32,
                b"\xff" * 32,
                GY_36_70[:2],
                GY_36_70[2:5],
                GY_36_70[5:],
                H("5A5A45040E5709C42E"),
                H("5A5A25026400") + bytes([sum(H("5A5A25026400")) & 0xFF]),
                GY_38_05[:4] + GY_38_05,
            ],
            [(36.70, 25.00, None), (38.05, 26.50, None)],
        ),
        # idc50: garbage, a bad frame, three good frames in one read
        (
            "idc50",
            115200,
            [b"\xff\xfe\x00", H("AA5506240731"), H("AA5506240730AA550625022CAA550626002B")],
            [(None, None, 36.7), (None, None, 37.2), (None, None, 38.0)],
        ),
        # Adafruit: boot log, banner, C line with its F echo, nan lines, a C line split in two reads
        (
            "adafruit-mlx90614",
            9600,
            [
                ESP32,
                b"Adafruit MLX90614 test\r\nEmissivity = 1.00\r\n=====\r\n",
                b"Ambient = 24.53*C\tObject = 36.71*C\r\nAmbient = 76.15*F\tObject = 98.08*F\r\n\r\n",
                b"Ambient = nan*C\tObject = nan*C\r\nAmbient = nan*F\tObject = nan*F\r\n\r\n",
                b"Ambient = 24.61*C\tObj",
                b"ect = 34.10*C\r\nAmbient = 76.30*F\tObject = 93.38*F\r\n\r\n",
            ],
            [(36.71, 24.53, None), (34.10, 24.61, None)],
        ),
        # SparkFun: raw 0xB0 degree signs in Fahrenheit, a nan reading, 0xFF burst
        (
            "sparkfun-mlx90614",
            9600,
            [
                b"\xff\xff\xff",
                b"Object: 98.08\xb0F\r\nAmbient: 76.15\xb0F\r\n\r\n",
                b"Object: nan\xb0F\r\nAmbient: 76.15\xb0F\r\n\r\n",
                b"Object: 99.50\xb0F\r\nAmbient: 77.00\xb0F\r\n\r\n",
            ],
            [(36.71, 24.53, None), (37.5, 25.0, None)],
        ),
    ],
)
def test_streams_decode_exactly(protocol, baud, chunks, expected):
    lines = read_stream(protocol, baud, chunks, len(expected))
    assert values(lines) == expected
    assert all(line["at"].endswith("+00:00") for line in lines)


def test_user_pattern_on_the_command_line():
    lines = read_stream(
        "ascii",
        9600,
        [b"boot...\r\n", b"T:36.50 A:25.10\r\n"],
        1,
        extra=("--pattern", r"T:(?P<object>[\d.]+) A:(?P<ambient>[\d.]+)"),
    )
    assert values(lines) == [(36.5, 25.1, None)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # no such device
        (["/dev/ttyUSB-nonexistent", "--protocol", "gy-mcu90614"], "cannot open /dev/ttyUSB-nonexistent"),
        # an unknown protocol
        (["loop://", "--protocol", "mlx"], "unknown protocol 'mlx'"),
        # ascii without its pattern
        (["loop://", "--protocol", "ascii"], "needs a pattern"),
        # nothing valid arrives: loop:// only echoes the start command back
        (["loop://", "--protocol", "gy-mcu90614", "--timeout", "0.5"], "no valid reading from loop://"),
    ],
)
def test_errors_are_one_clear_line(args, message):
    result = subprocess.run(
        [GERBANG, "thermometer", "read", *args], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_protocols_lists_names_and_baud_rates():
    result = subprocess.run([GERBANG, "thermometer", "protocols"], capture_output=True, text=True, check=True)
    rows = {line.split()[0]: int(line.split()[1]) for line in result.stdout.splitlines()}
    assert rows == {
        "gy-mcu90614": 9600,
        "lu90614": 9600,
        "optris-ct": 115200,
        "idc50": 115200,
        "adafruit-mlx90614": 9600,
        "sparkfun-mlx90614": 9600,
        "ascii": 9600,
    }
