"""Text lines from Arduino sketches, read with a user pattern; presets for the well-known examples.

A pattern is a regular expression with named groups ``object``, ``ambient`` and ``body`` (any of
them; at least ``object`` or ``body``) and optionally ``unit`` (``C`` or ``F``). One line may carry
every value (Adafruit) or one value each (SparkFun): values gather into a record that is reported
once it holds every value the pattern names, at an empty line, or when a value repeats.

Rules: Fahrenheit is converted to Celsius; ``nan`` is no value, and a record with neither object
nor body value is no reading; a record that repeats the one before in the other unit (Adafruit
prints every measurement in C, then in F) is the same reading and reported once. Bytes are read as
Latin-1, so SparkFun's raw ``0xB0`` degree sign is the character ``°``.
"""

from __future__ import annotations

import math
import re
from datetime import datetime

from sensors.thermometer.framing import BufferedDecoder, Step
from sensors.thermometer.reading import Reading, fahrenheit_to_celsius

FIELDS = ("object", "ambient", "body")
NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+|nan|inf)"
_DEGREE = r"\s*(?:\*|Â?°|º)?\s*"

#: Adafruit_MLX90614's example ``mlxtest``: ``Ambient = 24.53*C\tObject = 36.71*C``, then in F.
ADAFRUIT_PATTERN = (
    rf"Ambient\s*=\s*(?P<ambient>{NUMBER}){_DEGREE}(?P<unit>[CF])\s+"
    rf"Object\s*=\s*(?P<object>{NUMBER}){_DEGREE}[CF]"
)
#: SparkFun_MLX90614's example: ``Object: 98.08`` + 0xB0 + ``F``, then the same for ``Ambient:``.
SPARKFUN_PATTERN = (
    rf"(?:Object:\s*(?P<object>{NUMBER})|Ambient:\s*(?P<ambient>{NUMBER})){_DEGREE}(?P<unit>[CF])\b"
)
#: Two readings closer than this (after conversion) are one reading printed in two units.
ECHO_TOLERANCE_C = 0.05


class PatternError(ValueError):
    """A user pattern that cannot decode readings."""


class AsciiDecoder(BufferedDecoder):
    """Decodes text lines with a user pattern.

    Args:
        pattern: Regular expression with named groups (see the module's docstring).
        unit: ``C`` or ``F``: the unit when the pattern has no ``unit`` group.
    """

    stale_partial_s = 1.0
    max_line_bytes = 512

    def __init__(self, pattern: str, unit: str = "C") -> None:
        super().__init__()
        try:
            self._pattern = re.compile(pattern, re.IGNORECASE)
        except re.error as err:
            raise PatternError(f"the pattern is not a valid regular expression: {err}") from err
        self._fields = [name for name in FIELDS if name in self._pattern.groupindex]
        if "object" not in self._fields and "body" not in self._fields:
            raise PatternError("the pattern needs a named group (?P<object>...) or (?P<body>...)")
        if unit.upper() not in ("C", "F"):
            raise PatternError(f"unit must be C or F, not {unit!r}")
        self._unit = unit.upper()
        self._record: dict[str, float | None] = {}
        self._record_unit = self._unit
        self._previous: tuple[str, dict[str, float | None]] | None = None

    def reset(self) -> None:
        """Forget buffered bytes and any half-gathered record."""
        super().reset()
        self._record = {}
        self._previous = None

    def _step(self, buffer: bytearray, at: datetime) -> Step:
        end = buffer.find(b"\n")
        if end < 0:
            return (len(buffer), []) if len(buffer) > self.max_line_bytes else None
        line = bytes(buffer[:end]).decode("latin-1").strip()
        return end + 1, self._line(line, at)

    def _line(self, line: str, at: datetime) -> list[Reading]:
        if not line:
            return self._flush(at)
        match = self._pattern.search(line)
        if match is None:
            return []
        values = {name: match.group(name) for name in self._fields if match.group(name) is not None}
        if not values:
            return []
        readings = self._flush(at) if values.keys() & self._record.keys() else []
        self._record_unit = (match.groupdict().get("unit") or self._unit).upper()
        self._record.update({name: _number(text) for name, text in values.items()})
        if all(name in self._record for name in self._fields):
            readings += self._flush(at)
        return readings

    def _flush(self, at: datetime) -> list[Reading]:
        record, unit = self._record, self._record_unit
        self._record = {}
        if not record:
            return []
        previous, self._previous = self._previous, (unit, record)
        if record.get("object") is None and record.get("body") is None:
            self._previous = None
            return []
        if previous is not None and previous[0] != unit and _same(previous, (unit, record)):
            self._previous = None
            return []
        celsius = {name: _in_celsius(unit, value) for name, value in record.items()}
        return [
            Reading(
                at=at,
                object_c=celsius.get("object"),
                ambient_c=celsius.get("ambient"),
                body_c=celsius.get("body"),
            )
        ]


def _number(text: str) -> float | None:
    value = float(text)
    return None if math.isnan(value) or math.isinf(value) else value


def _in_celsius(unit: str, value: float | None) -> float | None:
    if value is None or unit == "C":
        return value
    return fahrenheit_to_celsius(value)


def _same(a: tuple[str, dict[str, float | None]], b: tuple[str, dict[str, float | None]]) -> bool:
    """Whether two records are one measurement printed in two units."""
    if a[1].keys() != b[1].keys():
        return False
    for name in a[1]:
        value_a, value_b = _in_celsius(a[0], a[1][name]), _in_celsius(b[0], b[1][name])
        if (value_a is None) != (value_b is None):
            return False
        if value_a is not None and value_b is not None and abs(value_a - value_b) > ECHO_TOLERANCE_C:
            return False
    return True


def encode_adafruit(object_c: float | None, ambient_c: float | None) -> bytes:
    """Return what Adafruit's example prints for one measurement (for the emulator); None is nan."""

    def text(value: float | None, fahrenheit: bool) -> str:
        if value is None:
            return "nan"
        return f"{value * 9 / 5 + 32 if fahrenheit else value:.2f}"

    celsius = f"Ambient = {text(ambient_c, False)}*C\tObject = {text(object_c, False)}*C\r\n"
    fahrenheit = f"Ambient = {text(ambient_c, True)}*F\tObject = {text(object_c, True)}*F\r\n"
    return (celsius + fahrenheit + "\r\n").encode("ascii")


def encode_sparkfun(object_c: float | None, ambient_c: float | None) -> bytes:
    """Return what SparkFun's example prints for one measurement (for the emulator); None is nan."""

    def line(label: str, value: float | None) -> bytes:
        number = "nan" if value is None else f"{value * 9 / 5 + 32:.2f}"
        return f"{label}: {number}".encode("ascii") + b"\xb0F\r\n"

    return line("Object", object_c) + line("Ambient", ambient_c) + b"\r\n"


ADAFRUIT_BANNER = (
    b"Adafruit MLX90614 test\r\nEmissivity = 1.00\r\n================================================\r\n"
)
