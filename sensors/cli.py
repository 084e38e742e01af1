"""The sensors' commands, gathered by the ``gerbang`` command."""

from __future__ import annotations

import click

from sensors.beams_cli import beams
from sensors.thermometer.cli import thermometer

cli = click.Group("sensors", help="Devices: thermometers, door counters and their emulators.")
cli.add_command(thermometer)
cli.add_command(beams)
