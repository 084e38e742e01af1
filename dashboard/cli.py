"""``gerbang dashboard ...``: set up the database, rooms, stations and users; run the server.

Every command takes ``--database URL`` (default: ``GERBANG_DATABASE_URL``, else the SQLite file
under ``instance/``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from flask import Flask
from sqlalchemy.orm import Session

from dashboard.models import Role

log = logging.getLogger(__name__)

database_option = click.option(
    "--database",
    "database_url",
    envvar="GERBANG_DATABASE_URL",
    default=None,
    help="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db (default: instance/gerbang.sqlite3).",
)


def _app(database_url: str | None) -> Flask:
    from dashboard import create_app

    return create_app({"DATABASE_URL": database_url} if database_url else None)


@contextlib.contextmanager
def _session(database_url: str | None) -> Iterator[tuple[Flask, Session]]:
    """Yield the app and a session; close both (the engine's connections too) afterwards."""
    from dashboard.db import get_engine, new_session

    app = _app(database_url)
    try:
        with new_session(app) as session:
            yield app, session
    finally:
        get_engine(app).dispose()


@click.group("dashboard", help="The supervisors' dashboard: set-up and server.")
def dashboard_group() -> None:
    """The dashboard's commands."""


@dashboard_group.command("init-db")
@database_option
def init_db(database_url: str | None) -> None:
    """Create or upgrade the tables (Alembic migrations to the latest)."""
    from dashboard.migrate import upgrade

    with _session(database_url) as (app, _):
        url = app.config["DATABASE_URL"]
    upgrade(url)
    click.echo("database ready")


def _setup_errors(func: Any) -> Any:
    from dashboard.manage import SetupError

    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SetupError as err:
            raise click.ClickException(str(err)) from None

    run.__name__ = func.__name__
    run.__doc__ = func.__doc__
    return run


@dashboard_group.command("create-user")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--language", type=click.Choice(["id", "en"]), default="id", show_default=True)
@click.option(
    "--site",
    "sites",
    multiple=True,
    help="A site (slug) the guard or supervisor works at; repeat for several. Admins see every site.",
)
@database_option
@_setup_errors
def create_user(
    name: str, role: str, language: str, sites: tuple[str, ...], database_url: str | None
) -> None:
    """Create user NAME; the password is read from standard input.

    Guards and supervisors see only the sites given with --site (none without it).
    """
    from dashboard import manage

    password = _read_password()
    with _session(database_url) as (_, session):
        manage.create_user(session, name, password, Role(role), locale=language, sites=sites)
    at = f" at {', '.join(sorted(set(sites)))}" if sites else ""
    click.echo(f"user {name} created as {role}{at}")


def _read_password() -> str:
    """The first line of standard input, or a hidden prompt (asked twice) at a terminal."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@dashboard_group.command("set-password")
@click.argument("name")
@database_option
@_setup_errors
def set_password(name: str, database_url: str | None) -> None:
    """Give user NAME a new password, read from standard input; every session of theirs ends.

    The same rules as create-user: at least 10 characters, not a common password, not the name.
    """
    from dashboard import manage

    password = _read_password()
    with _session(database_url) as (_, session):
        manage.set_password(session, name, password)
    click.echo(f"password of user {name} changed; their sessions ended")


@dashboard_group.command("user")
@click.argument("name")
@click.option(
    "--site",
    "sites",
    multiple=True,
    help="A site (slug) the user works at; repeat for several. The sites given replace the user's.",
)
@click.option("--no-sites", is_flag=True, help="Take every site away from the user.")
@database_option
@_setup_errors
def user(name: str, sites: tuple[str, ...], no_sites: bool, database_url: str | None) -> None:
    """Show user NAME's role and sites, or set the sites with --site (or --no-sites).

    Guards and supervisors see only their sites' rooms, stations, screenings, alerts, reports,
    exports and live messages; admins see every site.
    """
    from dashboard import manage
    from dashboard.models import User

    if sites and no_sites:
        raise click.ClickException("give --site or --no-sites, not both")
    with _session(database_url) as (_, session):
        found: User | None
        if sites or no_sites:
            found = manage.set_user_sites(session, name, sites)
        else:
            from sqlalchemy import select

            found = session.execute(select(User).where(User.username == name)).scalar_one_or_none()
            if found is None:
                raise click.ClickException(f"no user {name[:64]!r}")
        slugs = ", ".join(site.slug for site in found.sites) or "none"
        every = " (an admin: sees every site)" if found.role == Role.ADMIN.value else ""
        click.echo(f"user {found.username}: {found.role}, sites {slugs}{every}")


@dashboard_group.command("add-site")
@click.argument("site")
@click.option("--name", default=None, help="Display name, as people call the site (default: SITE).")
@click.option("--address", default="", help="Where the site is (street, city).")
@click.option(
    "--time-zone",
    default="Asia/Jakarta",
    show_default=True,
    help="Asia/Jakarta (WIB), Asia/Makassar (WITA) or Asia/Jayapura (WIT).",
)
@database_option
@_setup_errors
def add_site(site: str, name: str | None, address: str, time_zone: str, database_url: str | None) -> None:
    """Add SITE (a slug) on its own; add its rooms with add-room SITE ROOM."""
    from dashboard import manage

    with _session(database_url) as (_, session):
        made = manage.add_site(session, site, name, address, time_zone)
        click.echo(f"site {made.slug} ({made.name}): time zone {made.time_zone}")


@dashboard_group.command("add-room")
@click.argument("site")
@click.argument("room")
@click.option("--capacity", "capacity_people", type=int, required=True, help="People the room holds.")
@click.option("--share", type=float, default=0.5, show_default=True, help="Share of capacity allowed in.")
@click.option("--name", default=None, help="Display name (default: ROOM).")
@database_option
@_setup_errors
def add_room(
    site: str, room: str, capacity_people: int, share: float, name: str | None, database_url: str | None
) -> None:
    """Add ROOM (a slug, unique within its site) to SITE (a slug; made on first use).

    Other commands name the room SITE/ROOM, or ROOM alone while no other site has a room by that name.
    """
    from dashboard import manage

    with _session(database_url) as (_, session):
        made = manage.add_room(session, site, room, capacity_people, share, name=name)
        click.echo(f"room {made.slug} in {site}: capacity {made.capacity_people}, limit {made.limit_people}")


@dashboard_group.command("set-room")
@click.argument("room")
@click.option("--capacity", "capacity_people", type=int, default=None, help="People the room holds.")
@click.option("--share", default=None, help="Share of capacity allowed in, as a decimal (0.5).")
@click.option("--name", default=None, help="Display name.")
@database_option
@_setup_errors
def set_room(
    room: str, capacity_people: int | None, share: str | None, name: str | None, database_url: str | None
) -> None:
    """Change ROOM's capacity, share or name; print the new limit (the stations take it within seconds).

    ROOM is SITE/ROOM, or ROOM alone while no other site has a room by that name.
    """
    from dashboard import manage, naming

    with _session(database_url) as (_, session):
        changed = manage.set_room(session, room, capacity_people=capacity_people, share=share, name=name)
        click.echo(
            f"room {naming.room_name(changed)}: capacity {changed.capacity_people}, share {changed.share}, "
            f"limit {changed.limit_people}"
        )


@dashboard_group.command("set-site")
@click.argument("site")
@click.option(
    "--time-zone", default=None, help="Asia/Jakarta (WIB), Asia/Makassar (WITA) or Asia/Jayapura (WIT)."
)
@click.option("--name", default=None, help="Display name.")
@click.option("--address", default=None, help="Where the site is (street, city); '' clears it.")
@database_option
@_setup_errors
def set_site(
    site: str, time_zone: str | None, name: str | None, address: str | None, database_url: str | None
) -> None:
    """Change SITE's time zone, name or address: its days, reports and times shown follow the zone."""
    from dashboard import manage
    from dashboard.timeutil import ZoneInfo

    with _session(database_url) as (_, session):
        changed = manage.set_site(session, site, time_zone=time_zone, name=name, address=address)
        label = datetime.now(ZoneInfo(changed.time_zone)).tzname()
        click.echo(f"site {changed.slug}: time zone {changed.time_zone} ({label})")


@dashboard_group.command("add-station")
@click.argument("name")
@click.option("--room", required=True, help="The room: SITE/ROOM, or ROOM while only one site has it.")
@database_option
@_setup_errors
def add_station(name: str, room: str, database_url: str | None) -> None:
    """Register station NAME in ROOM and print its token (once: only its hash is kept)."""
    from dashboard import manage

    with _session(database_url) as (_, session):
        _station, token = manage.add_station(session, name, room)
    click.echo(token)


@dashboard_group.command("rotate-token")
@click.argument("name")
@database_option
@_setup_errors
def rotate_token(name: str, database_url: str | None) -> None:
    """Give station NAME a new token and print it (once); the old token stops working at once."""
    from dashboard import manage

    with _session(database_url) as (_, session):
        token = manage.rotate_token(session, name)
    click.echo(token)


@dashboard_group.command("api-token")
@click.argument("name")
@database_option
@_setup_errors
def api_token(name: str, database_url: str | None) -> None:
    """Print an API token for user NAME: it reads /api/v1/ as NAME does (Authorization: Bearer TOKEN).

    It stops working when NAME's password changes, their sessions are ended or they are disabled.
    """
    from sqlalchemy import select

    from dashboard import read_api
    from dashboard.models import User

    with _session(database_url) as (app, session):
        user = session.execute(select(User).where(User.username == name)).scalar_one_or_none()
        if user is None or not user.active:
            raise click.ClickException(f"no active user {name!r}")
        with app.app_context():
            token = read_api.make_token(user)
    click.echo(token)


@dashboard_group.command("revoke-station")
@click.argument("name")
@database_option
@_setup_errors
def revoke_station(name: str, database_url: str | None) -> None:
    """Refuse station NAME from now on (its history stays; rotate-token lets it in again)."""
    from dashboard import manage

    with _session(database_url) as (_, session):
        manage.revoke_station(session, name)
    click.echo(f"station {name} revoked")


@dashboard_group.command("purge")
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=None,
    help="Keep health data this many days (default: PURGE_AFTER_DAYS, 30).",
)
@database_option
def purge(days: int | None, database_url: str | None) -> None:
    """Delete old health data and raise silent-station alerts (run it from cron, or let `run` do it).

    Screenings, alerts, the audit entries about them and station statuses older than the retention
    go; one line per table says how many.
    """
    from dashboard import jobs

    with _session(database_url) as (app, session):
        jobs.check_silent(session, app.config["STATION_SILENT_S"])
        deleted = jobs.purge(session, days if days is not None else app.config["PURGE_AFTER_DAYS"])
    for name, number in deleted.items():
        click.echo(f"deleted {number} {name}")


