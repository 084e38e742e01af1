"""The database: engine per app, one session per request, and the declarative base.

Plain SQLAlchemy 2.0 (no Flask extension): ``init_app`` makes the engine from ``DATABASE_URL``
and ``get_session`` hands out the request's session, closed at teardown.
"""

from __future__ import annotations

import contextlib
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from flask import Flask, current_app, g
from sqlalchemy import BigInteger, DateTime, Engine, Integer, Table, create_engine, event, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

ENGINE_KEY = "gerbang_engine"
SESSIONMAKER_KEY = "gerbang_sessionmaker"


#: Primary keys of the tables that grow with traffic: 64-bit on PostgreSQL (a fleet writes billions of
#: rows), SQLite's INTEGER PRIMARY KEY (already 64-bit, and the only type it auto-increments).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """The declarative base of every model."""

    if TYPE_CHECKING:
        # Every model here maps one Table (SQLAlchemy types __table__ as any FromClause).
        __table__: ClassVar[Table]


class UTCDateTime(TypeDecorator[datetime]):
    """A moment stored as naive UTC (the same on SQLite and PostgreSQL), read back aware in UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Store aware times as naive UTC; naive ones are taken to be UTC already."""
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Give times back aware, in UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utc_now() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


def make_engine(url: str, pool_size: int = 20, max_overflow: int = 5, pool_timeout_s: float = 5.0) -> Engine:
    """Create an engine for ``url``; SQLite gets WAL, a busy timeout and foreign keys.

    Args:
        url: A SQLAlchemy URL such as ``sqlite:///instance/gerbang.sqlite3`` or
            ``postgresql+psycopg://user@host/db``.
        pool_size: PostgreSQL connections kept open: at least the requests served at once (waitress
            threads busy with the database), or connections past it are opened and closed per request
            (a new server process each time: under load that churn costs more than the requests).
        max_overflow: Extra connections opened for a burst, closed after it. Keep processes x
            (``pool_size`` + ``max_overflow``) + 1 listener each under PostgreSQL's ``max_connections``.
        pool_timeout_s: Longest wait for a free connection; then the request fails with 503 (before a
            station's own 10 s timeout, so it does not retry while its first try still waits).
    """
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:" and Path(database).parent.is_dir():
            with contextlib.suppress(FileExistsError):  # screenings are health data: owner only (0600)
                os.close(os.open(database, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    # No pre-ping: it costs a round trip per request. After PostgreSQL restarts, the requests on stale
    # connections fail (503, stations retry) and SQLAlchemy drops every pooled connection made before
    # the failure, so the next requests get fresh ones.
    return create_engine(url, pool_size=pool_size, max_overflow=max_overflow, pool_timeout=pool_timeout_s)


def init_app(app: Flask) -> None:
    """Create the app's engine and close the request's session at teardown."""
    config = app.config
    pool = (config["DATABASE_POOL_SIZE"], config["DATABASE_MAX_OVERFLOW"], config["DATABASE_POOL_TIMEOUT_S"])
    engine = make_engine(config["DATABASE_URL"], *pool)
    app.extensions[ENGINE_KEY] = engine
    app.extensions[SESSIONMAKER_KEY] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def get_engine(app: Flask | None = None) -> Engine:
    """Return the app's engine."""
    return (app or current_app).extensions[ENGINE_KEY]


def new_session(app: Flask | None = None) -> Session:
    """Return a new session outside any request (jobs, CLI, the live stream); close it yourself."""
    return (app or current_app).extensions[SESSIONMAKER_KEY]()


def get_session() -> Session:
    """Return this request's session, opening it on first use."""
    if "db_session" not in g:
        g.db_session = new_session()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
