"""The ``gerbang`` command: every package's commands under one roof, and the demo.

This module sits above the packages so that none of them imports upward: it gathers the click groups
of ``sensors`` and ``station`` and holds ``demo``, the only code that starts several parts together.
"""

from __future__ import annotations

import logging

import click

from dashboard.cli import cli as dashboard_cli
from sensors.cli import cli as sensors_cli
from station.cli import cli as station_cli


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
def main(verbose: int) -> None:
    """Gerbang: an entrance health-screening check-in station."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


for _group in (sensors_cli, station_cli, dashboard_cli):
    for _name, _command in _group.commands.items():
        main.add_command(_command, _name)


@main.command()
@click.option(
    "--dashboard-port", default=5000, show_default=True, help="The dashboard's port (0: any free one)."
)
@click.option("--kiosk-port", default=8088, show_default=True, help="The kiosk's port (0: any free one).")
def demo(dashboard_port: int, kiosk_port: int) -> None:
    """Run the whole product on this machine: dashboard, station, emulated devices; Ctrl-C stops."""
    from gerbang_demo import run_demo

    run_demo(dashboard_port, kiosk_port)
