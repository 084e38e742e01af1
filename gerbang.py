"""The ``gerbang`` command: every package's commands under one roof, and the demo.

This module sits above the packages so that none of them imports upward: it gathers the commands of
``sensors``, ``station`` and ``dashboard`` and holds ``demo``, the only code that starts several parts
together. Commands load lazily (click's ``LazyGroup`` pattern): ``gerbang --help`` and a device
command import neither Flask nor SQLAlchemy nor OpenCV, and a command whose libraries are not
installed says which extra brings them.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from typing import Any

import click

from gerbang_logging import configure_logging
from sensors.cli import COMMANDS as SENSORS_COMMANDS
from station.cli import COMMANDS as STATION_COMMANDS

#: The dashboard's one group, named here: any module of ``dashboard`` imports Flask on import.
DASHBOARD_COMMANDS: dict[str, tuple[str, str, str]] = {
    "dashboard": (
        "dashboard.cli:dashboard_group",
        "The supervisors' dashboard: set-up and server.",
        "dashboard",
    ),
}

#: Top-level modules of the libraries each optional extra brings; a missing one names its extra.
EXTRA_OF_MODULE: dict[str, str] = {
    **dict.fromkeys(["serial", "cv2", "numpy"], "station"),
    **dict.fromkeys(
        ["sqlalchemy", "alembic", "waitress", "flask_babel", "flask_login", "flask_wtf", "wtforms", "babel"],
        "dashboard",
    ),
    "psycopg": "postgres",
    "paho": "mqtt",
}
#: Libraries in more than one extra: the command's own extra is named for them.
SHARED_MODULES = frozenset({"flask", "werkzeug", "markupsafe", "jinja2", "prometheus_client"})


def missing_extra(module: str | None, command_extra: str) -> str | None:
    """The extra that brings top-level ``module``, or None when it is none of ours.

    Args:
        module: The name a ``ModuleNotFoundError`` gives (``cv2``, ``paho.mqtt``...).
        command_extra: The extra of the command that needed it.
    """
    top = (module or "").partition(".")[0]
    if top in SHARED_MODULES:
        return command_extra
    return EXTRA_OF_MODULE.get(top)


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when one is run (or its help shown).

    Args:
        lazy_subcommands: Name -> ("module:attribute", help's first paragraph, extra it needs).
        extras: Extras of the group's own (not lazy) commands, by name.
    """

    def __init__(
        self,
        *args: Any,
        lazy_subcommands: Mapping[str, tuple[str, str, str]] | None = None,
        extras: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_subcommands = dict(lazy_subcommands or {})
        self.extras = dict(extras or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, loaded or not."""
        return sorted({*super().list_commands(ctx), *self.lazy_subcommands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command ``cmd_name``, imported now if it is a lazy one."""
        if cmd_name in self.lazy_subcommands and cmd_name not in self.commands:
            self.add_command(self._load(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def _load(self, cmd_name: str) -> click.Command:
        where, _help, extra = self.lazy_subcommands[cmd_name]
        module_name, _, attribute = where.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            raise _extra_error(cmd_name, err, extra) from None
        command = getattr(module, attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{where} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands with their short help, importing none of the lazy ones."""
        rows: list[tuple[str, click.Command]] = []
        for name in self.list_commands(ctx):
            lazy = self.lazy_subcommands.get(name)
            command = self.commands.get(name) or (click.Command(name, help=lazy[1]) if lazy else None)
            if command is not None and not command.hidden:
                rows.append((name, command))
        if rows:
            limit = formatter.width - 6 - max(len(name) for name, _ in rows)
            with formatter.section("Commands"):
                formatter.write_dl([(name, command.get_short_help_str(limit)) for name, command in rows])

    def invoke(self, ctx: click.Context) -> object:
        """Run the subcommand; a library it needs but is not installed names the extra to install."""
        try:
            return super().invoke(ctx)
        except ModuleNotFoundError as err:
            name = ctx.invoked_subcommand or ""
            lazy = self.lazy_subcommands.get(name)
            command_extra = lazy[2] if lazy else self.extras.get(name, "all")
            if missing_extra(err.name, command_extra) is None:
                raise
            raise _extra_error(name, err, command_extra) from None


def _extra_error(cmd_name: str, err: ModuleNotFoundError, command_extra: str) -> click.ClickException:
    extra = missing_extra(err.name, command_extra) or command_extra
    return click.ClickException(
        f"'gerbang {cmd_name}' needs the {extra} extra ({err}): pip install 'gerbang[{extra}]'"
    )


@click.group(
    cls=LazyGroup,
    lazy_subcommands={**SENSORS_COMMANDS, **STATION_COMMANDS, **DASHBOARD_COMMANDS},
    extras={"demo": "all", "simulate": "all"},
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="gerbang", message="%(prog)s %(version)s")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Log lines as text, or one JSON object a line (for journald, Loki, ELK).",
)
def main(verbose: int, log_format: str) -> None:
    """Gerbang: an entrance health-screening check-in station."""
    configure_logging(logging.WARNING - 10 * min(verbose, 2), log_format)


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
