"""The ``gerbang`` command: every package's commands under one roof, and the demo.

This module sits above the packages so that none of them imports upward: it gathers the click groups
of ``sensors`` and ``station`` and holds ``demo``, the only code that starts several parts together.
"""

from __future__ import annotations

import logging

import click

from sensors.cli import cli as sensors_cli
from station.cli import cli as station_cli


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
def main(verbose: int) -> None:
    """Gerbang: an entrance health-screening check-in station."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


for _group in (sensors_cli, station_cli):
    for _name, _command in _group.commands.items():
        main.add_command(_command, _name)


@main.command()
@click.option("--protocol", default="gy-mcu90614", show_default=True, help="Emulated thermometer.")
def demo(protocol: str) -> None:
    """Run the demo: an emulated thermometer, and the reader printing its readings until Ctrl-C."""
    from sensors.thermometer.demo import run_demo

    run_demo(protocol)
