"""The initial bompao schema (schema version 1).

Written out explicitly rather than generated from ``tables.py`` at run time, so this
revision keeps creating the same tables when ``tables.py`` moves on.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")
_TIME = sa.DateTime(timezone=True)
_PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    """Create every bompao table."""
    op.create_table(
        "bompao_meta",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_bompao_meta"),
    )
    op.create_table(
        "journeys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("partner", sa.String(), nullable=True),
        sa.Column("title", _JSON, nullable=False),
        sa.Column("extends", sa.String(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("published_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_journeys"),
        sa.UniqueConstraint("key", "version", name="uq_journeys_key_version"),
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("journey_key", sa.String(), nullable=False),
        sa.Column("journey_version", sa.Integer(), nullable=False),
        sa.Column("partner", sa.String(), nullable=True),
        sa.Column("cohort", sa.String(), nullable=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("visit", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("fields", _JSON, nullable=False),
        sa.Column("flags", _JSON, nullable=False),
        sa.Column("assignments", _JSON, nullable=False),
        sa.Column("evidence", _JSON, nullable=False),
        sa.Column("approvals", _JSON, nullable=False),
        sa.Column("lock_version", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("stage_entered_at", _TIME, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_projects"),
    )
    op.create_index("ix_projects_partner", "projects", ["partner"])
    op.create_index("ix_projects_cohort", "projects", ["cohort"])
    op.create_index("ix_projects_journey_key_stage", "projects", ["journey_key", "stage"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("actor", sa.String(), nullable=True),
        sa.Column("role", sa.String(), nullable=True),
        sa.Column("from_stage", sa.String(), nullable=True),
        sa.Column("to_stage", sa.String(), nullable=True),
        sa.Column("trigger", sa.String(), nullable=True),
        sa.Column("payload", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name="fk_events_project_id_projects"
        ),
    )
    op.create_index("ix_events_project_id_seq", "events", ["project_id", "seq"], unique=True)
    op.create_index("ix_events_at", "events", ["at"])
    op.create_table(
        "follow_ups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("visit", sa.Integer(), nullable=False),
        sa.Column("spec", sa.String(), nullable=False),
        sa.Column("occurrence", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("due_at", _TIME, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("lease_owner", sa.String(), nullable=True),
        sa.Column("lease_until", _TIME, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("finished_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_follow_ups"),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name="fk_follow_ups_project_id_projects"
        ),
        sa.UniqueConstraint("idempotency_key", name="uq_follow_ups_idempotency_key"),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'done', 'failed', 'cancelled')",
            name="ck_follow_ups_status",
        ),
    )
    op.create_index(
        "ix_follow_ups_due_pending", "follow_ups", ["due_at"],
        sqlite_where=_PENDING, postgresql_where=_PENDING,
    )
    op.create_index("ix_follow_ups_project_id_status", "follow_ups", ["project_id", "status"])
    op.create_index(
        "ix_follow_ups_lease_running", "follow_ups", ["lease_until"],
        sqlite_where=sa.text("status = 'running'"),
        postgresql_where=sa.text("status = 'running'"),
    )
    op.create_table(
        "daemons",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(), nullable=False),
        sa.Column("started_at", _TIME, nullable=False),
        sa.Column("heartbeat_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_daemons"),
    )


def downgrade() -> None:
    """Drop every bompao table."""
    for table in ("daemons", "follow_ups", "events", "projects", "journeys", "bompao_meta"):
        op.drop_table(table)