@dashboard_group.command("forward")
@click.option("--mqtt", "mqtt_address", default=None, help="MQTT broker HOST[:PORT] (e.g. 127.0.0.1:1883).")
@click.option("--mqtt-prefix", default="gerbang", show_default=True, help="First level of the topics.")
@click.option(
    "--discovery-prefix",
    default="homeassistant",
    show_default=True,
    help="Home Assistant discovery prefix ('' for none).",
)
@click.option(
    "--mqtt-tls", is_flag=True, help="Connect to the broker over TLS (port 8883 unless HOST:PORT says)."
)
@click.option(
    "--mqtt-ca",
    "mqtt_ca",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="CA certificate (PEM) the broker's certificate is checked against (implies --mqtt-tls; "
    "default: the system's CAs).",
)
@click.option(
    "--mqtt-cert",
    "mqtt_cert",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="This client's certificate (PEM), for brokers that require one (implies --mqtt-tls).",
)
@click.option(
    "--mqtt-key",
    "mqtt_key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The private key (PEM) of --mqtt-cert.",
)
@click.option("--webhook", "webhook_urls", multiple=True, help="URL to POST each alert to (repeatable).")
@click.option(
    "--position",
    "position_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File noting the last message forwarded: a restart resumes after it (default: start at the newest).",
)
@database_option
def forward(
    mqtt_address: str | None,
    mqtt_prefix: str,
    discovery_prefix: str,
    mqtt_tls: bool,
    mqtt_ca: Path | None,
    mqtt_cert: Path | None,
    mqtt_key: Path | None,
    webhook_urls: tuple[str, ...],
    position_path: Path | None,
    database_url: str | None,
) -> None:
    """Forward occupancy and alerts to MQTT (with Home Assistant discovery) and signed webhooks.

    Run one per cluster. The webhook secret comes from GERBANG_WEBHOOK_SECRET (16 bytes or more);
    the MQTT password, if any, from GERBANG_MQTT_PASSWORD with --mqtt user@host:port. PREFIX/status
    says online while forwarding and offline when stopped or cut off (a Last Will), and Home
    Assistant shows the rooms unavailable then.
    """
    import threading

    from dashboard.db import get_engine, new_session
    from dashboard.forward import Forwarder, PositionFile, Sink, starting_point
    from dashboard.live import OutboxReader, last_id

    sinks: list[Sink] = []
    app = _app(database_url)
    publisher = None
    if (mqtt_cert is None) != (mqtt_key is None):
        raise click.ClickException("give --mqtt-cert and --mqtt-key together")
    if mqtt_address:
        from dashboard.mqtt import MqttSink, PahoPublisher, TlsSettings, availability_topic

        user, _, hostport = mqtt_address.rpartition("@")
        host, _, port = hostport.partition(":")
        tls = TlsSettings(mqtt_ca, mqtt_cert, mqtt_key) if mqtt_tls or mqtt_ca or mqtt_cert else None
        try:
            publisher = PahoPublisher(
                host or "127.0.0.1",
                int(port or (8883 if tls else 1883)),
                username=user or None,
                password=os.environ.get("GERBANG_MQTT_PASSWORD"),
                status_topic=availability_topic(mqtt_prefix),
                tls=tls,
            )
        except (OSError, ValueError) as err:
            raise click.ClickException(f"cannot reach the MQTT broker at {mqtt_address}: {err}") from None
        sinks.append(MqttSink(publisher, mqtt_prefix, discovery_prefix or None))
    if webhook_urls:
        from dashboard.webhooks import WebhookSink

        secret = os.environ.get("GERBANG_WEBHOOK_SECRET", "").encode()
        if len(secret) < 16:
            raise click.ClickException("set GERBANG_WEBHOOK_SECRET (16 bytes or more) to sign webhooks")
        sinks.extend(WebhookSink(url, secret) for url in webhook_urls)
    if not sinks:
        raise click.ClickException("nothing to forward to: give --mqtt and/or --webhook")

    def newest_id() -> int:
        with new_session(app) as session:
            return last_id(session)

    position = PositionFile(position_path) if position_path is not None else None
    try:
        start = starting_point(position, newest_id)
    except (OSError, ValueError) as err:
        raise click.ClickException(str(err)) from None
    reader = OutboxReader(get_engine(app), start, app.config["LIVE_GAP_GRACE_S"])
    forwarder = Forwarder(reader, app.extensions["gerbang_notifier"], sinks, position)
    click.echo(f"forwarding live messages after #{start} to {len(sinks)} sink(s); Ctrl-C stops")
    try:
        with contextlib.suppress(KeyboardInterrupt):
            forwarder.run(threading.Event())
    finally:
        if publisher is not None:
            publisher.close()


