"""The review form on the project page: a reviewer assigned in the journey's scoring
role scores the project on its rubric while it is in the scoring stage (the engine's
``score`` decides who may: the assignment, the declared conflicts, the stage)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bompao.definitions import CompiledJourney
from bompao.definitions.texts import pick
from bompao.engine.actor import person_key
from bompao.engine.selection import scoring_stage
from bompao.storage.records import Project

__all__ = ["SCORE_PREFIX", "review_view"]

SCORE_PREFIX = "score."
"""Form inputs ``score.CRITERION`` carry the scores."""


def review_view(journey: CompiledJourney, project: Project, events: Iterable[Any],
                person: str, lang: str) -> dict[str, Any] | None:
    """The rubric and ``person``'s own last scores, or ``None`` when the page shows no
    review form (no scoring, another stage, ``person`` not assigned to review)."""
    spec = journey.doc.scoring
    if spec is None or project.stage != scoring_stage(journey):
        return None
    me = person_key(person)
    if not any(person_key(p) == me for p in project.assignments.get(spec.role, [])):
        return None
    mine: dict[str, int] = {}
    note = ""
    for event in events:
        if event.kind == "scored" and person_key(str(event.payload.get("reviewer"))) == me:
            mine = dict(event.payload.get("scores") or {})
            note = str(event.payload.get("note") or "")
    return {"role": spec.role, "note": note, "scored": bool(mine),
            "criteria": [{"name": name, "title": pick(c.title, lang, name),
                          "description": pick(c.description, lang, "") if c.description
                          else "", "weight": f"{c.weight:g}",
                          "scale": list(range(c.scale.low, c.scale.high + 1)),
                          "current": mine.get(name)}
                         for name, c in spec.rubric.items()]}
