"""Scenarios for the thermometer emulator: who steps up, with what temperature, and what goes wrong.

A scenario is a TOML file (documented example: ``config/thermometer-scenario.example.toml``) with a
few settings and a list of ``[[steps]]`` played in order. Timed steps: ``idle`` (nobody in front),
``person`` (someone steps up, stays ``seconds`` and leaves), ``pause`` (the device goes silent),
``unplug`` (the device disappears for ``seconds`` and returns under a new name). Instant steps
change what comes next: ``garbage`` (bytes on the line), ``corrupt`` (the next ``count`` frames are
damaged), ``nan`` (the next ``count`` readings fail: text devices print ``nan``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any


class StepKind(StrEnum):
    """What a scenario step does."""

    IDLE = "idle"
    PERSON = "person"
    PAUSE = "pause"
    UNPLUG = "unplug"
    GARBAGE = "garbage"
    CORRUPT = "corrupt"
    NAN = "nan"


class Boot(StrEnum):
    """What the device prints when it powers up."""

    NONE = "none"
    ESP32 = "esp32"
    FF = "ff"


TIMED = {StepKind.IDLE, StepKind.PERSON, StepKind.PAUSE, StepKind.UNPLUG}


@dataclass(frozen=True, slots=True)
class Step:
    r"""One step of a scenario.

    Attributes:
        kind: What happens.
        seconds: How long a timed step lasts.
        object_c: The skin temperature the sensor sees on a person.
        body_c: What a body-mode device reports for that person; None: ``object_c`` plus the
            scenario's ``body_offset_c``.
        count: Frames or readings affected by ``corrupt`` and ``nan``.
        text: The bytes of ``garbage``: Latin-1 text, escapes like ``\xff`` allowed (write it as a
            TOML literal string, in single quotes); empty means a burst of ``count`` 0xFF bytes.
    """

    kind: StepKind
    seconds: float = 0.0
    object_c: float = 0.0
    body_c: float | None = None
    count: int = 1
    text: str = ""


@dataclass(frozen=True, slots=True)
class Scenario:
    """Settings and steps of one emulated device's life."""

    ambient_c: float = 25.0
    background_c: float = 25.8
    noise_c: float = 0.04
    body_offset_c: float = 2.6
    step_up_s: float = 0.4
    boot: Boot = Boot.ESP32
    auto_output: bool = False
    repeat: bool = True
    seed: int = 1
    steps: tuple[Step, ...] = field(default_factory=tuple)


class ScenarioError(ValueError):
    """A scenario file that cannot be played; the message names the key's path."""


DEFAULT = Scenario(
    steps=(
        Step(StepKind.IDLE, seconds=2.0),
        Step(StepKind.PERSON, seconds=3.0, object_c=34.4),
        Step(StepKind.IDLE, seconds=1.5),
        Step(StepKind.CORRUPT, count=2),
        Step(StepKind.PERSON, seconds=3.0, object_c=35.2),
        Step(StepKind.IDLE, seconds=1.5),
        Step(StepKind.GARBAGE, count=16),
        Step(StepKind.PERSON, seconds=3.0, object_c=35.0, body_c=37.8),
        Step(StepKind.PAUSE, seconds=1.0),
        Step(StepKind.IDLE, seconds=2.0),
    )
)


def load(path: str | Path) -> Scenario:
    """Read and check a scenario file.

    Raises:
        ScenarioError: The file is missing, is not TOML, or has an unknown key or a bad value.
    """
    try:
        document = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise ScenarioError(f"cannot read scenario {path}: {err.strerror}") from err
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"scenario {path} is not valid TOML: {err}") from err
    return parse(document)


def parse(document: dict[str, Any]) -> Scenario:
    """Build a scenario from a parsed TOML document, checking every key."""
    settings = _fields(Scenario, document, "", skip={"steps"})
    raw_steps = document.get("steps", [])
    if not isinstance(raw_steps, list) or not raw_steps:
        raise ScenarioError("steps: give at least one [[steps]] table")
    steps = []
    for index, raw in enumerate(raw_steps):
        where = f"steps[{index}]"
        if not isinstance(raw, dict):
            raise ScenarioError(f"{where}: expected a table")
        values = _fields(Step, raw, f"{where}.")
        kind = values.get("kind")
        if kind is None:
            raise ScenarioError(f"{where}.kind: missing (one of {', '.join(StepKind)})")
        if kind in TIMED and values.get("seconds", 0) <= 0:
            raise ScenarioError(f"{where}.seconds: a {kind} step needs seconds > 0")
        if kind is StepKind.PERSON and "object_c" not in values:
            raise ScenarioError(f"{where}.object_c: a person step needs object_c")
        steps.append(Step(**values))
    return Scenario(**settings, steps=tuple(steps))


def _fields(cls: type, raw: dict[str, Any], prefix: str, skip: frozenset[str] | set[str] = frozenset()):
    known = {f.name: f for f in fields(cls) if f.name not in skip}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key in skip:
            continue
        if key not in known:
            raise ScenarioError(f"{prefix}{key}: unknown key (known: {', '.join(known)})")
        values[key] = _convert(f"{prefix}{key}", known[key].type, value)
    return values


def _convert(where: str, type_name: object, value: Any) -> Any:
    expected = str(type_name)
    try:
        if expected == "StepKind":
            return StepKind(value)
        if expected == "Boot":
            return Boot(value)
    except ValueError:
        choices = ", ".join(StepKind if expected == "StepKind" else Boot)
        raise ScenarioError(f"{where}: {value!r} is not one of {choices}") from None
    if expected.startswith("float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ScenarioError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if expected == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ScenarioError(f"{where}: expected a whole number >= 0, got {value!r}")
        return value
    if expected == "bool":
        if not isinstance(value, bool):
            raise ScenarioError(f"{where}: expected true or false, got {value!r}")
        return value
    if not isinstance(value, str):
        raise ScenarioError(f"{where}: expected text, got {value!r}")
    return value
