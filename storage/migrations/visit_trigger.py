"""The stage-visits trigger of schema version 2, shared by the migrations that create
it (0002) and drop it again (0003, which recreates it on downgrade).

Constant SQL text per dialect, nothing formatted in. Frozen: a later schema that needs
another trigger gets a new constant, not an edit of these.
"""

from __future__ import annotations

__all__ = ["DROP", "POSTGRES_FUNCTION", "POSTGRES_TRIGGER", "SQLITE_TRIGGER"]

SQLITE_TRIGGER = """
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

POSTGRES_FUNCTION = """
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

POSTGRES_TRIGGER = """
CREATE TRIGGER tr_events_stage_visits AFTER INSERT ON events
FOR EACH ROW WHEN (NEW.to_stage IS NOT NULL AND NEW.kind IN ('created', 'advanced', 'migrated')
                   AND (NEW.kind <> 'migrated' OR NEW.from_stage <> NEW.to_stage))
EXECUTE FUNCTION bompao_stage_visit()
"""

DROP = {
    "sqlite": ("DROP TRIGGER IF EXISTS tr_events_stage_visits",),
    "postgresql": ("DROP TRIGGER IF EXISTS tr_events_stage_visits ON events",
                   "DROP FUNCTION IF EXISTS bompao_stage_visit()"),
}
