"""Stage visits (schema version 2): one row per stage entry, kept by a trigger on ``events``.

The time-in-stage and funnel reports read this table instead of pairing entry events
with window functions over the whole event log. A database trigger maintains it, so
every writer — the engine, the dispatcher, imports, an operator's bulk load — keeps it
exact without knowing it exists: an entry event (``created``, ``advanced``, or a
``migrated`` that changes the stage) closes the project's open visit (``left_at``,
``days``) and opens a new one. Existing histories are backfilled from the events.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bompao.storage.migrations import visit_trigger

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


_BACKFILL = {
    "sqlite": """
INSERT INTO stage_visits (project_id, seq, journey_key, stage, entered_at, left_at, days)
SELECT v.project_id, v.seq, p.journey_key, v.stage, v.entered_at, v.left_at,
       julianday(v.left_at) - julianday(v.entered_at)
  FROM (SELECT e.project_id, e.seq, e.to_stage AS stage, e.at AS entered_at,
               LEAD(e.at) OVER (PARTITION BY e.project_id ORDER BY e.seq) AS left_at
          FROM events e
         WHERE e.to_stage IS NOT NULL AND e.kind IN ('created', 'advanced', 'migrated')
           AND (e.kind <> 'migrated' OR e.from_stage <> e.to_stage)) v
  JOIN projects p ON p.id = v.project_id
""",
    "postgresql": """
INSERT INTO stage_visits (project_id, seq, journey_key, stage, entered_at, left_at, days)
SELECT v.project_id, v.seq, p.journey_key, v.stage, v.entered_at, v.left_at,
       EXTRACT(EPOCH FROM v.left_at - v.entered_at) / 86400.0
  FROM (SELECT e.project_id, e.seq, e.to_stage AS stage, e.at AS entered_at,
               LEAD(e.at) OVER (PARTITION BY e.project_id ORDER BY e.seq) AS left_at
          FROM events e
         WHERE e.to_stage IS NOT NULL AND e.kind IN ('created', 'advanced', 'migrated')
           AND (e.kind <> 'migrated' OR e.from_stage <> e.to_stage)) v
  JOIN projects p ON p.id = v.project_id
""",
}


def upgrade() -> None:
    """Create ``stage_visits``, its trigger, and backfill it from the event log."""
    op.create_table(
        "stage_visits",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("journey_key", sa.String(), nullable=False),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("days", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("project_id", "seq", name="pk_stage_visits"),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name="fk_stage_visits_project_id_projects"
        ),
    )
    op.create_index("ix_stage_visits_journey_key_stage_days", "stage_visits",
                    ["journey_key", "stage", "days"])
    op.create_index("ix_stage_visits_journey_key_stage_project_id", "stage_visits",
                    ["journey_key", "stage", "project_id", "entered_at"])
    dialect = op.get_bind().dialect.name
    op.execute(_BACKFILL[dialect])
    if dialect == "postgresql":
        op.execute(visit_trigger.POSTGRES_FUNCTION)
        op.execute(visit_trigger.POSTGRES_TRIGGER)
    else:
        op.execute(visit_trigger.SQLITE_TRIGGER)


def downgrade() -> None:
    """Drop the trigger and ``stage_visits``."""
    for statement in visit_trigger.DROP[op.get_bind().dialect.name]:
        op.execute(statement)
    op.drop_table("stage_visits")
