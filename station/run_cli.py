"""``gerbang station run``: the station at the door, from its configuration file."""

from __future__ import annotations

import json
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
    except (station_config.ConfigError, JournalError, OSError, ValueError) as err:
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


def _journal(config_path: Path):
    from station.journal import Journal, JournalError

    try:
        config = station_config.load(config_path)
        return Journal(config.station.journal)
    except (station_config.ConfigError, JournalError, OSError) as err:
        raise click.ClickException(str(err)) from None


CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The station's TOML file (its journal is the one read).",
)


@station.command("set-aside")
@CONFIG_OPTION
@click.option("--json", "as_json", is_flag=True, help="One JSON object per event.")
def set_aside(config_path: Path, as_json: bool) -> None:
    """List the events the dashboard refused; they stay in the journal until sent again."""
    journal = _journal(config_path)
    try:
        held = journal.set_aside()
    finally:
        journal.close()
    for item in held:
        if as_json:
            click.echo(
                json.dumps({"id": item.event_id, "type": item.kind, "at": item.at, "reason": item.reason})
            )
        else:
            click.echo(f"{item.event_id}  {item.kind:<10} {item.at}  {item.reason}")
    if not as_json:
        click.echo(f"{len(held)} event(s) set aside")


@station.command("resend")
@CONFIG_OPTION
@click.argument("event_ids", nargs=-1, metavar="[ID]...")
@click.option("--all", "every", is_flag=True, help="Every set-aside event.")
def resend(config_path: Path, event_ids: tuple[str, ...], every: bool) -> None:
    """Put set-aside events back in the queue (once the dashboard is fixed); the station ships them."""
    if bool(event_ids) == every:
        raise click.UsageError("name the events to send again, or give --all")
    journal = _journal(config_path)
    try:
        count = journal.resend(None if every else list(event_ids))
    finally:
        journal.close()
    click.echo(f"{count} event(s) put back in the queue")
    if event_ids and count < len(event_ids):
        raise click.ClickException(f"{len(event_ids) - count} of the ids are not set-aside events")
