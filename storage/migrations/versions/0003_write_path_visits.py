"""Stage visits kept by the write path (schema version 3): the trigger on ``events`` goes.

Every change to projects and events now goes through one storage layer
(:mod:`bompao.storage.hotpath`), which writes the stage visit in the transaction that
appends the entry event; a row trigger per event cost more than the statements it
ran. The table, its rows and its meaning do not change.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

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


def upgrade() -> None:
    """Drop the stage-visits trigger (and its PostgreSQL function)."""
    for statement in _DROP[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade() -> None:
    """Create the trigger of revision 0002 again."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_POSTGRES_FUNCTION)
        op.execute(_POSTGRES_TRIGGER)
    else:
        op.execute(_SQLITE_TRIGGER)
