"""Fixtures: the dashboard app on a migrated database, once on SQLite and once on PostgreSQL.

PostgreSQL is found at ``GERBANG_TEST_POSTGRES_URL`` (default: the local server's ``test``
database with trust auth). Each test session works in a schema of its own, dropped at the end;
tables are emptied after every test. When PostgreSQL is unreachable its half of the suite is
skipped with the reason; CI starts it, so there it always runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from dashboard_support import PASSWORD, FreshDatabases, app_settings
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dashboard import create_app, manage
from dashboard.db import Base, get_engine, new_session
from dashboard.migrate import upgrade
from dashboard.models import Role, Site


@pytest.fixture(scope="session")
def fresh_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreshDatabases]:
    databases = FreshDatabases(tmp_path_factory.mktemp("databases"))
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, fresh_databases: FreshDatabases) -> str:
    """A database migrated to the latest revision, shared by the session's tests of one kind."""
    url = fresh_databases.make(request.param)
    upgrade(url)
    return url


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(app_settings(database_url, tmp_path))
    yield app
    close = getattr(app.extensions["gerbang_notifier"], "close", None)
    if close is not None:  # PostgreSQL's listener thread and its connection
        close()
    empty_tables(app)
    get_engine(app).dispose()


def empty_tables(app: Flask) -> None:
    with get_engine(app).begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class Runner:
    """Runs ``gerbang dashboard ...`` on the test database."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    def invoke(self, args: list[str], stdin: str | None = None) -> Result:
        from dashboard.cli import cli

        return CliRunner().invoke(
            cli, ["dashboard", *args, "--database", self.database_url], input=stdin, catch_exceptions=False
        )


@pytest.fixture
def runner(app: Flask, database_url: str) -> Runner:
    return Runner(database_url)


@pytest.fixture
def make_room(app: Flask) -> Callable[..., str]:
    """Add a room: ``make_room("lobby", capacity_people=10, share=0.5, site="kantor")``."""

    def make(slug: str, capacity_people: int = 10, share: float = 0.5, site: str = "kantor-pusat") -> str:
        with new_session(app) as session:
            manage.add_room(session, site, slug, capacity_people, share)
        return slug

    return make


@pytest.fixture
def make_station(app: Flask) -> Callable[[str, str], str]:
    """Register a station in a room and return its token."""

    def make(name: str, room: str) -> str:
        with new_session(app) as session:
            return manage.add_station(session, name, room)[1]

    return make


DEFAULT_SITE = "kantor-pusat"  # make_room's site


@pytest.fixture
def make_user(app: Flask) -> Callable[..., str]:
    """Add a user working at ``sites`` (made when missing; by default make_room's site)."""

    def make(username: str, role: Role, locale: str = "en", sites: tuple[str, ...] = (DEFAULT_SITE,)) -> str:
        with new_session(app) as session:
            for slug in sites:
                if session.execute(select(Site).where(Site.slug == slug)).scalar_one_or_none() is None:
                    session.add(Site(slug=slug, name=slug))
            session.commit()
            manage.create_user(session, username, PASSWORD, role, locale=locale, sites=sites)
        return username

    return make


@pytest.fixture
def login(client: FlaskClient, make_user: Callable[..., str]) -> Callable[[Role], FlaskClient]:
    """Log the test client in as a new user of the given role."""

    def log_in(role: Role, locale: str = "en", sites: tuple[str, ...] = (DEFAULT_SITE,)) -> FlaskClient:
        name = make_user(f"user-{role}", role, locale, sites)
        response = client.post("/login", data={"username": name, "password": PASSWORD})
        assert response.status_code == 302, response.text
        return client

    return log_in
