"""Sites as people name them: an address, and room slugs unique within their site only.

Two sites may each have a ``hall``: ``rooms.slug`` loses its unique constraint across all sites and
the pair (site_id, slug) is unique instead. Sites get an address (free text, may be empty).

Going down needs every room slug to be unique again (fails while two sites share one).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 18:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# SQLite reflects the unnamed constraints of 0001 without a name: batch mode names them by this.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _unique_name(table: str, columns: list[str]) -> str:
    """The name of ``table``'s unique constraint on ``columns`` (PostgreSQL's, or the batch name)."""
    for constraint in sa.inspect(op.get_bind()).get_unique_constraints(table):
        if constraint["column_names"] == columns and constraint["name"]:
            return constraint["name"]
    return f"uq_{table}_{columns[0]}"


def upgrade() -> None:
    """``sites.address``; ``rooms`` unique on (site_id, slug) instead of the slug alone."""
    with op.batch_alter_table("sites") as batch:
        batch.add_column(sa.Column("address", sa.Text(), nullable=False, server_default=""))
    old = _unique_name("rooms", ["slug"])
    with op.batch_alter_table("rooms", naming_convention=NAMING) as batch:
        batch.drop_constraint(old, type_="unique")
        batch.create_unique_constraint("uq_rooms_site_slug", ["site_id", "slug"])


def downgrade() -> None:
    """Room slugs unique across all sites again; sites without their address."""
    with op.batch_alter_table("rooms", naming_convention=NAMING) as batch:
        batch.drop_constraint("uq_rooms_site_slug", type_="unique")
        batch.create_unique_constraint(_unique_name("rooms", ["slug"]), ["slug"])
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("address")
