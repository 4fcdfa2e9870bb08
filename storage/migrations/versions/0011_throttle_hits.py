"""The sign-in's and the application form's throttles, shared (schema version 11).

``throttle_hits`` holds one row per counted attempt (a failed sign-in, an application
posted) under its ``SCOPE:KEY``, so that every worker process and every machine of one
install counts the same attempts; rows older than their throttle's window are deleted
as new ones come.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create ``throttle_hits``."""
    op.create_table(
        "throttle_hits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_throttle_hits"),
    )
    op.create_index("ix_throttle_hits_key_at", "throttle_hits", ["key", "at"])


def downgrade() -> None:
    """Drop ``throttle_hits``."""
    op.drop_index("ix_throttle_hits_key_at", table_name="throttle_hits")
    op.drop_table("throttle_hits")
