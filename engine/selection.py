"""Review, scoring and selection: reviewers by load, one set of scores per reviewer,
normalisation across reviewers, a deterministic ranking and the selection of the top N.

Scores are ``scored`` events (the reviewer's latest set counts; history keeps every
set). A project's reviewers are the people assigned to it in the journey's scoring
role; the pool :func:`assign_reviewers` draws from is the accounts holding that role
(``reviewer`` or ``reviewer@PARTNER``: the partner is the reviewer's own, a conflict
with that partner's projects when the journey declares ``conflicts: partner``).

Normalisation (the journey's ``scoring.normalise``), over a reviewer's weighted score
``x = Σ weight·value / Σ weight`` of each project:

- ``none``: a project's score is the mean of its reviewers' ``x``;
- ``zscore``: each reviewer's ``x`` become ``(x - mean) / sd`` over the projects that
  reviewer scored in the cohort (population sd; 0 when the reviewer gave one value
  only or all the same), then the mean per project;
- ``trimmed``: the mean of a project's ``x`` without its one highest and one lowest
  when it has three or more.

Ranking: best score first; ties broken by more reviewers, then the earlier project (lower
id); projects without scores come last, by id.
"""

from __future__ import annotations

import contextvars
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bompao.definitions.compiled import CompiledCriterion, CompiledJourney, CompiledTransition
from bompao.definitions.intake import ScoringSpec
from bompao.definitions.messages import Joined, Message
from bompao.engine.actor import Actor, clean_name, person_key
from bompao.engine.gates import GateReport
from bompao.errors import ConflictError, GateRefused, InvalidValue, NotFound, PermissionDenied

__all__ = [
    "TIE_BREAK",
    "ScoreSet",
    "assign_reviewers",
    "check_reviewer",
    "gate_values",
    "normalised",
    "rank",
    "ranking",
    "reviewer_partners",
    "score",
    "select",
    "weighted",
]

TIE_BREAK = "ties broken by more reviewers, then the lower project id"
_READS_SCORE = re.compile(r"\bscore\s*\.\s*(mean|weighted|count)\b|\brank\b")
_READS_SESSIONS = re.compile(r"\bsessions\s*\.\s*(count|minutes)\b")
_READS: dict[int, tuple[CompiledTransition, bool, bool]] = {}
_RANKED: contextvars.ContextVar[dict[tuple[str, str | None], list[dict[str, Any]]] | None] = \
    contextvars.ContextVar("bompao_selection_ranked", default=None)
"""A ranking :func:`select` computed once, which the gates it fires read (instead of
ranking the cohort again for every project it moves)."""


@dataclass(frozen=True, slots=True)
class ScoreSet:
    """One reviewer's effective scores of one project."""

    project: int
    reviewer: str
    scores: Mapping[str, int]


def _scoring(compiled: CompiledJourney) -> ScoringSpec:
    if compiled.doc.scoring is None:
        raise InvalidValue(Message("intake.no_scoring", ref=compiled.ref))
    return compiled.doc.scoring


def scoring_stage(compiled: CompiledJourney) -> str:
    """The stage in which projects are scored (the initial one unless declared)."""
    spec = _scoring(compiled)
    return spec.stage or compiled.initial


def weighted(spec: ScoringSpec, scores: Mapping[str, int]) -> float:
    """``Σ weight·value / Σ weight`` over the rubric's criteria a set gives."""
    total = sum(spec.rubric[name].weight for name in scores)
    return sum(spec.rubric[name].weight * value for name, value in scores.items()) / total


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def normalised(spec: ScoringSpec, sets: Iterable[ScoreSet]) -> dict[int, dict[str, Any]]:
    """Each project's ``weighted`` (the ranking score, normalised as declared),
    ``mean`` (its reviewers' plain mean over the criteria, not normalised) and
    ``count`` (how many reviewers scored it)."""
    by_project: dict[int, list[tuple[str, float, float]]] = defaultdict(list)
    for item in sets:
        raw = _mean([float(v) for v in item.scores.values()])
        by_project[item.project].append((item.reviewer, weighted(spec, item.scores), raw))
    adjusted: dict[int, list[float]] = {}
    if spec.normalise == "zscore":
        per_reviewer: dict[str, list[float]] = defaultdict(list)
        for entries in by_project.values():
            for reviewer, value, _ in entries:
                per_reviewer[reviewer].append(value)
        moments = {}
        for reviewer, values in per_reviewer.items():
            mu = _mean(values)
            moments[reviewer] = (mu, math.sqrt(_mean([(v - mu) ** 2 for v in values])))
        for project, entries in by_project.items():
            adjusted[project] = [
                (value - moments[r][0]) / moments[r][1] if moments[r][1] > 1e-12 else 0.0
                for r, value, _ in entries]
    else:
        for project, entries in by_project.items():
            values = sorted(value for _, value, _ in entries)
            if spec.normalise == "trimmed" and len(values) >= 3:
                values = values[1:-1]
            adjusted[project] = values
    return {project: {"weighted": _mean(adjusted[project]),
                      "mean": _mean([raw for _, _, raw in entries]),
                      "count": len(entries)}
            for project, entries in by_project.items()}