@dashboard_group.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option(
    "--threads",
    default=32,
    show_default=True,
    type=int,
    help="Worker threads answering requests (live pages hold none: they are served on the event loop).",
)
@click.option(
    "--connection-limit",
    default=4000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Open connections this process keeps (stations keep theirs open, and each live page holds "
    "one); past it the longest-idle connection is closed to let a new one in. Mind the open-files "
    "limit (ulimit -n), which the process raises to its hard limit.",
)
@click.option("--dev", is_flag=True, help="Flask's development server with the reloader.")
@click.option(
    "--insecure-cookies",
    is_flag=True,
    help="Allow logins over plain HTTP (a LAN without TLS): the session cookie loses its Secure flag.",
)
@database_option
def run(
    host: str,
    port: int,
    threads: int,
    connection_limit: int,
    dev: bool,
    insecure_cookies: bool,
    database_url: str | None,
) -> None:
    """Serve the dashboard, with the scheduled jobs in a background thread.

    One asyncio loop holds every connection (uvicorn); requests run in worker threads, live pages
    on the loop (dashboard/serve.py). The jobs (silent-station alerts, the purge of old screenings)
    run every 30 s in each process; they are idempotent, so several processes on one database are
    fine.
    """
    from dashboard.jobs import Scheduler

    if insecure_cookies:
        os.environ["GERBANG_INSECURE_COOKIES"] = "1"
    app = _app(database_url)
    if app.config["SESSION_COOKIE_SECURE"]:
        click.echo(
            "session cookies are Secure: serve over HTTPS, or pass --insecure-cookies on a plain-HTTP LAN"
        )
    scheduler = Scheduler(app)
    scheduler.start()
    try:
        if dev:
            app.run(host=host, port=port, debug=True, use_reloader=True, threaded=True)
        else:
            from dashboard.serve import make_server

            click.echo(f"dashboard on http://{host}:{port}/")
            _raise_open_files_limit()
            _warn_if_few_open_files(connection_limit + threads + 64)
            make_server(app, host, port, threads=threads, connection_limit=connection_limit).run()
    finally:
        scheduler.stop.set()


def _raise_open_files_limit() -> None:
    """Raise the soft open-files limit to the hard one: every connection is a file descriptor."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError) as err:
            log.warning("cannot raise the open-files limit from %s to %s: %s", soft, hard, err)


def _warn_if_few_open_files(needed: int) -> None:
    """Say so when the open-files limit is below what the connection limit needs."""
    import resource

    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        click.echo(
            f"warning: the open-files limit ({soft}) is below the {needed} this process may need "
            "(--connection-limit, threads, database connections): raise it (ulimit -n) or lower "
            "--connection-limit",
            err=True,
        )


cli = click.Group(commands=[dashboard_group])
