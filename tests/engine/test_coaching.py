"""Coaches, the optimal match (against a brute force on small cases), sessions as events,
CEL's sessions.count|minutes and hours per coach per month."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta
from pathlib import Path

import pytest

from bompao.engine import Engine
from bompao.engine.coaching import (
    add_coach,
    coach_hours,
    list_coaches,
    log_session,
    match,
    plan_match,
)
from bompao.engine.reports import Filters, Reports
from bompao.errors import ConflictError, InvalidValue, NotFound

CALL = Path(__file__).resolve().parents[1] / "fixtures" / "intake" / "call.yaml"
TOPICS = ["idea_development", "model_and_plan", "project_management", "impact_measurement"]


def _objective(needs: list[list[str]], skills: list[list[str]], load: list[int],
               chosen: list[int | None]) -> tuple[int, int]:
    """(needs covered, slot cost): what the match maximises, then minimises."""
    covered = sum(len(set(n) & set(skills[c])) for n, c in zip(needs, chosen, strict=True)
                  if c is not None)
    counts = [sum(1 for c in chosen if c == j) for j in range(len(skills))]
    cost = sum(load[j] + k for j, m in enumerate(counts) for k in range(m))
    return covered, cost


def _brute(needs: list[list[str]], skills: list[list[str]], free: list[int],
           load: list[int]) -> tuple[int, int]:
    best: tuple[int, int] | None = None
    for chosen in itertools.product([None, *range(len(skills))], repeat=len(needs)):
        if any(sum(1 for c in chosen if c == j) > free[j] for j in range(len(skills))):
            continue
        if any(c is not None and not set(n) & set(skills[c])
               for n, c in zip(needs, chosen, strict=True)):
            continue  # a pair that covers nothing is never proposed
        covered, cost = _objective(needs, skills, load, list(chosen))
        if best is None or (covered, -cost) > (best[0], -best[1]):
            best = (covered, cost)
    assert best is not None
    return best


@pytest.mark.parametrize("seed", range(60))
def test_the_match_is_optimal_against_a_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    needs = [rng.sample(TOPICS, rng.randint(0, 3)) for _ in range(rng.randint(1, 5))]
    skills = [rng.sample(TOPICS, rng.randint(1, 2)) for _ in range(rng.randint(1, 3))]
    free = [rng.randint(0, 2) for _ in skills]
    load = [rng.randint(0, 2) for _ in skills]
    chosen = plan_match(needs, skills, free, load)
    for j in range(len(skills)):  # capacity respected
        assert sum(1 for c in chosen if c == j) <= free[j]
    for n, c in zip(needs, chosen, strict=True):  # nothing proposed that covers nothing
        assert c is None or set(n) & set(skills[c])
    assert _objective(needs, skills, load, chosen) == _brute(needs, skills, free, load)


@pytest.fixture
def call(engine: Engine) -> Engine:
    engine.publish(CALL)
    needs = [["idea_development", "impact_measurement"], ["impact_measurement"],
             ["model_and_plan"], ["project_management"], []]
    for index, wanted in enumerate(needs):
        engine.create_project("call", f"P{index + 1}", cohort="c1",
                              fields={"problem_statement": "x", "needs": wanted})
    return engine


def test_coaches_are_added_and_refused_when_bad(call: Engine) -> None:
    add_coach(call, "Khun Mai", ["idea_development", "impact_measurement"], 1)
    add_coach(call, "Nok", ["impact_measurement", "model_and_plan"], 2)
    assert [c.name for c in list_coaches(call)] == ["Khun Mai", "Nok"]
    with pytest.raises(ConflictError, match="a coach named 'khun mai' exists"):
        add_coach(call, "khun mai", ["model_and_plan"], 1)
    with pytest.raises(InvalidValue, match="bad skill 'Model And Plan'"):
        add_coach(call, "Ploy", ["Model And Plan"], 1)
    with pytest.raises(InvalidValue, match="capacity 0 is not 1 to 1000"):
        add_coach(call, "Ploy", ["model_and_plan"], 0)
    assert len(list_coaches(call)) == 2


def test_match_covers_needs_within_capacity_and_applies(call: Engine) -> None:
    with pytest.raises(NotFound, match="no coaches yet"):
        match(call, "call", "c1")
    add_coach(call, "Khun Mai", ["idea_development", "impact_measurement"], 1)
    add_coach(call, "Nok", ["impact_measurement", "model_and_plan"], 2)
    found = match(call, "call", "c1")
    chosen = {a["id"]: a["coach"] for a in found["assignments"]}
    assert chosen == {1: "Khun Mai", 2: "Nok", 3: "Nok"}  # covers 4 of 5 needs
    assert (found["covered"], found["needed"]) == (4, 5)
    assert [u["id"] for u in found["unmatched"]] == [4]  # nobody coaches project management
    assert not any(call.get(p).assignments for p in range(1, 6))  # a proposal writes nothing
    match(call, "call", "c1", apply=True)
    assert call.get(1).assignments == {"coach": ["Khun Mai"]}
    assert call.get(3).assignments == {"coach": ["Nok"]}
    assert match(call, "call", "c1")["assignments"] == []  # everyone coached or unmatched


def test_sessions_are_events_and_hours_per_month(call: Engine) -> None:
    add_coach(call, "Nok", ["impact_measurement"], 3)
    today = call.now().date()
    with pytest.raises(NotFound, match="no coach named 'Ploy'; coaches: Nok"):
        log_session(call, 2, "Ploy", today.isoformat(), 60)
    with pytest.raises(InvalidValue, match="minutes 0 is not 1 to 1440"):
        log_session(call, 2, "Nok", today.isoformat(), 0)
    with pytest.raises(InvalidValue, match="has not happened yet"):
        log_session(call, 2, "Nok", (today + timedelta(days=2)).isoformat(), 60)
    with pytest.raises(InvalidValue, match="bad date '2027-13-01'"):
        log_session(call, 2, "Nok", "2027-13-01", 60)
    assert [e.kind for e in call.history(2)] == ["created"]  # nothing written
    call.assign(2, "coach", "Nok")
    log_session(call, 2, "nok", (today - timedelta(days=40)).isoformat(), 60, notes="plan")
    log_session(call, 2, "Nok", today.isoformat(), 45)
    event = call.history(2)[-1]
    assert (event.kind, event.payload["coach"], event.payload["minutes"]) == (
        "coached", "Nok", 45)
    first, second = today - timedelta(days=40), today
    assert coach_hours(call, "call") == {"Nok": {first.isoformat()[:7]: 1.0,
                                                 second.isoformat()[:7]: 0.75}}
    row = next(r for r in Reports(call).coaches(Filters("call")) if r["person"] == "Nok")
    assert row["hours"] == coach_hours(call, "call")["Nok"]


def test_the_gate_sees_sessions(call: Engine) -> None:
    from bompao.engine.selection import score  # noqa: PLC0415
    from bompao.storage.accounts import insert_user  # noqa: PLC0415

    with call.db.begin() as conn:
        insert_user(conn, {"username": "bua", "display_name": "bua", "email": None,
                           "password_hash": "!", "roles": ["reviewer"],
                           "created_at": call.now()})
    call.assign(2, "reviewer", "bua")
    score(call, 2, "bua", {"need": 4, "team": 4})
    call.advance(2, "select")
    add_coach(call, "Nok", ["impact_measurement"], 3)
    day = call.now().date().isoformat()
    log_session(call, 2, "Nok", day, 60)
    report = call.check(2, "finish")
    assert not report.passable
    assert report.missing[0].seen == {"sessions.count": 1, "sessions.minutes": 60}
    log_session(call, 2, "Nok", day, 30)
    assert call.check(2, "finish").passable
    assert call.advance(2, "finish").stage == "done"
