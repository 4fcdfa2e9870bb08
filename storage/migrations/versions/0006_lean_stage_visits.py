"""Schema version 6: stage visits cost an advance one b-tree, not four.

Every advance closes one stage visit and opens the next. With a rowid table, its
primary-key index and two secondary indexes, that touched four b-trees (often
eight pages) in the advance's transaction, most of what bompao's own schema cost over
a minimal one. Now:

- on SQLite ``stage_visits`` is a ``WITHOUT ROWID`` table: the rows live in the
  primary key ``(project_id, seq)``, so a project's closing visit and its new one sit
  side by side in one leaf page;
- ``ix_stage_visits_journey_key_stage_days`` and
  ``ix_stage_visits_journey_key_stage_project_id`` go (both dialects): the reports
  read a journey's visits in one pass of the table (``bench/reports.py`` measures it
  at 100,000 projects), so every advance paid for indexes that saved them little.

The rows and their meaning do not change.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

_INDEXES = {
    "ix_stage_visits_journey_key_stage_days": ["journey_key", "stage", "days"],
    "ix_stage_visits_journey_key_stage_project_id": ["journey_key", "stage", "project_id",
                                                     "entered_at"],
}


def upgrade() -> None:
    """Drop the two secondary indexes; on SQLite rebuild the table without a rowid."""
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("stage_visits", recreate="always",
                                  table_kwargs={"sqlite_with_rowid": False}) as batch:
            for name in _INDEXES:
                batch.drop_index(name)
        return
    for name in _INDEXES:
        op.drop_index(name, table_name="stage_visits")


def downgrade() -> None:
    """Back to a rowid table with both secondary indexes."""
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("stage_visits", recreate="always",
                                  table_kwargs={"sqlite_with_rowid": True}) as batch:
            for name, columns in _INDEXES.items():
                batch.create_index(name, columns)
        return
    for name, columns in _INDEXES.items():
        op.create_index(name, "stage_visits", columns)
