"""``gerbang station run``: the station at the door, from its configuration file."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import click

from station import config as station_config


@click.group("station")
def station() -> None:
    """The station at the door."""


@station.command("run")
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The station's TOML file (see config/station.example.toml).",
)
def run(config_path: Path) -> None:
    """Run the station until Ctrl-C: devices, screening, journal, uplink and the kiosk."""
    from station.journal import JournalError
    from station.runner import Runner

    try:
        config = station_config.load(config_path)
        runner = Runner(config)
        runner.start()
    except (station_config.ConfigError, JournalError, OSError) as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"station {config.station.name} ({config.station.room}) running; kiosk at {runner.kiosk_url}")
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        runner.close()
        click.echo("station stopped")
