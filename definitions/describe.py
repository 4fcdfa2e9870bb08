"""Plain, JSON-ready descriptions of compiled journeys for listings and ``journeys show``."""

from __future__ import annotations

from typing import Any

from bompao.definitions.compiled import CompiledCriterion, CompiledJourney
from bompao.definitions.model import CalendarSpec
from bompao.definitions.texts import pick

__all__ = ["calendar_data", "describe", "describe_criterion", "summary"]


def summary(journey: CompiledJourney, lang: str = "en") -> dict[str, Any]:
    """One row of ``bompao journeys list``."""
    return {
        "journey": journey.key,
        "version": journey.version,
        "title": journey.label(lang),
        "partner": journey.partner,
        "extends": journey.doc.extends,
        "stages": len(journey.stages),
        "transitions": len(journey.transitions),
        "file": journey.file,
    }


def describe_criterion(criterion: CompiledCriterion, lang: str = "en") -> dict[str, Any]:
    """A criterion as a nested mapping."""
    result: dict[str, Any] = {"kind": criterion.kind, "says": pick(criterion.says, lang)}
    if criterion.children:
        result["criteria"] = [describe_criterion(c, lang) for c in criterion.children]
    if criterion.expr is not None:
        result["expr"] = criterion.expr
    if criterion.evidence is not None:
        result["evidence"] = criterion.evidence
    if criterion.role is not None:
        result["role"], result["count"] = criterion.role, criterion.count
    if criterion.duration is not None:
        result["duration"] = str(criterion.duration)
    return result


def describe(journey: CompiledJourney, lang: str = "en") -> dict[str, Any]:
    """Everything ``bompao journeys show`` prints."""
    doc = journey.doc
    return {
        **summary(journey, lang),
        "description": pick(doc.description, lang) or None,
        "timezone": journey.timezone,
        "calendar": calendar_data(journey.calendar),
        "roles": journey.roles,
        "fields": {name: {"type": spec.type, "default": spec.default,
                          "title": pick(spec.title, lang, name)}
                   for name, spec in doc.fields.items()},
        "evidence": {name: pick(spec.title, lang, name) for name, spec in doc.evidence.items()},
        "stages": [
            {"stage": name, "title": stage.label(lang), "initial": stage.initial,
             "final": stage.final,
             "expected_duration": str(stage.expected_duration)
             if stage.expected_duration else None,
             "triggers": journey.triggers(name),
             "follow_ups": [_follow_up(f.name, f.spec) for f in stage.follow_ups]}
            for name, stage in journey.stages.items()],
        "transitions": [
            {"trigger": t.trigger, "from": list(t.sources), "to": t.dest,
             "title": pick(t.title, lang, t.trigger),
             "roles": sorted(t.roles) if t.roles is not None else None,
             "override_roles": sorted(t.override_roles),
             "gate": describe_criterion(t.gate, lang) if t.gate else None,
             "branches": [{"to": b.dest, "gate": describe_criterion(b.gate, lang)
                           if b.gate else None} for b in t.branches]}
            for t in journey.transitions],
    }


def calendar_data(calendar: str | CalendarSpec | None) -> str | dict[str, Any] | None:
    """A journey's ``calendar`` as JSON: the country code, ``None``, or the long form as
    a mapping (dates as ISO 8601 text), the way the journey file writes it."""
    if isinstance(calendar, CalendarSpec):
        data: dict[str, Any] = calendar.model_dump(mode="json", exclude_none=True)
        return data
    return calendar


def _follow_up(name: str, spec: Any) -> dict[str, Any]:
    when = (f"after {spec.after}" if spec.after else "") + (
        f", then every {spec.every}" if spec.after and spec.every else
        f"every {spec.every}" if spec.every else "") + (f"at {spec.at}" if spec.at else "")
    result: dict[str, Any] = {"id": name, "when": when, "action": spec.action,
                              "after": str(spec.after) if spec.after else None,
                              "every": str(spec.every) if spec.every else None,
                              "at": str(spec.at) if spec.at else None}
    for key in ("to", "flag", "trigger", "endpoint"):
        value = getattr(spec, key)
        if value:
            result[key] = value
    return result
