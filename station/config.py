"""The station's configuration: one TOML file, checked key by key.

Every section is a frozen dataclass; the loader converts and checks types and ranges, refuses an
unknown key naming its path (``screening.fever_c``), and takes secrets (the station's token, the
guards' PIN) from the environment variables the file names, never from the file itself.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
import types
import typing
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from station.events import Policy
from station.vision.crossings import DoorLine as CrossingLine


class ConfigError(ValueError):
    """A configuration that cannot run; the message names the key's path."""


def _range(low: float | None = None, high: float | None = None, **extra: Any) -> dict:
    return {"low": low, "high": high, **extra}


@dataclass(frozen=True, slots=True)
class StationSection:
    """Who the station is and where its data lives."""

    name: str = "station-1"
    site: str = "kantor-pusat"
    room: str = "ruang-layanan"
    capacity_people: int = field(default=40, metadata=_range(1, 100_000))
    share: float = field(default=0.5, metadata=_range(0.01, 1.0))
    near_share: float = field(default=0.8, metadata=_range(0.1, 1.0))
    closing_time: str = field(default="17:00", metadata={"pattern": r"([01]\d|2[0-3]):[0-5]\d"})
    #: The site's clock (IANA): Asia/Jakarta (WIB), Asia/Makassar (WITA), Asia/Jayapura (WIT).
    time_zone: str = field(default="Asia/Jakarta", metadata={"zone": True})
    #: How long a called queue ticket waits for its holder before it counts as a no-show.
    queue_call_timeout_s: float = field(default=120.0, metadata=_range(10, 3600))
    journal: str = "instance/station-journal.sqlite3"
    journal_max_mb: float = field(default=500.0, metadata=_range(0.1))
    retention_days: int = field(default=30, metadata=_range(1, 3650))
    language: str = field(default="id", metadata={"choices": ("id", "en")})


@dataclass(frozen=True, slots=True)
class DashboardSection:
    """Where events go; an empty url runs the station on its own."""

    url: str = ""
    token_env: str = "GERBANG_STATION_TOKEN"
    batch_size: int = field(default=50, metadata=_range(1, 500))
    occupancy_poll_s: float = field(default=2.0, metadata=_range(0.2, 600))


@dataclass(frozen=True, slots=True)
class ThermometerSection:
    """The infrared thermometer; an empty url means none."""

    url: str = ""
    protocol: str = "gy-mcu90614"
    baud: int = field(default=0, metadata=_range(0, 4_000_000))
    pattern: str = ""
    unit: str = field(default="C", metadata={"choices": ("C", "F")})


@dataclass(frozen=True, slots=True)
class ScreeningSection:
    """The screening rules (see ``station.screening.ScreeningConfig``)."""

    fever_c: float = field(default=37.3, metadata=_range(35.0, 40.0))
    retest_delay_s: float = field(default=300.0, metadata=_range(0, 3600))
    offset_c: float = field(default=2.5, metadata=_range(-5.0, 10.0))
    ambient_reference_c: float = field(default=25.0, metadata=_range(-10, 50))
    ambient_coefficient: float = field(default=0.0, metadata=_range(0.0, 1.0))
    raw_min_c: float = field(default=30.0, metadata=_range(0, 45))
    raw_max_c: float = field(default=43.0, metadata=_range(30, 60))
    discard_samples: int = field(default=2, metadata=_range(0, 100))
    plateau_samples: int = field(default=5, metadata=_range(1, 100))
    plateau_spread_c: float = field(default=0.3, metadata=_range(0.01, 5.0))
    measure_timeout_s: float = field(default=10.0, metadata=_range(1, 600))
    mask_votes: int = field(default=5, metadata=_range(1, 100))
    with_mask_min: float = field(default=0.5, metadata=_range(0.0, 0.99))
    mask_timeout_s: float = field(default=3.0, metadata=_range(0, 60))
    face_lost_s: float = field(default=1.0, metadata=_range(0.1, 60))
    temperature_policy: Policy = Policy.HARD
    mask_policy: Policy = Policy.HARD


@dataclass(frozen=True, slots=True)
class CameraSection:
    """The camera facing the visitor: a device index, a file, or an RTSP/HTTP URL; empty for none."""

    source: str = ""
    guide: tuple[float, ...] = field(default=(0.25, 0.1, 0.75, 0.9), metadata={"length": 4, **_range(0, 1)})
    min_face_px: int = field(default=80, metadata=_range(16, 4000))
    masks: bool = True
    model_dir: str = ""
    # A site policy, off by default (empty): expected shares of with_mask, without_mask and incorrect faces
    # (``masks.DOOR_PRIOR`` is one; see the trade-off table in the model card).
    mask_prior: tuple[float, ...] = field(
        default=(), metadata={"length": 3, "or_empty": True, **_range(0.001, 1.0)}
    )


