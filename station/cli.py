"""The station's commands, gathered by the ``gerbang`` command.

Each command is named here by where it lives and its one-line help, not imported: ``gerbang --help``
lists it without loading it, and its module (with OpenCV, Flask...) loads only when it runs.
"""

from __future__ import annotations

#: Command name -> ("module:attribute", its help's first paragraph, the extra it needs).
COMMANDS: dict[str, tuple[str, str, str]] = {
    "count": (
        "station.count_cli:count",
        "Count people crossing door lines in SOURCE: a video file, a camera index (0) or an RTSP/HTTP URL.",
        "station",
    ),
    "masks": (
        "station.vision.cli:masks",
        "Find faces and tell whether each wears a mask properly.",
        "station",
    ),
    "station": ("station.run_cli:station", "The station at the door.", "station"),
}
