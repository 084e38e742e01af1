"""Sessions can be ended server-side: a per-user generation that every session cookie must match.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 02:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``users.session_gen`` (0 for everyone: existing cookies must log in again)."""
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_gen", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    """Drop ``users.session_gen``."""
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_gen")
