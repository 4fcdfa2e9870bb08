"""Schema version 3: stage visits kept by the write path; field values kept exactly.

The trigger on ``events`` goes:
Every change to projects and events now goes through one storage layer
(:mod:`bompao.storage.hotpath`), which writes the stage visit in the transaction that
appends the entry event; a row trigger per event cost more than the statements it
ran. The table, its rows and its meaning do not change.

On PostgreSQL ``projects.fields`` and ``events.payload`` become ``json`` (kept as
written) instead of ``jsonb``: ``jsonb`` stores numbers as ``numeric`` and gives a
large float such as ``3.389648377877039e+16`` back as the integer
``33896483778770390``, another number of another type. Nothing looks into them in SQL.

``ix_events_at`` goes: no query looks events up by time alone (a project's history
is read through ``(project_id, seq)``), and every appended event paid for it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

# Revision 0002's trigger, spelled out again for the downgrade (constant text).
_SQLITE_TRIGGER = """
CREATE TRIGGER tr_events_stage_visits AFTER INSERT ON events
WHEN NEW.to_stage IS NOT NULL AND NEW.kind IN ('created', 'advanced', 'migrated')
     AND (NEW.kind <> 'migrated' OR NEW.from_stage <> NEW.to_stage)
BEGIN
    UPDATE stage_visits
       SET left_at = NEW.at, days = julianday(NEW.at) - julianday(entered_at)
     WHERE project_id = NEW.project_id AND left_at IS NULL;
    INSERT INTO stage_visits (project_id, seq, journey_key, stage, entered_at)
    VALUES (NEW.project_id, NEW.seq,
            (SELECT journey_key FROM projects WHERE id = NEW.project_id),
            NEW.to_stage, NEW.at);
END
"""

_POSTGRES_FUNCTION = """
CREATE FUNCTION bompao_stage_visit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE stage_visits
       SET left_at = NEW.at, days = EXTRACT(EPOCH FROM NEW.at - entered_at) / 86400.0
     WHERE project_id = NEW.project_id AND left_at IS NULL;
    INSERT INTO stage_visits (project_id, seq, journey_key, stage, entered_at)
    VALUES (NEW.project_id, NEW.seq,
            (SELECT journey_key FROM projects WHERE id = NEW.project_id),
            NEW.to_stage, NEW.at);
    RETURN NULL;
END
$$
"""

_POSTGRES_TRIGGER = """
CREATE TRIGGER tr_events_stage_visits AFTER INSERT ON events
FOR EACH ROW WHEN (NEW.to_stage IS NOT NULL AND NEW.kind IN ('created', 'advanced', 'migrated')
                   AND (NEW.kind <> 'migrated' OR NEW.from_stage <> NEW.to_stage))
EXECUTE FUNCTION bompao_stage_visit()
"""

_DROP = {
    "sqlite": ("DROP TRIGGER IF EXISTS tr_events_stage_visits",),
    "postgresql": ("DROP TRIGGER IF EXISTS tr_events_stage_visits ON events",
                   "DROP FUNCTION IF EXISTS bompao_stage_visit()"),
}


_EXACT = (("projects", "fields"), ("events", "payload"))


def upgrade() -> None:
    """Drop the stage-visits trigger (and its PostgreSQL function); keep fields exactly."""
    dialect = op.get_bind().dialect.name
    for statement in _DROP[dialect]:
        op.execute(statement)
    op.drop_index("ix_events_at", table_name="events")
    if dialect == "postgresql":
        for table, column in _EXACT:
            op.alter_column(table, column, type_=sa.JSON(), existing_type=JSONB(),
                            postgresql_using=f"{column}::json", existing_nullable=False)


def downgrade() -> None:
    """Create the trigger of revision 0002 again; ``jsonb`` again on PostgreSQL."""
    op.create_index("ix_events_at", "events", ["at"])
    if op.get_bind().dialect.name == "postgresql":
        for table, column in _EXACT:
            op.alter_column(table, column, type_=JSONB(), existing_type=sa.JSON(),
                            postgresql_using=f"{column}::jsonb", existing_nullable=False)
        op.execute(_POSTGRES_FUNCTION)
        op.execute(_POSTGRES_TRIGGER)
    else:
        op.execute(_SQLITE_TRIGGER)
