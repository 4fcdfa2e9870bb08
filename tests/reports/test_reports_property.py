"""Property: the SQL reports agree with a brute-force count over the event log.

Hypothesis writes random histories of ``social-incubator`` projects on a simulated
clock: projects created with or without partner and cohort, moved by random
triggers available in their stage (gates met through the real API, or overridden
by the program manager where the journey allows it), refused advances, flags set
and cleared by hand, people assigned, the clock moved by minutes or months, and the
real follow-up dispatcher run in between (which flags, unflags, stalls after twelve
months in the test run, and records failed notifications for some projects). Then
``funnel``, ``stages``, ``at_risk`` and ``coaches`` — unfiltered and under random
filters (version, partner, cohort, since, until) — must equal what plain Python
computes from ``Engine.history`` and the follow-ups table. Runs on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from reports.helpers import (
    JOURNEY,
    MAIN_PATH,
    MANAGER,
    T0,
    Histories,
    MutableClock,
    clear_projects,
    close_round,
    expected_at_risk,
    expected_funnel,
    expected_stages,
    load_histories,
    prepare_and_advance,
)

from bompao.engine import Engine
from bompao.engine.actions import ActionContext, ActionFailed
from bompao.engine.config import Config
from bompao.engine.dispatch import Dispatcher
from bompao.engine.reports import Filters, Reports, main_path
from bompao.errors import GateRefused
from bompao.storage.tables import follow_ups

PARTNERS = [None, "cmu", "bangkok-district"]
COHORTS = [None, "2026", "2027"]
PEOPLE = ["Malee", "Somchai", "Napat", "Ploy"]
ROLES = ["coach", "program_manager", "advisor"]
NAMES = ["Clean Canal / คลองสะอาด", "Elder Care Circle", "ชมรมเขียนโค้ดเยาวชน",
         "Reading Buses", "Silk Weavers Co-op / สหกรณ์ทอผ้าไหม", "Flood Warning"]
OPERATIONS = ["create", *["advance"] * 7, "try", "flag", "unflag", "assign", "tick", "tick",
              "tick", "dispatch", "dispatch", "year"]
PROPERTY = settings(max_examples=40, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large])

minutes = st.one_of(st.integers(1, 6 * 60),                       # within a day
                    st.integers(1, 120).map(lambda d: d * 1440 + 17))  # up to 4 months
"""How far the clock moves between operations, in minutes."""


def _times(draw: Any, end: datetime) -> datetime | None:
    span = max(1, int((end - T0).total_seconds() // 60))
    offset = draw(st.one_of(st.none(), st.integers(0, span)))
    return None if offset is None else T0 + timedelta(minutes=offset)


@st.composite
def filters(draw: Any, end: datetime) -> Filters:
    """Random report filters over the history's time span."""
    since, until = _times(draw, end), _times(draw, end)
    return Filters(JOURNEY, version=draw(st.sampled_from([None, 1])),
                   partner=draw(st.sampled_from(PARTNERS)),
                   cohort=draw(st.sampled_from(COHORTS)), since=since, until=until)


def _create(engine: Engine, data: st.DataObject, failing: set[str], ids: list[int]) -> None:
    name = f"{data.draw(st.sampled_from(NAMES), label='name')} #{len(ids) + 1}"
    project = engine.create_project(
        journey=JOURNEY, name=name, partner=data.draw(st.sampled_from(PARTNERS), label="partner"),
        cohort=data.draw(st.sampled_from(COHORTS), label="cohort"), actor=MANAGER)
    if data.draw(st.booleans(), label="notifications fail"):
        failing.add(name)
    ids.append(project.id)


def _advance(engine: Engine, data: st.DataObject, ids: list[int], *, prepare: bool) -> None:
    journey = engine.journey(JOURNEY)
    open_ = [p.id for p in engine.list_projects(journey=JOURNEY)
             if not journey.stages[p.stage].final]
    if not open_:
        return  # every project is in a final stage
    project = engine.get(data.draw(st.sampled_from(open_), label="project"))
    offered = journey.triggers(project.stage)
    # the main path's trigger three times as often as withdrawing, stalling or resuming
    trigger = data.draw(st.sampled_from(offered[:1] * 3 + offered),
                        label=f"trigger from {project.stage}")
    if prepare:
        prepare_and_advance(engine, project.id, trigger)
        return
    with contextlib.suppress(GateRefused):  # unprepared: most gates refuse, leaving no trace
        engine.advance(project.id, trigger, MANAGER)


