"""Users belong to sites: guards and supervisors see only theirs (and audit entries name their room).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``user_sites``; every guard and supervisor of an existing install keeps every site.

    An install that upgrades sees what it saw before; an admin then narrows each user down with
    ``gerbang dashboard user NAME --site SLUG``. Users made from now on start with no site.
    """
    op.create_table(
        "user_sites",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True),
    )
    op.execute(
        "INSERT INTO user_sites (user_id, site_id) "
        "SELECT users.id, sites.id FROM users CROSS JOIN sites WHERE users.role <> 'admin'"
    )
    # The room an audit entry is about: supervisors see their sites' entries only.
    op.add_column("audit_log", sa.Column("room_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Drop ``user_sites`` and ``audit_log.room_id``."""
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("room_id")
    op.drop_table("user_sites")
