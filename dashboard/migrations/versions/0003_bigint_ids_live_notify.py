"""PostgreSQL: 64-bit ids for the tables that grow with traffic; the outbox notifies by trigger.

A fleet of 200 stations writes about 200 outbox rows a second: a 32-bit id runs out in four
months. The ``NOTIFY`` that wakes every process's live streams moves from a second statement in
each ingest transaction into a statement-level trigger on ``live_events``, so any writer of the
outbox wakes the streams, at no extra round trip. SQLite needs neither (its ids are 64-bit, its
streams poll).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 04:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

GROWING_TABLES = (
    "crossings",
    "screenings",
    "corrections",
    "station_statuses",
    "alerts",
    "audit_log",
    "live_events",
    "login_attempts",
)
CHANNEL = "gerbang_live"  # dashboard.notify.CHANNEL, fixed here as migrations must not change


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _set_id_type(type_name: str) -> None:
    for table in GROWING_TABLES:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN id TYPE {type_name}")
        op.execute(f"ALTER SEQUENCE IF EXISTS {table}_id_seq AS {type_name}")


def upgrade() -> None:
    """Apply this revision."""
    if not _is_postgresql():
        return
    _set_id_type("BIGINT")
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION gerbang_live_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', '');
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER live_events_notify AFTER INSERT ON live_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION gerbang_live_notify()"
    )


def downgrade() -> None:
    """Undo this revision."""
    if not _is_postgresql():
        return
    op.execute("DROP TRIGGER IF EXISTS live_events_notify ON live_events")
    op.execute("DROP FUNCTION IF EXISTS gerbang_live_notify()")
    _set_id_type("INTEGER")