def ranking(spec: ScoringSpec, sets: Iterable[ScoreSet],
            projects: Mapping[int, str]) -> list[dict[str, Any]]:
    """``[{id, name, score, mean, count, rank}]`` best first (see the module's rules);
    ``projects`` maps every project to rank (scored or not) to its name."""
    found = normalised(spec, (s for s in sets if s.project in projects))

    def order(project: int) -> tuple[int, float, int, int]:
        entry = found.get(project)
        if entry is None:
            return (1, 0.0, 0, project)
        return (0, -entry["weighted"], -entry["count"], project)

    result = []
    for position, project in enumerate(sorted(projects, key=order), start=1):
        entry = found.get(project)
        result.append({"id": project, "name": projects[project],
                       "score": None if entry is None else round(entry["weighted"], 6),
                       "mean": None if entry is None else round(entry["mean"], 6),
                       "count": 0 if entry is None else entry["count"], "rank": position})
    return result


def effective_sets(rows: Iterable[Any]) -> list[ScoreSet]:
    """The latest set of each reviewer of each project, from ``scored`` event rows
    ``(project_id, seq, actor, payload)`` in seq order."""
    latest: dict[tuple[int, str], ScoreSet] = {}
    for row in rows:
        project, payload = row.project_id, row.payload
        reviewer = str(payload["reviewer"])
        latest[(int(project), person_key(reviewer))] = ScoreSet(
            int(project), person_key(reviewer), dict(payload["scores"]))
    return list(latest.values())


# reviewers ----------------------------------------------------------------------------

def reviewer_partners(engine: Any, role: str) -> dict[str, tuple[str, frozenset[str]]]:
    """The enabled accounts holding ``role``: person key → (username, the partners they
    hold it at; empty: every partner, none of their own)."""
    from bompao.storage.accounts import list_users  # noqa: PLC0415

    with engine.db.begin(write=False) as conn:
        users = list_users(conn)
    result: dict[str, tuple[str, frozenset[str]]] = {}
    for user in users:
        if user.disabled:
            continue
        grants = [str(r) for r in user.roles or []]
        held = [g for g in grants if g == role or g.startswith(role + "@")]
        if held:
            partners = frozenset(g.partition("@")[2] for g in held if "@" in g)
            result[person_key(user.username)] = (user.username, partners)
    return result


def _conflict(spec: ScoringSpec, row: Any, reviewer: str,
              partners: frozenset[str]) -> str | None:
    """Why ``reviewer`` may not review ``row`` (None: no declared conflict)."""
    key = person_key(reviewer)
    if spec.partner_conflict and row.partner is not None and row.partner in partners:
        return Message("intake.reason_partner", partner=row.partner)
    for conflict in spec.listed():
        if conflict.field is not None:
            named = row.fields.get(conflict.field) or []
            named = [named] if isinstance(named, str) else named
            if any(person_key(str(n)) == key for n in named):
                return Message("intake.reason_field", field=conflict.field)
        elif person_key(str(conflict.reviewer)) == key and row.partner == conflict.partner:
            return Message("intake.reason_listed", partner=conflict.partner)
    return None


def check_reviewer(engine: Any, compiled: CompiledJourney, row: Any, person: str) -> None:
    """Refuse ``person`` as a reviewer of ``row`` when a declared conflict forbids it
    (what ``project assign`` and :func:`score` both check).

    Raises:
        PermissionDenied: the conflict, named.
    """
    spec = _scoring(compiled)
    _, partners = reviewer_partners(engine, spec.role).get(person_key(person),
                                                           (person, frozenset()))
    reason = _conflict(spec, row, person, partners)
    if reason is not None:
        raise PermissionDenied(Message("intake.conflict", who=person, id=row.id,
                                       reason=reason))


