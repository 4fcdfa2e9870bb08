"""Coaching: coaches with skills and capacity, an optimal match of projects to coaches,
and the sessions that happened.

The match is an assignment problem solved by SciPy's ``linear_sum_assignment`` over
capacity-expanded coach slots: a coach with ``c`` free places is ``c`` columns, slot
``k`` of it costing ``k`` plus the coach's current load (so load spreads), each project
a row. A pair's weight is ``M·covered − slot cost`` where ``covered`` is how many of the
project's needs the coach's skills cover and ``M`` exceeds every slot cost, so the
solution first covers as many needs as any assignment can and then, among those, loads
coaches as evenly as it can. Pairs that cover nothing are never proposed.

Sessions are ``coached`` events: ``{coach, on, minutes, notes}``; CEL sees
``sessions.count`` and ``sessions.minutes``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bompao.definitions.compiled import CompiledJourney
from bompao.definitions.intake import CoachingSpec
from bompao.definitions.messages import Message
from bompao.engine.actor import Actor, clean_name, person_key
from bompao.errors import ConflictError, InvalidValue, NotFound

__all__ = [
    "Coach",
    "add_coach",
    "coach_hours",
    "edit_coach",
    "list_coaches",
    "log_session",
    "match",
    "plan_match",
    "remove_coach",
    "session_totals",
]

_SKILL = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")


@dataclass(frozen=True, slots=True)
class Coach:
    """A coach: name, skills (coaching topics) and capacity (projects at once)."""

    name: str
    skills: tuple[str, ...]
    capacity: int

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {"name": self.name, "skills": list(self.skills), "capacity": self.capacity}


def _coach(row: Any) -> Coach:
    return Coach(row.name, tuple(row.skills or ()), int(row.capacity))


def add_coach(engine: Any, name: str, skills: Sequence[str], capacity: int) -> Coach:
    """Add a coach.

    Raises:
        InvalidValue: an empty name, a skill that is not a topic name, a capacity
            outside 1 to 1000.
        ConflictError: a coach of that name exists.
    """
    from bompao.storage.coaches import get_coach, insert_coach  # noqa: PLC0415

    if not name or not clean_name(name) or len(name) > 200 or "\x00" in name:
        raise InvalidValue(Message("coach.bad_name"))
    name = clean_name(name)
    cleaned = _skills(skills)
    _capacity(capacity)
    with engine.db.begin() as conn:
        if get_coach(conn, person_key(name)) is not None:
            raise ConflictError(Message("coach.exists", name=name))
        insert_coach(conn, {"name": name, "name_key": person_key(name), "skills": cleaned,
                            "capacity": capacity, "created_at": engine.now()})
    return Coach(name, tuple(cleaned), capacity)


def list_coaches(engine: Any) -> list[Coach]:
    """Every coach, by name."""
    from bompao.storage.coaches import list_coaches as rows  # noqa: PLC0415

    with engine.db.begin(write=False) as conn:
        return [_coach(row) for row in rows(conn)]


def _skills(skills: Sequence[str]) -> list[str]:
    cleaned = list(dict.fromkeys(s.strip() for s in skills if s.strip()))
    for skill in cleaned:
        if not _SKILL.match(skill):
            raise InvalidValue(Message("coach.bad_skill", skill=skill))
    return cleaned


def _capacity(capacity: int) -> int:
    if isinstance(capacity, bool) or not 1 <= capacity <= 1000:
        raise InvalidValue(Message("coach.bad_capacity", capacity=capacity))
    return capacity


def edit_coach(engine: Any, name: str, *, skills: Sequence[str] | None = None,
               capacity: int | None = None) -> Coach:
    """Change a coach's skills (the whole list) and/or capacity.

    A capacity below the coach's current load is allowed (the match then proposes
    them for nothing new); assignments already made stay.

    Raises:
        InvalidValue: neither skills nor capacity given, a skill that is not a topic
            name, a capacity outside 1 to 1000.
        NotFound: no coach of that name.
    """
    from bompao.storage.coaches import get_coach, update_coach  # noqa: PLC0415

    if skills is None and capacity is None:
        raise InvalidValue(Message("coach.nothing_to_change"))
    values: dict[str, Any] = {}
    if skills is not None:
        values["skills"] = _skills(skills)
    if capacity is not None:
        values["capacity"] = _capacity(capacity)
    with engine.db.begin() as conn:
        if not update_coach(conn, person_key(name), values):
            raise NotFound(_unknown(engine, name))
        row = get_coach(conn, person_key(name))
    return _coach(row)


def remove_coach(engine: Any, name: str) -> tuple[Coach, list[int]]:
    """Remove a coach, so matching no longer proposes them.

    Their assignments to projects stay (the history keeps who coached whom); the ids of
    the projects they are still assigned to, in a stage that is not final, come back so
    a caller can say so.

    Returns:
        The removed coach and the ids of those projects.

    Raises:
        NotFound: no coach of that name.
    """
    from bompao.storage.coaches import delete_coach, get_coach  # noqa: PLC0415

    with engine.db.begin() as conn:
        row = get_coach(conn, person_key(name))
        if row is None or not delete_coach(conn, person_key(name)):
            raise NotFound(_unknown(engine, name))
    coach, key = _coach(row), person_key(name)
    still = []
    for project in engine.list_projects():
        stage = engine.journey(project.journey_key, project.journey_version).stages.get(
            project.stage)
        if stage is not None and stage.final:
            continue
        if any(person_key(p) == key for people in project.assignments.values() for p in people):
            still.append(project.id)
    return coach, sorted(still)


def _unknown(engine: Any, name: str) -> Message:
    known = ", ".join(c.name for c in list_coaches(engine)) or Message("none")
    return Message("coach.unknown", name=name, known=known)


def _find(engine: Any, name: str) -> Coach:
    from bompao.storage.coaches import get_coach  # noqa: PLC0415

    with engine.db.begin(write=False) as conn:
        row = get_coach(conn, person_key(name))
    if row is None:
        raise NotFound(_unknown(engine, name))
    return _coach(row)


def _coaching(compiled: CompiledJourney) -> CoachingSpec:
    if compiled.doc.coaching is None:
        raise InvalidValue(Message("coach.no_coaching", ref=compiled.ref))
    return compiled.doc.coaching


def _needs(spec: CoachingSpec, fields: Mapping[str, Any]) -> list[str]:
    value = fields.get(spec.needs) or []
    items = [value] if isinstance(value, str) else list(value)
    return list(dict.fromkeys(str(v).strip() for v in items if str(v).strip()))


def plan_match(needs: Sequence[Sequence[str]], skills: Sequence[Sequence[str]],
               free: Sequence[int], load: Sequence[int] | None = None
               ) -> list[int | None]:
    """The optimal assignment: for each project (its needs) the index of its coach, or
    None. Coach ``j`` takes at most ``free[j]`` projects; see the module's objective.
    """
    import numpy as np  # noqa: PLC0415
    from scipy.optimize import linear_sum_assignment  # type: ignore[import-untyped]  # noqa: PLC0415

    load = list(load) if load is not None else [0] * len(skills)
    slot_coach = [j for j, count in enumerate(free) for _ in range(max(0, count))]
    slot_cost = [load[j] + k for j, count in enumerate(free) for k in range(max(0, count))]
    if not needs or not slot_coach:
        return [None] * len(needs)
    topics = sorted({t for n in needs for t in n} | {t for s in skills for t in s})
    index = {t: i for i, t in enumerate(topics)}
    need = np.zeros((len(needs), len(topics)))
    for i, items in enumerate(needs):
        need[i, [index[t] for t in items]] = 1
    skill = np.zeros((len(skills), len(topics)))
    for j, items in enumerate(skills):
        skill[j, [index[t] for t in items]] = 1
    covered = (need @ skill.T)[:, slot_coach]  # projects x slots
    big = float(max(slot_cost) + 1)
    weights = np.where(covered > 0, big * covered - np.asarray(slot_cost, dtype=float), 0.0)
    rows, cols = linear_sum_assignment(weights, maximize=True)
    result: list[int | None] = [None] * len(needs)
    for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
        if covered[row, col] > 0:
            result[row] = slot_coach[col]
    return result


def match(engine: Any, journey: str, cohort: str | None, *, apply: bool = False,
          actor: Actor | None = None) -> dict[str, Any]:
    """Propose (and with ``apply`` assign, in one transaction) a coach for every project
    of the cohort that needs coaching and has none yet.

    Returns:
        ``{"assignments": [{id, name, needs, coach, covers}], "unmatched": [...],
        "covered": N, "needed": N, "applied": bool}``.

    Raises:
        InvalidValue: the journey declares no coaching.
        NotFound: there are no coaches.
    """
    from bompao.engine.engine import _Change  # noqa: PLC0415

    compiled = engine.journey(journey)
    spec = _coaching(compiled)
    coaches = list_coaches(engine)
    if not coaches:
        raise NotFound(Message("coach.none"))
    finals = {name for name, stage in compiled.stages.items() if stage.final}
    during = set(spec.during) if spec.during is not None else None
    everyone = engine.list_projects(journey=compiled.key, actor=actor)
    load = {person_key(c.name): 0 for c in coaches}
    for project in everyone:
        if project.stage in finals:
            continue
        for person in project.assignments.get(spec.role, []):
            if person_key(person) in load:
                load[person_key(person)] += 1
    wanting = [p for p in sorted(everyone, key=lambda p: p.id)
               if (cohort is None or p.cohort == cohort) and p.stage not in finals
               and (during is None or p.stage in during)
               and not p.assignments.get(spec.role) and _needs(spec, p.fields)]
    needs = [_needs(spec, p.fields) for p in wanting]
    loads = [load[person_key(c.name)] for c in coaches]
    free = [max(0, c.capacity - n) for c, n in zip(coaches, loads, strict=True)]
    chosen = plan_match(needs, [c.skills for c in coaches], free, loads)
    proposed, unmatched = [], []
    for project, wanted, pick in zip(wanting, needs, chosen, strict=True):
        if pick is None:
            unmatched.append({"id": project.id, "name": project.name, "needs": wanted})
            continue
        coach = coaches[pick]
        proposed.append({"id": project.id, "name": project.name, "needs": wanted,
                         "coach": coach.name,
                         "covers": [t for t in wanted if t in coach.skills]})
    result = {"assignments": proposed, "unmatched": unmatched,
              "covered": sum(len(p["covers"]) for p in proposed),
              "needed": sum(len(n) for n in needs), "applied": False}
    if not apply or not proposed:
        return result
    now = engine.now()
    written = []
    with engine.hot.transaction() as cursor:
        for item in proposed:
            row = engine._hot_row(cursor, item["id"], actor)
            if row.assignments.get(spec.role):
                raise ConflictError(Message("conflict.changed", id=row.id))
            change = _Change({"assignments": {**row.assignments, spec.role: [item["coach"]]}},
                             {"kind": "assigned", "actor": actor.name if actor else None,
                              "role": spec.role,
                              "payload": {"role": spec.role, "person": item["coach"],
                                          "matched": item["covers"]}})
            written.append(engine._write(cursor, row, change, now))
    for row in written:
        engine._emit("changed", project=row, kind="assigned", actor=actor)
    result["applied"] = True
    return result


def log_session(engine: Any, project_id: int, coach: str, on: str | date, minutes: int, *,
                notes: str | None = None, actor: Actor | None = None) -> Any:
    """Record a coaching session as a ``coached`` event.

    Raises:
        NotFound: no such project or coach.
        InvalidValue: the journey declares no coaching; a bad date (or one after
            today in the journey's timezone); minutes outside 1 to 1440; notes too long.
    """
    from bompao.engine.engine import _Change  # noqa: PLC0415

    engine.get(project_id, actor)  # not found (or another partner's) before anything
    if isinstance(minutes, bool) or not 1 <= minutes <= 1440:
        raise InvalidValue(Message("coach.bad_minutes", minutes=minutes))
    if notes is not None and (len(notes) > 4000 or "\x00" in notes):
        raise InvalidValue(Message("intake.bad_note"))
    if isinstance(on, str):
        try:
            day = date.fromisoformat(on.strip())
        except ValueError:
            raise InvalidValue(Message("coach.bad_date", on=on)) from None
    else:
        day = on
    found = _find(engine, coach)

    def build(row: Any, compiled: CompiledJourney, now: datetime) -> Any:
        _coaching(compiled)
        from zoneinfo import ZoneInfo  # noqa: PLC0415

        today = now.astimezone(ZoneInfo(compiled.timezone)).date()
        if day > today:
            raise InvalidValue(Message("coach.future", on=day.isoformat(),
                                       today=today.isoformat()))
        return _Change({}, {"kind": "coached", "actor": actor.name if actor else None,
                            "payload": {"coach": found.name, "on": day.isoformat(),
                                        "minutes": minutes, "notes": notes}})

    return engine._change(project_id, actor, build)


def session_totals(engine: Any, cursor: Any, project_id: int) -> dict[str, int]:
    """``sessions.count`` and ``sessions.minutes`` of a project (in ``cursor``'s
    transaction when given)."""
    if cursor is None:
        with engine.hot.transaction(write=False) as reading:
            rows = engine.hot.list_events(reading, project_id)
    else:
        rows = engine.hot.list_events(cursor, project_id)
    sessions = [r for r in rows if r[2] == "coached"]
    return {"sessions.count": len(sessions),
            "sessions.minutes": sum(int(r[-1].get("minutes", 0)) for r in sessions)}


def coach_hours(engine: Any, journey: str, *, partner: str | None = None,
                cohort: str | None = None) -> dict[str, dict[str, float]]:
    """Hours of sessions per coach per month (``YYYY-MM`` of the session's date)."""
    from bompao.storage.coaches import journey_events  # noqa: PLC0415

    with engine.db.begin(write=False) as conn:
        rows = journey_events(conn, journey, ("coached",), partner=partner, cohort=cohort)
    minutes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        payload = row.payload
        minutes[str(payload["coach"])][str(payload["on"])[:7]] += int(payload["minutes"])
    return {coach: {month: round(m / 60, 2) for month, m in sorted(months.items())}
            for coach, months in sorted(minutes.items())}