def build_history(engine: Engine, clock: MutableClock, data: st.DataObject,
                  failing: set[str]) -> None:
    """Play a random history on ``engine`` (whose database has no projects)."""
    dispatcher = Dispatcher(engine, Config(daemon_name="property", batch=200))
    ids: list[int] = []
    for _ in range(data.draw(st.integers(1, 4), label="projects at the start")):
        _create(engine, data, failing, ids)
        clock.tick(minutes=data.draw(st.integers(1, 3 * 1440), label="between creations"))
    for _ in range(data.draw(st.integers(8, 45), label="operations")):
        operation = data.draw(st.sampled_from(OPERATIONS), label="operation")
        if operation == "create":
            _create(engine, data, failing, ids)
        elif operation in ("advance", "try"):
            _advance(engine, data, ids, prepare=operation == "advance")
        elif operation in ("flag", "unflag"):
            engine.flag(data.draw(st.sampled_from(ids), label="project"), "at_risk",
                        on=operation == "flag", actor=MANAGER)
        elif operation == "assign":
            engine.assign(data.draw(st.sampled_from(ids), label="project"),
                          role=data.draw(st.sampled_from(ROLES), label="role"),
                          person=data.draw(st.sampled_from(PEOPLE), label="person"),
                          actor=MANAGER)
        elif operation == "tick":
            clock.tick(minutes=data.draw(minutes, label="tick"))
        elif operation == "year":  # long enough for the test run's twelve-month stall
            dispatcher.run_due(clock.tick(days=366))
        else:
            dispatcher.run_due(clock.now)
        clock.tick(minutes=data.draw(st.integers(0, 90), label="step"))


def describe(history: Histories) -> None:
    """Label the example for ``--hypothesis-show-statistics``: what the history holds."""
    moves = [e for h in history.events.values() for e in h if e.kind == "advanced"]
    event(f"projects: {min(len(history.states), 10)}+")
    event(f"moves: {min(len(moves) // 5 * 5, 20)}+")
    for label, found in (
            ("stalled by the follow-up", any(e.actor == "system" for e in moves)),
            ("gate overridden", any(e.payload.get("override") for e in moves)),
            ("a failed follow-up", any(history.failed.values())),
            ("a project handed off", any(s.stage == "handoff" for s in history.states.values())),
            ("a stage visited twice", any(
                len([e for e in h if e.kind == "advanced" and e.to_stage == "test_run"]) > 1
                for h in history.events.values())),
            ("a flagged project", any(s.flags for s in history.states.values()))):
        if found:
            event(label)


def check_state_matches_replay(engine: Engine, history: Histories) -> None:
    """The stored project equals the replay of its events (the brute force's input)."""
    for project_id, state in history.states.items():
        stored = engine.get(project_id)
        assert (state.stage, state.stage_entered_at, list(state.flags), state.assignments,
                state.name, state.partner, state.cohort) == (
            stored.stage, stored.stage_entered_at, stored.flags, stored.assignments,
            stored.name, stored.partner, stored.cohort), f"project {project_id}"


def check_failed_runs_match_table(engine: Engine, history: Histories) -> None:
    """Failed follow-up runs in the history are the follow-ups whose status is failed."""
    with engine.db.begin(write=False) as conn:
        rows = conn.execute(sa.select(follow_ups.c.project_id, sa.func.count())
                            .where(follow_ups.c.status == "failed")
                            .group_by(follow_ups.c.project_id)).all()
    assert {pid: n for pid, n in history.failed.items() if n} == dict(rows)


def expected_coaches(engine: Engine, history: Histories, flt: Filters,
                     now: datetime) -> list[dict[str, Any]]:
    """Coach workload by brute force: replayed assignments, pending follow-ups due by now."""
    with engine.db.begin(write=False) as conn:
        rows = conn.execute(sa.select(follow_ups)).all()
    due: dict[int, int] = defaultdict(int)
    for row in rows:
        if row.status == "pending" and row.due_at <= now:
            due[row.project_id] += 1
    work: dict[tuple[str, str], list[int]] = defaultdict(list)
    for project_id, state in history.states.items():
        if state.journey != flt.journey or flt.version not in (None, state.version) or \
                flt.partner not in (None, state.partner) or \
                flt.cohort not in (None, state.cohort):
            continue
        for role, people in state.assignments.items():
            for person in set(people):
                work[(person, role)].append(project_id)
    return [{"person": person, "role": role, "projects": len(pids),
             "due_follow_ups": sum(due[p] for p in pids)}
            for (person, role), pids in work.items()]


