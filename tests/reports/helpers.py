"""Helpers for the report tests: a clock, the CLI, gate preparation and brute-force reports.

Imported as ``reports.helpers`` (``tests`` is on pytest's ``pythonpath``). The
brute-force functions recompute the funnel, time in stage and at-risk list from each
project's event history (``Engine.history``) and the follow-ups table, in plain
Python, so the property tests can compare them with the SQL of
:mod:`bompao.engine.reports`.
"""

from __future__ import annotations

import itertools
import math
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bompao.definitions import CompiledJourney
from bompao.engine import Actor, Engine
from bompao.engine.history import Event, ProjectState, replay
from bompao.engine.reports import Filters, main_path
from bompao.errors import GateRefused
from bompao.storage.tables import events, follow_ups, projects

__all__ = [
    "BOMPAO",
    "JOURNEY",
    "MAIN_PATH",
    "MANAGER",
    "T0",
    "Histories",
    "MutableClock",
    "bompao",
    "clear_projects",
    "close_round",
    "expected_at_risk",
    "expected_funnel",
    "expected_stages",
    "load_histories",
    "prepare_and_advance",
]

BOMPAO = Path(sys.executable).with_name("bompao")
JOURNEY = "social-incubator"
MAIN_PATH = ["idea", "validation", "test_run", "showcase", "handoff"]
T0 = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
"""Monday 5 January 2026, 09:00 in Bangkok."""
MANAGER = Actor("Ploy", roles={"program_manager", "coach", "committee"})
"""Holds every role a social-incubator transition or override asks for."""
ENTRY_KINDS = ("created", "advanced", "migrated")


class MutableClock:
    """The engine's clock: returns ``now``, which tests move by hand instead of sleeping."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def tick(self, **delta: float) -> datetime:
        """Move the clock forward by ``timedelta(**delta)`` and return the new time."""
        self.now += timedelta(**delta)
        return self.now


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("BOMPAO_DATABASE_URL", "BOMPAO_JOURNEYS", "BOMPAO_DEBUG", "BOMPAO_LANG",
                        "BOMPAO_CONFIG")}
    env["LC_ALL"] = "C.UTF-8"
    env["LANG"] = "C.UTF-8"
    return env


def bompao(*args: str, db: str | None = None, cwd: Path | None = None,
           timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run the installed ``bompao`` console script as a real subprocess."""
    command = [str(BOMPAO), *(["--db", db] if db else []), *args]
    return subprocess.run(command, capture_output=True, text=True, env=_env(), cwd=cwd,
                          timeout=timeout, check=False)


def clear_projects(engine: Engine) -> None:
    """Delete every project, event (with the stage visits they hold) and follow-up
    (journeys stay published)."""
    with engine.db.begin() as conn:
        for table in (follow_ups, events, projects):
            conn.execute(sa.delete(table))


# gates ---------------------------------------------------------------------------------

_counter = iter(range(10**9))


def _person(role: str) -> str:
    return f"{role}-{next(_counter)}"


def prepare_and_advance(engine: Engine, project_id: int, trigger: str) -> str:
    """Meet ``trigger``'s gate through the real API (fields, evidence, approvals), then
    fire it as :data:`MANAGER`; a gate that still is not met (``present`` before six
    months in the test run) is overridden, which the journey allows the program manager.

    Returns:
        ``"advanced"`` or ``"overridden"``.
    """
    if trigger == "validate":
        engine.set_fields(project_id, {
            "problem_statement": "Families in the district have no safe water at school"})
        engine.add_evidence(project_id, "stakeholder_map", url="https://example.org/map")
        engine.approve(project_id, role="coach", by=_person("coach"))
    elif trigger == "start_test_run":
        engine.set_fields(project_id, {"target_group": "Parents", "interviews_done": 12})
        engine.add_evidence(project_id, "test_plan", note="pilot")
        engine.approve(project_id, role="committee", by=_person("committee"))
        engine.approve(project_id, role="committee", by=_person("committee"))
    elif trigger == "present":
        engine.add_evidence(project_id, "test_run_report", note="report")
        engine.approve(project_id, role="coach", by=_person("coach"))
    elif trigger == "hand_off":
        engine.set_fields(project_id, {"partners_committed": ["Provincial office"]})
        engine.add_evidence(project_id, "handoff_plan", note="MoU")
    elif trigger == "resume":
        engine.add_evidence(project_id, "restart_plan", note="restart")
        engine.approve(project_id, role="coach", by=_person("coach"))
    try:
        engine.advance(project_id, trigger, MANAGER)
    except GateRefused:
        engine.advance(project_id, trigger, MANAGER, override=True, reason="property test")
        return "overridden"
    return "advanced"


# brute force ---------------------------------------------------------------------------


@dataclass
class Histories:
    """Every project's events and replayed state, and failed follow-ups per project."""

    events: dict[int, list[Event]]
    states: dict[int, ProjectState]
    failed: dict[int, int]


def load_histories(engine: Engine) -> Histories:
    """Read each project's history through ``Engine.history`` and replay it."""
    histories: dict[int, list[Event]] = {}
    states: dict[int, ProjectState] = {}
    failed: dict[int, int] = defaultdict(int)
    for project_id in engine.project_ids():
        history = engine.history(project_id)
        assert [e.seq for e in history] == list(range(1, len(history) + 1)), \
            f"project {project_id}: seqs with gaps {[e.seq for e in history]}"
        state = replay(history)
        assert state is not None
        histories[project_id] = history
        states[project_id] = state
        failed[project_id] = sum(1 for e in history if e.kind == "follow_up"
                                 and e.payload.get("outcome") == "failed")
    return Histories(histories, states, dict(failed))


