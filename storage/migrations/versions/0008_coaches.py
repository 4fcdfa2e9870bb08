"""Coaches: names, skills (coaching topics) and capacity, for ``bompao coaches``.

Schema version 8, after 0007 (calendar feed tokens).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create ``coaches``."""
    op.create_table(
        "coaches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("name_key", sa.String(), nullable=False),
        sa.Column("skills", _JSON, nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_coaches"),
        sa.UniqueConstraint("name_key", name="uq_coaches_name_key"),
    )


def downgrade() -> None:
    """Drop ``coaches``."""
    op.drop_table("coaches")
