"""Stations can be revoked: ``stations.revoked_at``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dashboard.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("stations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revoked_at", dashboard.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("stations", schema=None) as batch_op:
        batch_op.drop_column("revoked_at")