def _matches(state: ProjectState, filters: Filters) -> bool:
    return (state.journey == filters.journey
            and filters.version in (None, state.version)
            and filters.partner in (None, state.partner)
            and filters.cohort in (None, state.cohort))


def _in_window(at: datetime, filters: Filters) -> bool:
    return ((filters.since is None or at >= filters.since)
            and (filters.until is None or at < filters.until))


def _entries(history: Iterable[Event], filters: Filters | None) -> list[Event]:
    """The events that put the project into a stage (creation and every move), in
    ``seq`` order; only those in the date range when ``filters`` are given."""
    found = []
    for event in history:
        if event.kind not in ENTRY_KINDS or event.to_stage is None:
            continue
        if event.kind == "migrated" and event.from_stage == event.to_stage:
            continue
        if filters is None or _in_window(event.at, filters):
            found.append(event)
    return found


def expected_funnel(journey: CompiledJourney, data: Histories,
                    filters: Filters) -> list[dict[str, Any]]:
    """The funnel by brute force: distinct projects with an entry into each stage in the
    window; projects there now (by replay); conversion to the main path's next stage."""
    reached: dict[str, set[int]] = defaultdict(set)
    now: dict[str, int] = defaultdict(int)
    for project_id, state in data.states.items():
        if not _matches(state, filters):
            continue
        now[state.stage] += 1
        for event in _entries(data.events[project_id], filters):
            reached[str(event.to_stage)].add(project_id)
    path = main_path(journey)
    rows = []
    for name, stage in journey.stages.items():
        nxt = path[path.index(name) + 1] if name in path[:-1] else None
        count = len(reached[name])
        rows.append({"stage": name, "title": stage.label("en"), "reached": count,
                     "now": now[name], "next": nxt,
                     "conversion": round(len(reached[nxt]) / count, 4)
                     if nxt and count else None,
                     "exit": name not in path})
    return rows


def _pick(ordered: list[float], share: float) -> float:
    """The smallest value whose 1-based rank is at least ``n * share`` (the SQL's rule)."""
    rank = max(1, math.ceil(len(ordered) * share))
    return ordered[rank - 1]


def expected_stages(journey: CompiledJourney, data: Histories,
                    filters: Filters) -> dict[str, dict[str, Any]]:
    """Time in stage by brute force: a completed visit runs from one entry to the
    project's next entry (``seq`` order); the date range selects visits by when they
    were entered (``--since``/``--until``: "only stage entries at or after / before
    TIME"), and a visit entered in the range counts with its whole length even when it
    ended after ``until``. Durations in days; median and 90th percentile are the
    values at rank ceil(n*0.5) / ceil(n*0.9), the SQL's ``row_number() >= n * share``.

    Returns per stage: ``visits``, the raw (unrounded) ``median``, ``p90``, ``max``.
    """
    durations: dict[str, list[float]] = defaultdict(list)
    for project_id, state in data.states.items():
        if not _matches(state, filters):
            continue
        entries = _entries(data.events[project_id], None)
        for entered, left in itertools.pairwise(entries):
            if _in_window(entered.at, filters):
                durations[str(entered.to_stage)].append(
                    (left.at - entered.at).total_seconds() / 86400)
    result = {}
    for name in journey.stages:
        ordered = sorted(durations[name])
        result[name] = {"visits": len(ordered),
                        "median": _pick(ordered, 0.5) if ordered else None,
                        "p90": _pick(ordered, 0.9) if ordered else None,
                        "max": ordered[-1] if ordered else None}
    return result


def close_round(reported: float | None, raw: float | None) -> bool:
    """``reported`` is ``raw`` rounded to one decimal, allowing float noise right at a
    rounding boundary (julianday and epoch arithmetic differ in the last bits)."""
    if reported is None or raw is None:
        return reported is None and raw is None
    return any(reported == round(raw + noise, 1) for noise in (0.0, -1e-6, 1e-6))


def expected_at_risk(journey: CompiledJourney, data: Histories, filters: Filters,
                     now: datetime) -> list[dict[str, Any]]:
    """At risk by brute force: projects in a non-final stage with any flag, longer in
    their stage than its expected duration, or with failed follow-up runs."""
    rows = []
    for project_id, state in data.states.items():
        if not _matches(state, filters):
            continue
        stage = journey.stages[state.stage]
        if stage.final:
            continue
        expected = stage.expected_duration
        overdue = expected is not None and (
            now - state.stage_entered_at > timedelta(days=expected.approx_days()))
        failed = data.failed.get(project_id, 0)
        if not (state.flags or overdue or failed):
            continue
        reasons = [f"flag {flag}" for flag in state.flags]
        if overdue:
            reasons.append("overdue")
        if failed:
            reasons.append(f"{failed} failed follow-up(s)")
        rows.append({"id": project_id, "name": state.name, "stage": state.stage,
                     "partner": state.partner, "cohort": state.cohort, "reasons": reasons,
                     "days_in_stage": (now - state.stage_entered_at).days,
                     "assigned": {r: list(p) for r, p in state.assignments.items()},
                     "_entered": state.stage_entered_at})
    rows.sort(key=lambda r: (r["_entered"], r["id"]))
    for row in rows:
        del row["_entered"]
    return rows
