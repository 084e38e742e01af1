"""One room, one truth: exact shares (millionths), the over-limit flag, each site's time zone.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 05:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Replace ``rooms.share_permille`` by ``share_ppm``; add ``rooms.over_limit``, ``sites.time_zone``."""
    with op.batch_alter_table("rooms") as batch:
        batch.add_column(sa.Column("share_ppm", sa.Integer(), nullable=False, server_default="500000"))
        batch.add_column(sa.Column("over_limit", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE rooms SET share_ppm = share_permille * 1000")
    op.execute("UPDATE rooms SET over_limit = (occupancy_people > capacity_people * share_ppm / 1000000)")
    with op.batch_alter_table("rooms") as batch:
        batch.drop_column("share_permille")
    with op.batch_alter_table("sites") as batch:
        batch.add_column(sa.Column("time_zone", sa.String(64), nullable=False, server_default="Asia/Jakarta"))


def downgrade() -> None:
    """Back to per-mille shares (rounded), without the over-limit flag and the sites' zones."""
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("time_zone")
    with op.batch_alter_table("rooms") as batch:
        batch.add_column(sa.Column("share_permille", sa.Integer(), nullable=False, server_default="500"))
    op.execute("UPDATE rooms SET share_permille = (share_ppm + 500) / 1000")
    with op.batch_alter_table("rooms") as batch:
        batch.drop_column("over_limit")
        batch.drop_column("share_ppm")
