"""The test PostgreSQL: its address, and whether it answers (shared by the dashboard and system tests)."""

from __future__ import annotations

import os

from sqlalchemy import create_engine, text

POSTGRES_URL = os.environ.get(
    "GERBANG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def postgres_problem() -> str | None:
    """Return why PostgreSQL cannot be used, or None when it answers."""
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as err:
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {str(err).splitlines()[0]}"
    return None