def assign_reviewers(engine: Any, journey: str, cohort: str | None, *,
                     actor: Actor | None = None, dry_run: bool = False
                     ) -> list[dict[str, Any]]:
    """Give every project of the cohort in the scoring stage up to ``reviewers``
    reviewers, least loaded first (load: projects of the journey a reviewer is assigned
    to), never one with a conflict; all in one transaction.

    Returns:
        ``[{id, name, reviewers: [...], added: [...], short: N}]`` by project id.

    Raises:
        InvalidValue: the journey declares no scoring.
        NotFound: nobody holds the scoring role.
    """
    from bompao.engine.engine import _Change  # noqa: PLC0415 - the engine's change record

    compiled = engine.journey(journey)
    spec = _scoring(compiled)
    stage = scoring_stage(compiled)
    pool = reviewer_partners(engine, spec.role)
    if not pool:
        raise NotFound(Message("intake.no_reviewers", role=spec.role))
    everyone = engine.list_projects(journey=compiled.key)
    load = dict.fromkeys(pool, 0)
    for project in everyone:
        for person in project.assignments.get(spec.role, []):
            if person_key(person) in load:
                load[person_key(person)] += 1
    plan: list[dict[str, Any]] = []
    targets = sorted((p for p in everyone if p.stage == stage
                      and (cohort is None or p.cohort == cohort)), key=lambda p: p.id)
    for project in targets:
        current = list(project.assignments.get(spec.role, []))
        have = {person_key(p) for p in current}
        free = [k for k in pool if k not in have
                and _conflict(spec, project, pool[k][0], pool[k][1]) is None]
        free.sort(key=lambda k: (load[k], k))
        added = [pool[k][0] for k in free[:max(0, spec.reviewers - len(current))]]
        for name in added:
            load[person_key(name)] += 1
        plan.append({"id": project.id, "name": project.name, "reviewers": current + added,
                     "added": added, "short": max(0, spec.reviewers - len(current) - len(added))})
    if dry_run or not any(item["added"] for item in plan):
        return plan
    now = engine.now()
    written = []
    with engine.hot.transaction() as cursor:
        for item in plan:
            if not item["added"]:
                continue
            row = engine._hot_row(cursor, item["id"], actor)
            people = list(row.assignments.get(spec.role, []))
            for person in item["added"]:
                people.append(person)
                change = _Change({"assignments": {**row.assignments, spec.role: people}},
                                 {"kind": "assigned", "actor": actor.name if actor else None,
                                  "role": spec.role,
                                  "payload": {"role": spec.role, "person": person,
                                              "by_load": True}})
                row = engine._write(cursor, row, change, now)
                people = list(row.assignments.get(spec.role, []))
            written.append(row)
    for row in written:
        engine._emit("changed", project=row, kind="assigned", actor=actor)
    return plan


# scoring ------------------------------------------------------------------------------

def _values(spec: ScoringSpec, given: Mapping[str, Any]) -> dict[str, int]:
    """The set checked against the rubric: every criterion, each a whole number on its
    scale (text parsed as the CLI gives it).

    Raises:
        InvalidValue: an unknown or missing criterion, a value off its scale.
    """
    criteria = ", ".join(f"{name} ({c.scale})" for name, c in spec.rubric.items())
    result: dict[str, int] = {}
    for name, raw in given.items():
        criterion = spec.rubric.get(name)
        if criterion is None:
            raise InvalidValue(Message("intake.unknown_criterion", name=name,
                                       criteria=criteria))
        value: Any = raw
        if isinstance(raw, str) and re.fullmatch(r"\s*-?\d{1,6}\s*", raw):
            value = int(raw)
        if value not in criterion.scale:
            raise InvalidValue(Message("intake.off_scale", name=name, value=raw,
                                       scale=str(criterion.scale)))
        result[name] = int(value)
    missing = [name for name in spec.rubric if name not in result]
    if missing:
        raise InvalidValue(Message("intake.missing_criteria", missing=", ".join(missing),
                                   criteria=criteria))
    return result


