"""The sensors' commands, gathered by the ``gerbang`` command.

Each command is named here by where it lives and its one-line help, not imported: ``gerbang --help``
lists it without loading it, and its module (with pyserial, OpenCV...) loads only when it runs.
"""

from __future__ import annotations

#: Command name -> ("module:attribute", its help's first paragraph, the extra it needs).
COMMANDS: dict[str, tuple[str, str, str]] = {
    "thermometer": (
        "sensors.thermometer.cli:thermometer",
        "Infrared thermometers over serial ports.",
        "station",
    ),
    "beams": (
        "sensors.beams_cli:beams",
        "Beam-pair door counters over serial (protocol gerbang-beams/1).",
        "station",
    ),
}
