"""Schema version 10: a stage visit lives in the event that ends it; no table of its own.

Profiled (``bench/engine.py``, plain sqlite3 doing an advance's writes), schema 9 made
every advance dirty about 5.7 pages against the minimal schema's 2–3: the
``stage_visits`` leaf of the visit closed and the one opened (its own b-tree, apart
from everything else the advance writes), and ``ix_projects_journey_key_stage``,
whose entry moves with every change of stage. Now:

- ``events.from_entered_at``: on an event entering a stage that ends a visit, when
  the project entered the stage it leaves (the previous entry's ``at``). The visit is
  then ``(from_stage, from_entered_at, at)`` of that event, written in the event's own
  row; the open visit is the project's ``stage`` and ``stage_entered_at``. The reports
  read completed visits from these events and entries from the log.
- ``stage_visits`` goes; its closed visits become the events' ``from_entered_at``,
  computed from the event log (as :mod:`bompao.storage.visits` does) — the log is
  what ``stage_visits`` was kept from, and ``bompao audit`` checked they agree.
- ``ix_projects_journey_key_stage`` becomes ``ix_projects_journey_key``: every report
  filters by journey key; none needs the stage in the index.

Downgrade rebuilds ``stage_visits`` from the log with its schema-9 shape.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None

_TIME = sa.DateTime(timezone=True)

# the entry events (as the write path and the audit define them), each with the time
# of the project's previous entry; then the dialect's "differs" and the rest
_ENTRIES = """
SELECT e.id, LAG(e.at) OVER (PARTITION BY e.project_id ORDER BY e.seq) AS entered
  FROM events e
 WHERE e.to_stage IS NOT NULL AND e.kind IN ('created', 'advanced', 'migrated')
   AND (e.kind <> 'migrated' OR e.from_stage """
_BACKFILL = "UPDATE events SET from_entered_at = x.entered FROM ("
_BACKFILL_END = ") AS x WHERE x.id = events.id AND x.entered IS NOT NULL"
_UPGRADE = {
    "sqlite": _BACKFILL + _ENTRIES + "IS NOT e.to_stage)" + _BACKFILL_END,
    "postgresql": _BACKFILL + _ENTRIES + "IS DISTINCT FROM e.to_stage)" + _BACKFILL_END,
}
_REBUILD = """
INSERT INTO stage_visits (project_id, seq, journey_key, stage, entered_at, left_at, days)
SELECT v.project_id, v.seq, p.journey_key, v.stage, v.entered_at, v.left_at, """
_VISITS = """
  FROM (SELECT e.project_id, e.seq, e.to_stage AS stage, e.at AS entered_at,
               LEAD(e.at) OVER (PARTITION BY e.project_id ORDER BY e.seq) AS left_at
          FROM events e
         WHERE e.to_stage IS NOT NULL AND e.kind IN ('created', 'advanced', 'migrated')
           AND (e.kind <> 'migrated' OR e.from_stage """
_JOIN = " e.to_stage)) v JOIN projects p ON p.id = v.project_id"
_DOWNGRADE = {
    "sqlite": _REBUILD + "julianday(v.left_at) - julianday(v.entered_at)" + _VISITS
    + "IS NOT" + _JOIN,
    "postgresql": _REBUILD + "EXTRACT(EPOCH FROM v.left_at - v.entered_at) / 86400.0"
    + _VISITS + "IS DISTINCT FROM" + _JOIN,
}


def upgrade() -> None:
    """Add and backfill ``events.from_entered_at``; drop ``stage_visits``; narrow the
    projects' journey index."""
    dialect = op.get_bind().dialect.name
    op.add_column("events", sa.Column("from_entered_at", _TIME, nullable=True))
    op.execute(_UPGRADE[dialect])
    op.drop_table("stage_visits")
    op.drop_index("ix_projects_journey_key_stage", table_name="projects")
    op.create_index("ix_projects_journey_key", "projects", ["journey_key"])


def downgrade() -> None:
    """Back to ``stage_visits`` (rebuilt from the log) and the (journey, stage) index."""
    dialect = op.get_bind().dialect.name
    op.drop_index("ix_projects_journey_key", table_name="projects")
    op.create_index("ix_projects_journey_key_stage", "projects", ["journey_key", "stage"])
    op.create_table(
        "stage_visits",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("journey_key", sa.String(), nullable=False),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("entered_at", _TIME, nullable=False),
        sa.Column("left_at", _TIME, nullable=True),
        sa.Column("days", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"],
                                name="fk_stage_visits_project_id_projects"),
        sa.PrimaryKeyConstraint("project_id", "seq", name="pk_stage_visits"),
        sqlite_with_rowid=False,
    )
    op.execute(_DOWNGRADE[dialect])
    if dialect == "sqlite":
        with op.batch_alter_table("events") as batch:
            batch.drop_column("from_entered_at")
    else:
        op.drop_column("events", "from_entered_at")
