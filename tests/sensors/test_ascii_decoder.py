"""Text protocols: Adafruit's and SparkFun's example sketches, and user patterns."""

from datetime import UTC, datetime

import pytest

from sensors.thermometer.ascii import (
    ADAFRUIT_BANNER,
    ADAFRUIT_PATTERN,
    SPARKFUN_PATTERN,
    AsciiDecoder,
    PatternError,
    encode_adafruit,
    encode_sparkfun,
)

T0 = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
ESP32 = b"ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"
ADAFRUIT_C = b"Ambient = 24.53*C\tObject = 36.71*C\r\n"
ADAFRUIT_F = b"Ambient = 76.15*F\tObject = 98.08*F\r\n"


def values(decoder, stream):
    return [(r.object_c, r.ambient_c, r.body_c) for r in decoder.feed(stream, T0)]


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        # banner, then one measurement printed in C, in F and an empty line: one reading
        (ADAFRUIT_BANNER + ADAFRUIT_C + ADAFRUIT_F + b"\r\n", [(36.71, 24.53, None)]),
        # two measurements, each with its F echo
        (
            ADAFRUIT_C
            + ADAFRUIT_F
            + b"\r\n"
            + b"Ambient = 24.61*C\tObject = 34.10*C\r\n"
            + b"Ambient = 76.30*F\tObject = 93.38*F\r\n\r\n",
            [(36.71, 24.53, None), (34.10, 24.61, None)],
        ),
        # copies at 115200 print only the C line
        (ADAFRUIT_C + ADAFRUIT_C, [(36.71, 24.53, None), (36.71, 24.53, None)]),
        # a failed read prints nan: no reading, neither for the C line nor the F line
        (
            b"Ambient = nan*C\tObject = nan*C\r\nAmbient = nan*F\tObject = nan*F\r\n\r\n" + ADAFRUIT_C,
            [(36.71, 24.53, None)],
        ),
        # the C line was corrupted: the F line is a reading of its own, converted
        (b"Ambient = 24.5#*C\tObject = 36.71*C\r\n" + ADAFRUIT_F, [(36.71, 24.53, None)]),
        # ESP32 boot log and a 0xFF burst before the banner
        (ESP32 + b"\xff\xff\xff\xff" + ADAFRUIT_BANNER + ADAFRUIT_C, [(36.71, 24.53, None)]),
        # the sensor is missing: an error line and then nothing
        (b"Adafruit MLX90614 test\r\nError connecting to MLX sensor. Check wiring.\r\n", []),
        # the port opened mid-line: the fragment is skipped
        (b"= 36.71*C\r\n" + ADAFRUIT_C, [(36.71, 24.53, None)]),
        # negative values are reported as they are
        (b"Ambient = -3.20*C\tObject = -178.05*C\r\n", [(-178.05, -3.2, None)]),
    ],
)
def test_adafruit(stream, expected):
    assert values(AsciiDecoder(ADAFRUIT_PATTERN), stream) == expected


SPARKFUN = b"Object: 98.08\xb0F\r\nAmbient: 76.15\xb0F\r\n\r\n"


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        # a raw 0xB0 degree sign (not UTF-8), Fahrenheit: one reading from two lines
        (SPARKFUN, [(36.71, 24.53, None)]),
        # two in a row
        (
            SPARKFUN + b"Object: 93.38\xb0F\r\nAmbient: 76.30\xb0F\r\n\r\n",
            [(36.71, 24.53, None), (34.1, 24.61, None)],
        ),
        # the Ambient line lost: the object value is still reported at the empty line
        (b"Object: 98.08\xb0F\r\n\r\n", [(36.71, None, None)]),
        # a nan object: no reading
        (b"Object: nan\xb0F\r\nAmbient: 76.15\xb0F\r\n\r\n", []),
        # a UTF-8 degree sign from a modified sketch works too
        (b"Object: 98.08\xc2\xb0F\r\nAmbient: 76.15\xc2\xb0F\r\n\r\n", [(36.71, 24.53, None)]),
    ],
)
def test_sparkfun(stream, expected):
    assert values(AsciiDecoder(SPARKFUN_PATTERN), stream) == expected


@pytest.mark.parametrize(
    ("pattern", "unit", "stream", "expected"),
    [
        # a CSV sketch: object,ambient in C
        (r"^(?P<object>[-\d.]+),(?P<ambient>[-\d.]+)$", "C", b"36.50,25.10\n", [(36.5, 25.1, None)]),
        # the same in F, unit fixed by the option
        (r"^(?P<object>[-\d.]+),(?P<ambient>[-\d.]+)$", "F", b"98.60,77.00\n", [(37.0, 25.0, None)]),
        # a body-only sketch with the unit in the line
        (
            r"T=(?P<body>[\d.]+)(?P<unit>[CF])",
            "C",
            b"T=99.5F\r\nT=37.4C\r\n",
            [(None, None, 37.5), (None, None, 37.4)],
        ),
        # a line longer than 512 bytes with no newline is dropped, the next line decodes
        (r"^(?P<object>[\d.]+)$", "C", b"x" * 600 + b"\n36.6\n", [(36.6, None, None)]),
    ],
)
def test_user_pattern(pattern, unit, stream, expected):
    assert values(AsciiDecoder(pattern, unit), stream) == expected


@pytest.mark.parametrize(
    ("pattern", "unit", "message"),
    [
        # no object or body group
        (r"(?P<ambient>\d+)", "C", "named group"),
        # not a regular expression
        (r"(?P<object>\d+", "C", "not a valid regular expression"),
        # a unit that is not C or F
        (r"(?P<object>\d+)", "K", "unit must be C or F"),
    ],
)
def test_bad_patterns_are_refused_clearly(pattern, unit, message):
    with pytest.raises(PatternError, match=message):
        AsciiDecoder(pattern, unit)


def test_line_split_across_reads():
    decoder = AsciiDecoder(ADAFRUIT_PATTERN)
    assert decoder.feed(ADAFRUIT_C[:10], T0) == []
    assert [(r.object_c, r.ambient_c) for r in decoder.feed(ADAFRUIT_C[10:], T0)] == [(36.71, 24.53)]


@pytest.mark.parametrize(
    ("encode", "pattern"),
    [
        # the emulators print what the real sketches print, and decode back
        (encode_adafruit, ADAFRUIT_PATTERN),
        (encode_sparkfun, SPARKFUN_PATTERN),
    ],
)
def test_encoders_round_trip(encode, pattern):
    assert values(AsciiDecoder(pattern), encode(36.71, 24.53)) == [(36.71, 24.53, None)]
    assert values(AsciiDecoder(pattern), encode(None, 24.53)) == []


def test_adafruit_encoder_prints_the_sketch_lines():
    assert encode_adafruit(36.71, 24.53) == ADAFRUIT_C + b"Ambient = 76.15*F\tObject = 98.08*F\r\n\r\n"