@dataclass(frozen=True, slots=True)
class DoorLine:
    """A counting line on the door camera: two points, and a point inside the room."""

    line: tuple[float, ...] = field(default=(0, 0, 0, 0), metadata={"length": 4})
    in_point: tuple[float, ...] = field(default=(0, 0), metadata={"length": 2})
    door: str = "main"
    # One person's area of flow through the line (source pixels); 0: learnt from lone crossers.
    person_area_px: float = field(default=0.0, metadata=_range(0, 10_000_000))


@dataclass(frozen=True, slots=True)
class CountingSection:
    """How crossings are counted: ``camera`` (door lines), ``beams`` (a beam-pair sensor) or ``none``."""

    source: str = field(default="none", metadata={"choices": ("camera", "beams", "none")})
    camera: str = ""
    lines: tuple[DoorLine, ...] = ()
    beams_url: str = ""
    door: str = "main"


@dataclass(frozen=True, slots=True)
class RelaySection:
    """A relay board switching a door lock or a traffic light; an empty url means none."""

    url: str = ""
    channel: int = field(default=1, metadata=_range(1, 8))
    open_s: float = field(default=5.0, metadata=_range(0.5, 600))


@dataclass(frozen=True, slots=True)
class AlternativesSection:
    """The online channels shown to visitors while the room is full."""

    text: str = "Layanan juga tersedia secara daring."
    text_en: str = "Our services are also available online."
    phone: str = ""
    whatsapp: str = ""
    link: str = ""


@dataclass(frozen=True, slots=True)
class KioskSection:
    """The guard's screen, served by the station itself."""

    host: str = "127.0.0.1"
    port: int = field(default=8088, metadata=_range(0, 65535))
    pin_env: str = "GERBANG_KIOSK_PIN"
    #: Host names the screen is opened by, besides ``host``, 127.0.0.1 and localhost: any other Host
    #: header is a 400 (a page of another site, rebinding its name to this address, reads nothing).
    #: IPv6 literals cannot be named (Werkzeug's check reads names and IPv4 addresses only).
    names: tuple[str, ...] = ()

    def trusted_hosts(self) -> list[str]:
        """Every name the kiosk answers to (``0.0.0.0`` or ``::`` are no name a browser sends)."""
        own = [] if self.host in ("0.0.0.0", "::", "") or ":" in self.host else [self.host]
        return list(dict.fromkeys(["127.0.0.1", "localhost", *own, *self.names]))


@dataclass(frozen=True, slots=True)
class StationConfig:
    """The whole configuration of one station."""

    station: StationSection = StationSection()
    dashboard: DashboardSection = DashboardSection()
    thermometer: ThermometerSection = ThermometerSection()
    screening: ScreeningSection = ScreeningSection()
    camera: CameraSection = CameraSection()
    counting: CountingSection = CountingSection()
    relay: RelaySection = RelaySection()
    alternatives: AlternativesSection = AlternativesSection()
    kiosk: KioskSection = KioskSection()

    def secret(self, variable: str) -> str:
        """Return a secret from the environment (empty when the variable is unset)."""
        return os.environ.get(variable, "")


def load(path: str | Path) -> StationConfig:
    """Read and check a station configuration file.

    Raises:
        ConfigError: The file is missing or not TOML, or a key is unknown or has a bad value.
    """
    try:
        document = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"cannot read {path}: {err.strerror}") from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path} is not valid TOML: {err}") from err
    return parse(document)


def parse(document: dict[str, Any]) -> StationConfig:
    """Build the configuration from a parsed TOML document, checking every key.

    Raises:
        ConfigError: A key is unknown or has a bad value, or the keys together ask for something the
            station cannot do (counting by camera with no camera or no lines, say).
    """
    config = _build(StationConfig, document, "")
    _check_counting(config)
    return config


