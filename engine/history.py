"""Rebuild a project's state from its event log (``Engine.state_at``, audits, invariants)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

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


@dataclass(frozen=True)
class ProjectState:
    """What events say a project was at some moment."""

    id: int
    journey: str
    version: int
    name: str
    partner: str | None
    cohort: str | None
    stage: str
    visit: int
    stage_entered_at: datetime
    fields: dict[str, Any] = field(default_factory=dict)
    flags: tuple[str, ...] = ()
    assignments: dict[str, list[str]] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)
    approvals: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    seq: int = 0


def _apply(state: ProjectState, event: Event) -> ProjectState:
    p = event.payload
    kind = event.kind
    if kind == "fields_set":
        return replace(state, fields={**state.fields, **p["fields"]})
    if kind == "evidence_added":
        return replace(state, evidence={**state.evidence, p["name"]: {
            k: p.get(k) for k in ("url", "note")} | {"by": event.actor,
                                                    "at": event.at.isoformat()}})
    if kind == "approved":
        entries = [*state.approvals.get(p["role"], []),
                   {"by": p["by"], "at": event.at.isoformat()}]
        return replace(state, approvals={**state.approvals, p["role"]: entries})
    if kind == "assigned":
        people = [*state.assignments.get(p["role"], [])]
        if p["person"] not in people:
            people.append(p["person"])
        return replace(state, assignments={**state.assignments, p["role"]: people})
    if kind == "unassigned":
        people = [x for x in state.assignments.get(p["role"], []) if x != p["person"]]
        return replace(state, assignments={**state.assignments, p["role"]: people})
    if kind == "advanced":
        return replace(state, stage=str(event.to_stage), visit=state.visit + 1,
                       stage_entered_at=event.at, approvals={})
    if kind == "flagged":
        return replace(state, flags=tuple(sorted({*state.flags, p["flag"]})))
    if kind == "unflagged":
        return replace(state, flags=tuple(f for f in state.flags if f != p["flag"]))
    if kind == "migrated":
        stage = p.get("to_stage", state.stage)
        moved = stage != state.stage
        fields = dict(p["fields"]) if "fields" in p else {
            k: v for k, v in state.fields.items() if k not in p.get("dropped_fields", ())}
        return replace(state, version=int(p["to_version"]), stage=stage, fields=fields,
                       visit=state.visit + 1 if moved else state.visit,
                       stage_entered_at=event.at if moved else state.stage_entered_at,
                       approvals={} if moved else state.approvals)
    return state


def replay(events: Iterable[Event]) -> ProjectState | None:
    """Fold events (in ``seq`` order) into a state; None when there are none."""
    state: ProjectState | None = None
    for event in events:
        if event.kind == "created":
            p = event.payload
            entered = p.get("stage_entered_at")  # an imported project entered it earlier
            state = ProjectState(
                id=event.project, journey=p["journey"], version=int(p["version"]),
                name=p["name"], partner=p.get("partner"), cohort=p.get("cohort"),
                stage=str(event.to_stage), visit=1,
                stage_entered_at=datetime.fromisoformat(entered) if entered else event.at,
                fields=dict(p.get("fields", {})), flags=tuple(p.get("flags", ())),
                assignments={r: list(v) for r, v in p.get("assignments", {}).items()},
                evidence=dict(p.get("evidence", {})))
        elif state is not None:
            state = _apply(state, event)
        if state is not None:
            state = replace(state, seq=event.seq)
    return state