def check_reports(engine: Engine, history: Histories, flt: Filters, now: datetime) -> None:
    """Every report under ``flt`` equals its brute-force counterpart."""
    journey = engine.journey(JOURNEY, flt.version)  # the version the reports read
    reports = Reports(engine)
    context = f"filters {flt}"

    funnel = reports.funnel(flt)
    assert funnel == expected_funnel(journey, history, flt), context

    stages = reports.stages(flt)
    wanted = expected_stages(journey, history, flt)
    assert [r["stage"] for r in stages] == list(journey.stages), context
    for row in stages:
        raw = wanted[row["stage"]]
        where = f"{context}, stage {row['stage']}: {row} vs {raw}"
        assert row["visits"] == raw["visits"], where
        assert close_round(row["median_days"], raw["median"]), where
        assert close_round(row["p90_days"], raw["p90"]), where
        assert close_round(row["max_days"], raw["max"]), where
        expected = journey.stages[row["stage"]].expected_duration
        assert row["expected_days"] == (round(expected.approx_days(), 1) if expected else None)

    assert reports.at_risk(flt, now=now) == expected_at_risk(journey, history, flt, now), \
        context

    coaches = reports.coaches(flt, now=now)
    assert sorted(coaches, key=lambda r: (r["person"], r["role"])) == sorted(
        expected_coaches(engine, history, flt, now), key=lambda r: (r["person"], r["role"])), \
        context
    counts = [r["projects"] for r in coaches]
    assert counts == sorted(counts, reverse=True), "coaches: busiest first"


def test_main_path_of_social_incubator(engine: Engine) -> None:
    """The funnel's conversion follows idea → validation → test run → showcase → handoff."""
    assert main_path(engine.journey(JOURNEY)) == MAIN_PATH


@PROPERTY
@given(data=st.data())
def test_reports_agree_with_brute_force(engine: Engine, clock: MutableClock,
                                        data: st.DataObject) -> None:
    clear_projects(engine)
    clock.now = T0
    failing: set[str] = set()

    def notify(ctx: ActionContext) -> str:
        if ctx.project.name in failing:
            raise ActionFailed("the mail relay refused the message")
        return "notified"

    engine.register_action("notify", notify)
    build_history(engine, clock, data, failing)
    history = load_histories(engine)
    describe(history)
    check_state_matches_replay(engine, history)
    check_failed_runs_match_table(engine, history)
    end = clock.now
    later = end + timedelta(days=data.draw(st.integers(0, 400), label="report day"),
                            minutes=data.draw(st.integers(0, 1439), label="report minute"))
    check_reports(engine, history, Filters(JOURNEY), later)
    for _ in range(2):
        check_reports(engine, history, data.draw(filters(end), label="filters"), later)


def test_until_keeps_visits_entered_before_it_with_their_whole_length(
        engine: Engine, clock: MutableClock) -> None:
    """``--until T`` means "only stage entries before T": a visit entered before T that
    ended after T is such an entry, and it is complete; leaving it out (or cutting it
    at T) would bias time in stage towards short visits."""
    project = engine.create_project(journey=JOURNEY, name="Edge of the window")
    clock.tick(days=10)
    prepare_and_advance(engine, project.id, "validate")          # idea: 10 days
    clock.tick(days=30)
    prepare_and_advance(engine, project.id, "start_test_run")    # validation: 30 days
    stages = {r["stage"]: r for r in Reports(engine).stages(
        Filters(JOURNEY, until=T0 + timedelta(days=20)))}
    assert (stages["idea"]["visits"], stages["idea"]["max_days"]) == (1, 10.0)
    assert (stages["validation"]["visits"], stages["validation"]["max_days"]) == (1, 30.0)
    assert stages["test_run"]["visits"] == 0  # entered after the window


@pytest.mark.parametrize("filters_", [
    Filters(JOURNEY, partner="nobody"), Filters(JOURNEY, cohort="1999"),
    Filters(JOURNEY, version=1, since=T0 + timedelta(days=9999))])
def test_reports_of_nothing(engine: Engine, filters_: Filters) -> None:
    """Filters that match nothing give zero rows in the funnel and empty statistics."""
    engine.create_project(journey=JOURNEY, name="Lonely", partner="cmu", cohort="2026")
    reports = Reports(engine)
    funnel = reports.funnel(filters_)
    assert [r["reached"] for r in funnel] == [0] * len(funnel)
    assert all(r["conversion"] is None for r in funnel)
    stages = reports.stages(filters_)
    assert all(r["visits"] == 0 and r["median_days"] is None for r in stages)
    if filters_.since is None:
        assert reports.at_risk(filters_, now=T0 + timedelta(days=400)) == []
