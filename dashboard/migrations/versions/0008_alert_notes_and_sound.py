"""Alerts keep the note they were acknowledged with; each user chooses whether alerts beep.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 06:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``alerts.acknowledged_note`` and ``users.alert_sound`` (on for everyone)."""
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("acknowledged_note", sa.Text(), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("alert_sound", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    """Drop both columns."""
    with op.batch_alter_table("users") as batch:
        batch.drop_column("alert_sound")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("acknowledged_note")