def score(engine: Any, project_id: int, reviewer: str, scores: Mapping[str, Any], *,
          note: str | None = None, actor: Actor | None = None) -> Any:
    """Record ``reviewer``'s set of scores of the project as a ``scored`` event; a second
    set by the same reviewer replaces the first (history keeps both).

    Raises:
        NotFound: no such project (or outside the actor's partner scope).
        InvalidValue: the journey declares no scoring; an unknown or missing criterion;
            a value off its scale; an empty reviewer name.
        PermissionDenied: the reviewer is not assigned in the scoring role, has a
            declared conflict, or is not the actor.
        ConflictError: the project has left the scoring stage.
    """
    from bompao.engine.engine import _Change  # noqa: PLC0415

    if not reviewer or not clean_name(reviewer):
        raise InvalidValue(Message("value.person"))
    reviewer = clean_name(reviewer)
    if actor is not None and person_key(actor.name) != person_key(reviewer):
        raise PermissionDenied(Message("intake.score_as_other", who=actor.name,
                                       by=reviewer))
    if note is not None and (len(note) > 4000 or "\x00" in note):
        raise InvalidValue(Message("intake.bad_note"))
    project = engine.get(project_id, actor)
    compiled = engine.journey(project.journey_key, project.journey_version)
    spec = _scoring(compiled)
    values = _values(spec, scores)
    stage = scoring_stage(compiled)
    _, partners = reviewer_partners(engine, spec.role).get(person_key(reviewer),
                                                           (reviewer, frozenset()))

    def build(row: Any, compiled: CompiledJourney, _now: datetime) -> Any:
        if row.stage != stage:
            raise ConflictError(Message("intake.left_stage", id=row.id, stage=stage,
                                        now=row.stage))
        assigned = row.assignments.get(spec.role, [])
        if not any(person_key(p) == person_key(reviewer) for p in assigned):
            raise PermissionDenied(Message("intake.not_assigned", who=reviewer, id=row.id,
                                           role=spec.role,
                                           assigned=", ".join(assigned) or Message("none")))
        reason = _conflict(spec, row, reviewer, partners)
        if reason is not None:
            raise PermissionDenied(Message("intake.conflict", who=reviewer, id=row.id,
                                           reason=reason))
        return _Change({}, {"kind": "scored", "actor": reviewer, "role": spec.role,
                            "payload": {"reviewer": reviewer, "scores": values,
                                        "note": note}})

    return engine._change(project_id, actor, build)


def rank(engine: Any, journey: str, cohort: str | None, *,
         actor: Actor | None = None, cursor: Any = None) -> list[dict[str, Any]]:
    """The cohort's ranking (see :func:`ranking`): its projects that have scores or are
    in the scoring stage; read in ``cursor``'s transaction when given (a gate inside an
    advance), else in a transaction of its own.

    Raises:
        NotFound: the journey is unknown.
        InvalidValue: it declares no scoring.
    """
    compiled = engine.journey(journey)
    spec = _scoring(compiled)
    stage = scoring_stage(compiled)
    if cursor is None:
        with engine.hot.transaction(write=False) as reading:
            return rank(engine, journey, cohort, actor=actor, cursor=reading)
    rows = engine.hot.cohort_events(cursor, compiled.key, cohort, ("scored",))
    sets = effective_sets(rows)
    scored = {s.project for s in sets}
    partner = actor.partner if actor is not None else None
    projects = {p.id: p.name for p in engine.hot.list_projects(
        cursor, journey=compiled.key, cohort=cohort, partner=partner)
        if p.stage == stage or p.id in scored}
    return ranking(spec, sets, projects)


# CEL ------------------------------------------------------------------------------------

def _texts(criterion: CompiledCriterion | None) -> Iterable[str]:
    if criterion is None:
        return
    if criterion.expr:
        yield criterion.expr
    for child in criterion.children:
        yield from _texts(child)


def _reads(transition: CompiledTransition) -> tuple[bool, bool]:
    """Whether the transition's gates name ``score.*``/``rank``, and ``sessions.*``."""
    cached = _READS.get(id(transition))
    if cached is not None and cached[0] is transition:
        return cached[1], cached[2]
    text = "\n".join(t for b in transition.branches for t in _texts(b.gate))
    found = (bool(_READS_SCORE.search(text)), bool(_READS_SESSIONS.search(text)))
    _READS[id(transition)] = (transition, *found)
    return found


def gate_values(engine: Any, cursor: Any, row: Any, compiled: CompiledJourney,
                transition: CompiledTransition) -> dict[str, Any]:
    """What CEL sees of ``score.*``, ``rank`` and ``sessions.*`` for ``row``: read only
    when the transition's gates name them."""
    scores, sessions = _reads(transition)
    values: dict[str, Any] = {}
    if scores and compiled.doc.scoring is not None:
        ranked = (_RANKED.get() or {}).get((compiled.key, row.cohort))
        if ranked is None:
            ranked = rank(engine, compiled.key, row.cohort, cursor=cursor)
        found = next((entry for entry in ranked if entry["id"] == row.id), None)
        values["score.count"] = found["count"] if found else 0
        if found is not None and found["score"] is not None:
            values.update({"score.weighted": float(found["score"]),
                           "score.mean": float(found["mean"]), "rank": found["rank"]})
    if sessions and compiled.doc.coaching is not None:
        from bompao.engine.coaching import session_totals  # noqa: PLC0415

        values.update(session_totals(engine, cursor, row.id))
    return values


