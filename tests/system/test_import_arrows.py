"""The house's arrows, checked: imports flow sensors -> station -> (wire schema) -> dashboard.

``sensors`` imports nothing of ours; ``station`` imports ``sensors`` but never ``dashboard``; the
dashboard imports of the station only the wire schema (``station/events.py``) and the shared room
rules (``station/rooms.py``), never ``sensors``; no package imports the top floor (``gerbang*.py``).
Every import counts, also those inside functions and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("sensors", "station", "dashboard")
TOP_FLOOR = ("gerbang", "gerbang_demo", "gerbang_logging", "gerbang_simulate")
#: What each package may import of ours, besides itself.
ALLOWED = {
    "sensors": (),
    "station": ("sensors",),
    "dashboard": ("station.events", "station.rooms"),
}


def imported(source: str, module: str) -> list[tuple[int, str]]:
    """Every module ``source`` imports, absolute, with its line (``module`` resolves relative ones)."""
    found = []
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], *([base] if base else [])])
            found.extend(
                (node.lineno, f"{base}.{alias.name}" if alias.name != "*" else base) for alias in node.names
            )
    return found


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(package: str, module: str, source: str) -> list[str]:
    """The imports of ``module`` (in ``package``) against the arrows, as ``line: name`` texts."""
    wrong = []
    for line, name in imported(source, module):
        top = name.partition(".")[0]
        ours = top in PACKAGES or top in TOP_FLOOR
        if not ours or top == package:
            continue
        # `from station import events` names the module station.events: allowed like `import station.events`
        if not any(_within(name, allowed) for allowed in ALLOWED[package]):
            wrong.append(f"{line}: {name}")
    return wrong


def modules() -> list[tuple[str, Path]]:
    return [(package, path) for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))]


@pytest.mark.parametrize(
    ("package", "source", "wrong"),
    [
        ("sensors", "import numpy\nfrom sensors.serialport import SerialPort", []),  # its own and others'
        ("sensors", "from station.events import Reading", ["1: station.events.Reading"]),  # upward
        ("sensors", "def f():\n    import dashboard", ["2: dashboard"]),  # inside a function too
        ("station", "from sensors.camera import FrameSource", []),  # down the arrow
        ("station", "from dashboard.models import Room", ["1: dashboard.models.Room"]),  # upward
        ("station", "import gerbang", ["1: gerbang"]),  # the top floor is above every package
        ("dashboard", "from station.events import Decision", []),  # the wire schema
        ("dashboard", "from station import events", []),  # the wire schema, by another spelling
        ("dashboard", "from station.rooms import RoomRules", []),  # the shared room rules
        (
            "dashboard",
            "from station.journal import Journal",
            ["1: station.journal.Journal"],
        ),  # a station part
        ("dashboard", "from station import journal", ["1: station.journal"]),  # the same, spelt otherwise
        ("dashboard", "import station", ["1: station"]),  # the whole station
        ("dashboard", "from sensors.relay import Relay", ["1: sensors.relay.Relay"]),  # hardware
        ("dashboard", "from ..station.core import Station", ["1: station.core.Station"]),  # relative, upward
        ("dashboard", "from . import models", []),  # relative, its own
    ],
)
def test_the_checker_tells_right_from_wrong(package: str, source: str, wrong: list[str]) -> None:
    assert violations(package, f"{package}.module", source) == wrong


def test_every_module_follows_the_arrows() -> None:
    found = modules()
    assert len(found) > 50  # the packages were found
    wrong = []
    for package, path in found:
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        wrong.extend(f"{path.relative_to(ROOT)}:{v}" for v in violations(package, module, path.read_text()))
    assert wrong == []


def test_no_bench_or_script_shadows_a_package() -> None:
    # `python bench/x.py` puts bench/ first on sys.path: a bench/station.py would hide the station package.
    names = {*PACKAGES, *TOP_FLOOR}
    shadows = [str(p.relative_to(ROOT)) for p in (ROOT / "bench").iterdir() if p.stem in names]
    assert shadows == []
