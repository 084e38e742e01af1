"""The station's commands, gathered by the ``gerbang`` command."""

from __future__ import annotations

import click

from station.count_cli import count
from station.run_cli import station
from station.vision.cli import masks

cli = click.Group("station", help="The station: masks, counting, screening.")
cli.add_command(count)
cli.add_command(masks)
cli.add_command(station)