# selection ------------------------------------------------------------------------------

def select(engine: Any, journey: str, cohort: str | None, *, top: int, trigger: str,
           others: str | None = None, dry_run: bool = False,
           actor: Actor | None = None) -> dict[str, Any]:
    """Advance the cohort's best ``top`` projects in the scoring stage by ``trigger`` and,
    with ``others``, the rest by ``others``: one transaction, every project or none, the
    reason (rank, score, the rule) recorded on each advance.

    Returns:
        ``{"selected": [...], "others": [...], "tie_break": TIE_BREAK, "dry_run"}``,
        entries of the ranking with the trigger each gets.

    Raises:
        InvalidValue: ``top`` below 1, the journey declares no scoring.
        GateRefused: some gate refused (every project is listed); nothing written.
        NotFound, PermissionDenied: as :meth:`Engine.advance`; nothing written.
    """
    if top < 1:
        raise InvalidValue(Message("intake.top"))
    compiled = engine.journey(journey)
    stage = scoring_stage(compiled)
    for name in (trigger, *([others] if others else [])):
        compiled.transition(stage, name)  # unknown or not offered: say so now
    standing = {p.id for p in engine.list_projects(journey=compiled.key, cohort=cohort,
                                                   stage=stage, actor=actor)}
    everyone = rank(engine, journey, cohort, actor=actor)
    ranked = [dict(entry) for entry in everyone if entry["id"] in standing]
    total = len(ranked)
    for position, entry in enumerate(ranked, start=1):
        chosen = position <= top
        entry["trigger"] = trigger if chosen else others
        entry["reason"] = (
            f"selection: rank {entry['rank']} of {total} in cohort {cohort or '-'} "
            f"(score {entry['score']}, {entry['count']} reviewers), "
            f"{'within' if chosen else 'outside'} the top {top}; {TIE_BREAK}")
    result = {"selected": [e for e in ranked if e["trigger"] == trigger],
              "others": [e for e in ranked if e["trigger"] != trigger],
              "tie_break": TIE_BREAK, "dry_run": dry_run}
    if dry_run:
        return result
    moving = [e for e in ranked if e["trigger"] is not None]
    now = engine.now()
    token = _RANKED.set({(compiled.key, cohort): everyone} if cohort is not None else {})
    try:
        moved = _select_write(engine, moving, total, top, trigger, actor, now)
    finally:
        _RANKED.reset(token)
    for project, change in moved:
        for kind, data in change.after:
            engine._emit(kind, project=project, **data)
        engine._emit("changed", project=project, kind="advanced", actor=actor)
    return result


def _select_write(engine: Any, moving: list[dict[str, Any]], total: int, top: int,  # noqa: PLR0917
                  trigger: str, actor: Actor | None, now: datetime) -> list[tuple[Any, Any]]:
    """Advance ``moving`` in one transaction; every one or none.

    Raises:
        GateRefused: some gate refused (every refusal listed); nothing written.
    """
    refused: list[GateReport] = []
    results = []
    with engine.hot.transaction() as cursor:
        for entry in sorted(moving, key=lambda e: e["id"]):
            row = engine._hot_row(cursor, entry["id"], actor)
            journey_version = engine.journey(row.journey_key, row.journey_version)
            change = engine._advance_change(row, journey_version, entry["trigger"], actor,
                                            None, False, None, now, cursor=cursor)
            if isinstance(change, GateReport):
                refused.append(change)
                continue
            change.event["payload"]["reason"] = entry["reason"]
            change.event["payload"]["selection"] = {
                "rank": entry["rank"], "of": total, "score": entry["score"], "top": top}
            results.append((row, change))
        if refused:
            listing = Joined((Message("gate.refused_one", project=r.project,
                                      missing=Joined(r.missing_texts()))
                              for r in refused[:10]), "; ")
            raise GateRefused(Message("gate.refused_many", refused=len(refused),
                                      total=len(moving), trigger=trigger, listing=listing,
                                      more=""), refused[0])
        return [(engine._write(cursor, row, change, now), change) for row, change in results]
