"""One room, one truth: exact shares, the over-limit flag, sites' zones, dashboard corrections.

Shares in millionths (0.3335 exactly), the over-limit flag (one alert per excursion), each site's
time zone, and corrections made on the dashboard (no station).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 05:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """``rooms.share_ppm`` for ``share_permille``; ``over_limit``; ``sites.time_zone``; null stations."""
    with op.batch_alter_table("rooms") as batch:
        batch.add_column(sa.Column("share_ppm", sa.Integer(), nullable=False, server_default="500000"))
        batch.add_column(sa.Column("over_limit", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE rooms SET share_ppm = share_permille * 1000")
    op.execute("UPDATE rooms SET over_limit = (occupancy_people > capacity_people * share_ppm / 1000000)")
    with op.batch_alter_table("rooms") as batch:
        batch.drop_column("share_permille")
    with op.batch_alter_table("sites") as batch:
        batch.add_column(sa.Column("time_zone", sa.String(64), nullable=False, server_default="Asia/Jakarta"))
    with op.batch_alter_table("corrections") as batch:
        batch.alter_column("station_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    """Back to per-mille shares (rounded), without the over-limit flag and the sites' zones.

    Corrections made on the dashboard (no station) cannot be kept by the older schema: deleted.
    """
    op.execute("DELETE FROM corrections WHERE station_id IS NULL")
    with op.batch_alter_table("corrections") as batch:
        batch.alter_column("station_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("time_zone")
    with op.batch_alter_table("rooms") as batch:
        batch.add_column(sa.Column("share_permille", sa.Integer(), nullable=False, server_default="500"))
    op.execute("UPDATE rooms SET share_permille = (share_ppm + 500) / 1000")
    with op.batch_alter_table("rooms") as batch:
        batch.drop_column("over_limit")
        batch.drop_column("share_ppm")
