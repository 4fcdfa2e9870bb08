"""Planning follow-ups: what a stage visit schedules, and the next run of a recurring one.

Due times come from the compiled journey (calendar months, business days, the
journey's timezone); this module turns them into ``follow_ups`` rows. Each row's
idempotency key is derived from (project, stage visit, follow-up, occurrence,
planning revision), so a delivery retried after a crash carries the same key and a
re-planned ``at:`` follow-up gets a new one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from bompao.definitions import CompiledFollowUp, CompiledJourney

__all__ = ["at_fields", "idempotency_key", "next_row", "plan_rows"]


def idempotency_key(project: int, visit: int, spec: str, occurrence: int, revision: int) -> str:
    """The key external deliveries carry: stable across retries of one occurrence."""
    return f"bompao-{project}-{visit}-{spec}-{occurrence}-{revision}"


def _row(follow_up: CompiledFollowUp, project: int, visit: int, occurrence: int,  # noqa: PLR0917
         due: datetime, revision: int, now: datetime) -> dict[str, Any]:
    return {"project_id": project, "stage": follow_up.stage, "visit": visit,
            "spec": follow_up.name, "occurrence": occurrence, "action": follow_up.action,
            "due_at": due, "idempotency_key": idempotency_key(
                project, visit, follow_up.name, occurrence, revision),
            "created_at": now}


def plan_rows(journey: CompiledJourney, stage: str, *, project: int, visit: int,
              entered_at: datetime, fields: Mapping[str, Any], revision: int, now: datetime,
              only: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The first occurrence of each of ``stage``'s follow-ups (those in ``only`` if given).

    ``at:`` follow-ups whose date field is empty plan nothing until it is set.
    """
    wanted = set(only) if only is not None else None
    rows = []
    for follow_up in journey.stages[stage].follow_ups:
        if wanted is not None and follow_up.name not in wanted:
            continue
        due = follow_up.due(entered_at, fields, 0, journey)
        if due is not None:
            rows.append(_row(follow_up, project, visit, 0, due, revision, now))
    return rows


def next_row(journey: CompiledJourney, follow_up: CompiledFollowUp, *, project: int,
             visit: int, occurrence: int, entered_at: datetime, fields: Mapping[str, Any],
             revision: int, now: datetime) -> dict[str, Any] | None:
    """The row of the occurrence after ``occurrence`` of a recurring follow-up, or None."""
    if not follow_up.recurring:
        return None
    due = follow_up.due(entered_at, fields, occurrence + 1, journey)
    if due is None:
        return None
    return _row(follow_up, project, visit, occurrence + 1, due, revision, now)


def at_fields(journey: CompiledJourney, stage: str) -> dict[str, list[str]]:
    """Date field → the ``at:`` follow-ups of ``stage`` that it schedules."""
    result: dict[str, list[str]] = {}
    for follow_up in journey.stages[stage].follow_ups:
        if follow_up.spec.at is not None:
            result.setdefault(follow_up.spec.at, []).append(follow_up.name)
    return result
