"""User names are unique ignoring case, in the database (``ADM`` beside ``adm`` was refused in code only).

A database that already holds two names differing only in capitals is refused, naming them: one of
the two must be renamed or removed first (the upgrade cannot know which person is which).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 18:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

INDEX = "uq_users_username_lower"


def upgrade() -> None:
    """Add a unique index on ``lower(username)``, after checking no two names clash."""
    users = sa.table("users", sa.column("username", sa.String))
    names = op.get_bind().execute(sa.select(users.c.username).order_by(users.c.username)).scalars().all()
    by_lower: dict[str, list[str]] = {}
    for name in names:
        by_lower.setdefault(name.lower(), []).append(name)
    clashes = [group for group in by_lower.values() if len(group) > 1]
    if clashes:
        listed = "; ".join(", ".join(repr(name) for name in group) for group in clashes)
        raise RuntimeError(
            f"user names that differ only in capitals: {listed}. Rename or remove one of each "
            "(in the database) and upgrade again; user names are now unique ignoring case"
        )
    op.create_index(INDEX, "users", [sa.text("lower(username)")], unique=True)


def downgrade() -> None:
    """Drop the index."""
    op.drop_index(INDEX, table_name="users")
