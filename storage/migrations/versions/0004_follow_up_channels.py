"""Per-channel outcomes of notify follow-ups (schema version 4).

``follow_ups.channels`` maps each channel a notify follow-up goes through (``log``,
``email``, ``webhook:NAME``) to its outcome (``done`` or ``failed: REASON``), so that
a retried follow-up resends only the channels that failed. NULL for other actions.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    """Add ``follow_ups.channels``."""
    with op.batch_alter_table("follow_ups") as batch:
        batch.add_column(sa.Column("channels", _JSON, nullable=True))


def downgrade() -> None:
    """Drop ``follow_ups.channels``."""
    with op.batch_alter_table("follow_ups") as batch:
        batch.drop_column("channels")
