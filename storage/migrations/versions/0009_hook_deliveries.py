"""Applications received by the public form and inbound webhooks (schema version 9).

``application_receipts`` holds, per application that came in through ``/apply/KEY`` or
``/hooks/NAME``, the reference the applicant follows it with and, for a webhook, its
delivery id: the unique ``(source, delivery_id)`` makes a replayed delivery, even two
arriving at once, create one project.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create ``application_receipts``."""
    op.create_table(
        "application_receipts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("reference", sa.String(64), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("journey_key", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("delivery_id", sa.String(200), nullable=True),
        sa.Column("received_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"],
                                name="fk_application_receipts_project_id_projects"),
        sa.PrimaryKeyConstraint("id", name="pk_application_receipts"),
        sa.UniqueConstraint("reference", name="uq_application_receipts_reference"),
        sa.UniqueConstraint("project_id", name="uq_application_receipts_project_id"),
        sa.UniqueConstraint("source", "delivery_id", name="uq_application_receipts_delivery"),
    )


def downgrade() -> None:
    """Drop ``application_receipts``."""
    op.drop_table("application_receipts")
