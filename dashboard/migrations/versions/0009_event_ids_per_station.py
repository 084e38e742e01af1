"""Event ids are unique per station: ingest is idempotent on (station, event id).

A station makes its event ids unique among its own events only; keyed on the id alone, an id another
station had used was taken for a resend and dropped without a word. ``ingested_events`` is keyed on
(station_id, event_id), and the tables that keep each kind of event hold the pair unique instead of
the id.

Going down needs every event id to be unique again (fails while two stations share one).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 07:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

EVENT_TABLES = ("crossings", "screenings", "corrections", "station_statuses")
# SQLite reflects the unnamed constraints of 0001 without a name: batch mode names them by this.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s", "pk": "pk_%(table_name)s"}


def _unique_name(table: str, columns: list[str]) -> str:
    """The name of ``table``'s unique constraint on ``columns`` (PostgreSQL's, or the batch name)."""
    for constraint in sa.inspect(op.get_bind()).get_unique_constraints(table):
        if constraint["column_names"] == columns and constraint["name"]:
            return constraint["name"]
    return f"uq_{table}_{columns[0]}"


def _primary_key_name(table: str) -> str:
    """The name of ``table``'s primary key (PostgreSQL's ``<table>_pkey``, or the batch name)."""
    return sa.inspect(op.get_bind()).get_pk_constraint(table).get("name") or f"pk_{table}"


def _key_ingested_events_on(columns: list[str]) -> None:
    name = _primary_key_name("ingested_events")
    with op.batch_alter_table("ingested_events", naming_convention=NAMING) as batch:
        batch.drop_constraint(name, type_="primary")
        batch.create_primary_key(name, columns)


def upgrade() -> None:
    """Key ``ingested_events`` and the events' tables on (station_id, event_id)."""
    _key_ingested_events_on(["station_id", "event_id"])
    for table in EVENT_TABLES:
        old = _unique_name(table, ["event_id"])
        with op.batch_alter_table(table, naming_convention=NAMING) as batch:
            batch.drop_constraint(old, type_="unique")
            batch.create_unique_constraint(f"uq_{table}_station_event", ["station_id", "event_id"])


def downgrade() -> None:
    """Key them on the event id alone again."""
    for table in EVENT_TABLES:
        with op.batch_alter_table(table, naming_convention=NAMING) as batch:
            batch.drop_constraint(f"uq_{table}_station_event", type_="unique")
            batch.create_unique_constraint(_unique_name(table, ["event_id"]), ["event_id"])
    _key_ingested_events_on(["event_id"])
