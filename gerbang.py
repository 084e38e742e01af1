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

    try:
        run_demo(dashboard_port, kiosk_port)
    except OSError as err:  # a port already taken, most often
        raise click.ClickException(
            f"{err}; choose other ports with --dashboard-port and --kiosk-port"
        ) from None


@main.command()
@click.option(
    "--stations", type=click.IntRange(1, 10_000), required=True, help="Emulated stations (one per door)."
)
@click.option(
    "--rate", "rate_per_s", type=float, default=1.0, show_default=True, help="Events per second per station."
)
@click.option(
    "--duration", "duration_s", type=float, default=60.0, show_default=True, help="Seconds of events."
)
@click.option(
    "--url",
    "urls",
    multiple=True,
    required=True,
    help="Dashboard address; repeat (or separate with commas) for several.",
)
@click.option(
    "--rooms", type=int, default=None, help="Rooms to spread the stations over (default: 2-4 doors each)."
)
@click.option(
    "--database",
    "database_url",
    envvar="GERBANG_DATABASE_URL",
    required=True,
    help="The dashboard's database: the stations are registered there, and the result checked.",
)
@click.option("--journal-dir", type=click.Path(file_okay=False), default=None, help="Journals folder.")
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the event mix.")
def simulate(
    stations: int,
    rate_per_s: float,
    duration_s: float,
    urls: tuple[str, ...],
    rooms: int | None,
    database_url: str,
    journal_dir: str | None,
    seed: int,
) -> None:
    """Run N emulated stations against a dashboard over HTTP; print what arrived and how fast."""
    from pathlib import Path

    from gerbang_simulate import run

    addresses = [part.strip() for url in urls for part in url.split(",") if part.strip()]
    try:
        report = run(
            stations=stations,
            rate_per_s=rate_per_s,
            duration_s=duration_s,
            urls=addresses,
            database_url=database_url,
            rooms=rooms,
            journal_dir=Path(journal_dir) if journal_dir else None,
            seed=seed,
            echo=click.echo,
        )
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    if report.lost or report.pending or report.rejected or (report.verified and not report.verified.ok):
        raise SystemExit(1)
