"""Rebuild a project's state from its event log (``Engine.state_at``, audits, invariants).

The state is the stored project's own record (:class:`~bompao.storage.records.Project`):
its lock version is the seq of the last event, ``updated_at`` that event's time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bompao.storage.records import Project

__all__ = ["Event", "ProjectState", "replay"]


@dataclass(frozen=True)
class Event:
    """One entry of a project's history."""

    project: int
    seq: int
    kind: str
    at: datetime
    actor: str | None
    role: str | None
    from_stage: str | None
    to_stage: str | None
    trigger: str | None
    payload: Mapping[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {"project": self.project, "seq": self.seq, "kind": self.kind,
                "at": self.at.isoformat(), "actor": self.actor, "role": self.role,
                "from": self.from_stage, "to": self.to_stage, "trigger": self.trigger,
                "payload": dict(self.payload)}


ProjectState = Project
"""What events say a project was at some moment: the same record as a stored project."""


def _apply(state: Project, event: Event) -> Project:
    p = event.payload
    kind = event.kind
    if kind == "fields_set":
        return state._replace(fields={**state.fields, **p["fields"]})
    if kind == "evidence_added":
        return state._replace(evidence={**state.evidence, p["name"]: {
            k: p.get(k) for k in ("url", "note")} | {"by": event.actor,
                                                    "at": event.at.isoformat()}})
    if kind == "approved":
        entries = [*state.approvals.get(p["role"], []),
                   {"by": p["by"], "at": event.at.isoformat()}]
        return state._replace(approvals={**state.approvals, p["role"]: entries})
    if kind == "assigned":
        people = [*state.assignments.get(p["role"], [])]
        if p["person"] not in people:
            people.append(p["person"])
        return state._replace(assignments={**state.assignments, p["role"]: people})
    if kind == "unassigned":
        people = [x for x in state.assignments.get(p["role"], []) if x != p["person"]]
        return state._replace(assignments={**state.assignments, p["role"]: people})
    if kind == "advanced":
        return state._replace(stage=str(event.to_stage), visit=state.visit + 1,
                       stage_entered_at=event.at, approvals={})
    if kind == "flagged":
        return state._replace(flags=sorted({*state.flags, p["flag"]}))
    if kind == "unflagged":
        return state._replace(flags=[f for f in state.flags if f != p["flag"]])
    if kind == "measured" and "unflagged" in p:  # a value that ends an at-risk flag
        return state._replace(flags=[f for f in state.flags if f != p["unflagged"]])
    if kind == "migrated":
        stage = p.get("to_stage", state.stage)
        moved = stage != state.stage
        fields = dict(p["fields"]) if "fields" in p else {
            k: v for k, v in state.fields.items() if k not in p.get("dropped_fields", ())}
        return state._replace(journey_version=int(p["to_version"]), stage=stage, fields=fields,
                       visit=state.visit + 1 if moved else state.visit,
                       stage_entered_at=event.at if moved else state.stage_entered_at,
                       approvals={} if moved else state.approvals)
    return state


def replay(events: Iterable[Event]) -> Project | None:
    """Fold events (in ``seq`` order) into a state; None when there are none."""
    state: Project | None = None
    for event in events:
        if event.kind == "created":
            p = event.payload
            entered = p.get("stage_entered_at")  # an imported project entered it earlier
            created = p.get("created_at")
            created_at = datetime.fromisoformat(created) if created else event.at
            state = Project(
                id=event.project, journey_key=p["journey"], journey_version=int(p["version"]),
                partner=p.get("partner"), cohort=p.get("cohort"), name=p["name"],
                stage=str(event.to_stage), visit=1, fields=dict(p.get("fields", {})),
                flags=list(p.get("flags", ())),
                assignments={r: list(v) for r, v in p.get("assignments", {}).items()},
                evidence=dict(p.get("evidence", {})), approvals={}, lock_version=event.seq,
                stage_entered_at=datetime.fromisoformat(entered) if entered else event.at,
                created_at=created_at, updated_at=created_at)
        elif state is not None:
            state = _apply(state, event)._replace(lock_version=event.seq,
                                                  updated_at=event.at)
    return state
