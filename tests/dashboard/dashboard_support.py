"""Helpers of the dashboard's tests, importable by name (``conftest`` is not: several exist)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from postgres_support import POSTGRES_URL, postgres_problem
from sqlalchemy import create_engine, text

PASSWORD = "correct horse battery"


class FreshDatabases:
    """Makes empty databases: SQLite files, or PostgreSQL schemas dropped at the end."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.schemas: list[str] = []

    def make(self, kind: str) -> str:
        if kind == "sqlite":
            return f"sqlite:///{self.tmp / f'{uuid.uuid4().hex}.sqlite3'}"
        problem = postgres_problem()
        if problem:
            pytest.skip(problem)
        schema = f"gerbang_test_{uuid.uuid4().hex[:12]}"
        engine = create_engine(POSTGRES_URL)
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
        self.schemas.append(schema)
        separator = "&" if "?" in POSTGRES_URL else "?"
        return f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"

    def drop_all(self) -> None:
        if not self.schemas:
            return
        engine = create_engine(POSTGRES_URL)
        with engine.begin() as conn:
            for schema in self.schemas:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


def app_settings(database_url: str, tmp_path: Path, **extra: Any) -> dict[str, Any]:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test secret",
        "SESSION_COOKIE_SECURE": False,
        "WTF_CSRF_ENABLED": False,
        "LIVE_STREAM_S": 0.3,
        "LIVE_POLL_S": 0.05,
        **extra,
    }