def door_lines(section: CountingSection) -> list[CrossingLine]:
    """Return the counting lines as the crossing rule's lines, each named by its door.

    Raises:
        ConfigError: A line of zero length, or an in-point on its line, naming the line's key.
    """
    lines = []
    for index, spec in enumerate(section.lines):
        x1, y1, x2, y2 = spec.line
        in_x, in_y = spec.in_point  # two numbers: checked when the file was read
        try:
            area = spec.person_area_px or None
            lines.append(CrossingLine((x1, y1), (x2, y2), (in_x, in_y), name=spec.door, person_area_px=area))
        except ValueError as err:
            message = str(err).split(": ", 1)[-1]
            raise ConfigError(f"counting.lines[{index}]: {message}") from None
    return lines


def _check_counting(config: StationConfig) -> None:
    counting = config.counting
    if counting.source == "camera":
        if not counting.lines:
            raise ConfigError(
                "counting.lines: counting by camera needs at least one [[counting.lines]] table "
                '(line = [x1, y1, x2, y2], in_point = [x, y], door = "main")'
            )
        if not counting.camera and not config.camera.source:
            raise ConfigError(
                "counting.camera: counting by camera needs a door camera (counting.camera) "
                "or a visitor camera (camera.source) to share"
            )
        for index, spec in enumerate(counting.lines):
            if not spec.door.strip():
                raise ConfigError(f"counting.lines[{index}].door: a door needs a name")
        door_lines(counting)
        return
    if counting.source == "beams" and not counting.beams_url:
        raise ConfigError("counting.beams_url: counting with beams needs the beam sensor's port")
    if counting.lines:
        raise ConfigError(
            f'counting.lines: door lines are for counting.source = "camera", not {counting.source!r}'
        )
    if counting.camera:
        raise ConfigError(
            f'counting.camera: a door camera is for counting.source = "camera", not {counting.source!r}'
        )


def _zone(where: str, value: str) -> str:
    """Return ``value`` if it names a time zone this machine knows (``Asia/Jayapura``)."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{where}: {value[:64]!r} is not a time zone; use Asia/Jakarta (WIB), Asia/Makassar (WITA) "
            "or Asia/Jayapura (WIT)"
        ) from None
    return value


def _build(cls: type, raw: object, prefix: str) -> Any:
    where = prefix.rstrip(".") or "the file"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    values = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"{prefix}{key}: unknown key (known here: {', '.join(known)})")
        values[key] = _value(f"{prefix}{key}", hints[key], known[key].metadata, value)
    missing = [name for name, spec in known.items() if spec.default is MISSING and name not in values]
    if missing:
        raise ConfigError(f"{prefix}{missing[0]}: missing")
    return cls(**values)


def _value(where: str, hint: Any, meta: typing.Mapping[str, Any], value: Any) -> Any:
    origin = typing.get_origin(hint)
    if isinstance(hint, type) and hasattr(hint, "__dataclass_fields__"):
        return _build(hint, value, f"{where}.")
    if origin is tuple:
        item_hint = typing.get_args(hint)[0]
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list")
        if "length" in meta and len(value) != meta["length"] and not (meta.get("or_empty") and not value):
            empty = " (or none: [])" if meta.get("or_empty") else ""
            raise ConfigError(f"{where}: expected {meta['length']} values{empty}, got {len(value)}")
        return tuple(_value(f"{where}[{i}]", item_hint, meta, item) for i, item in enumerate(value))
    if isinstance(hint, type) and issubclass(hint, Policy):
        try:
            return Policy(str(value).lower())
        except ValueError:
            raise ConfigError(f"{where}: expected one of {', '.join(Policy)}, got {value!r}") from None
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if hint in (int, float):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (hint is int and not isinstance(value, int))
            or not math.isfinite(value)  # TOML has nan and inf; no setting means either
        ):
            raise ConfigError(
                f"{where}: expected {'a whole number' if hint is int else 'a number'}, got {value!r}"
            )
        low, high = meta.get("low"), meta.get("high")
        if (low is not None and value < low) or (high is not None and value > high):
            raise ConfigError(f"{where}: {value} is out of range ({low} to {high})")
        return hint(value)
    if hint is str or (isinstance(hint, types.UnionType) and str in typing.get_args(hint)):
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected text, got {value!r}")
        if "choices" in meta and value not in meta["choices"]:
            raise ConfigError(f"{where}: expected one of {', '.join(meta['choices'])}, got {value!r}")
        if meta.get("zone"):
            return _zone(where, value)
        if "pattern" in meta and not re.fullmatch(meta["pattern"], value):
            raise ConfigError(f"{where}: {value!r} does not look right (HH:MM)")
        return value
    raise ConfigError(f"{where}: cannot read a value of this kind")  # pragma: no cover
