"""Advancing through branched transitions, on SQLite and PostgreSQL.

The journey's one ``transitions`` machine fires every advance: the first branch whose
gate passes is taken, a refusal writes nothing, an override with no branch passing
takes the first branch, the event records the branch, and ``check`` explains each one.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from bompao.engine import Actor, Engine
from bompao.engine.audit import audit
from bompao.engine.gates import GateReport
from bompao.errors import GateRefused, TriggerNotOffered
from tests.definitions.test_branches import BRANCHED, expected_dest
from tests.test_cli_projects import bompao

BOSS = Actor("Boonmee", roles={"boss"})
COMMITTEE = ("Arun", "Busaba", "Chai")


@pytest.fixture
def branched(engine: Engine) -> str:
    return engine.publish(BRANCHED)[0]


def _at_validation(engine: Engine, score: int, approvals: int) -> int:
    project = engine.create_project("branched", f"S{score}A{approvals}",
                                    fields={"score": score})
    engine.advance(project.id, "submit")
    for name in COMMITTEE[:approvals]:
        engine.approve(project.id, "committee", by=name)
    return project.id


def _pending(engine: Engine, project_id: int) -> list[tuple[str, str]]:
    return sorted((f["stage"], f["spec"]) for f in engine.list_follow_ups(
        project=project_id, status="pending"))


@pytest.mark.parametrize(("score", "approvals"), [(0, 0), (60, 0), (60, 2), (0, 3), (49, 1)])
def test_advance_takes_the_first_passing_branch(engine: Engine, branched: str, score: int,
                                                approvals: int) -> None:
    project_id = _at_validation(engine, score, approvals)
    want = expected_dest("validation", "decide", score, approvals)
    moved = engine.advance(project_id, "decide")
    assert moved.stage == want
    event = engine.history(project_id)[-1]
    index = ["test_run", "incubate", "idea"].index(str(want))
    assert (event.from_stage, event.to_stage, event.trigger) == ("validation", want, "decide")
    assert event.payload["branch"] == {"index": index, "to": want}
    assert event.payload["override"] is False
    # the gate recorded is the taken branch's own
    kinds = {0: ["approval"], 1: ["expr"], 2: ["all"]}[index]
    assert [c["kind"] for c in event.payload["gate"]] == kinds
    assert all(c["met"] for c in event.payload["gate"])


def test_a_transition_without_branches_records_none(engine: Engine, branched: str) -> None:
    project_id = _at_validation(engine, 0, 0)
    assert "branch" not in engine.history(project_id)[-1].payload


def test_no_branch_passing_refuses_and_writes_nothing(engine: Engine, branched: str) -> None:
    project_id = _at_validation(engine, 60, 0)
    engine.advance(project_id, "decide")  # -> incubate
    before, history = engine.get(project_id), engine.history(project_id)
    follow_ups = engine.list_follow_ups(project=project_id)
    with pytest.raises(GateRefused) as refused:
        engine.advance(project_id, "conclude")
    report = refused.value.report
    assert report is not None
    assert (report.passable, report.branch, report.to_stage) == (False, None, "done")
    assert [c.says for c in report.criteria] == ["score >= 80"]  # the first branch's
    assert [(b.to_stage, b.passable) for b in report.branches] == [
        ("done", False), ("archive", False)]
    assert str(refused.value) == (
        f"project {project_id} cannot 'conclude' from 'incubate': no branch's gate is met "
        "(to 'done' missing score >= 80; to 'archive' missing score < 20)")
    assert engine.get(project_id) == before
    assert engine.history(project_id) == history
    assert engine.list_follow_ups(project=project_id) == follow_ups


def test_an_override_with_no_branch_passing_takes_the_first(engine: Engine,
                                                            branched: str) -> None:
    project_id = _at_validation(engine, 60, 0)
    engine.advance(project_id, "decide")
    moved = engine.advance(project_id, "conclude", BOSS, override=True, reason="board said so")
    assert moved.stage == "done"
    payload = engine.history(project_id)[-1].payload
    assert payload["override"] is True
    assert payload["branch"] == {"index": 0, "to": "done"}
    assert payload["missing"] == ["score >= 80"]


def test_an_override_prefers_a_passing_branch(engine: Engine, branched: str) -> None:
    project_id = _at_validation(engine, 10, 0)
    assert engine.advance(project_id, "decide", BOSS, override=True,
                          reason="x").stage == "idea"  # branch 3 passes: no override
    assert engine.history(project_id)[-1].payload["override"] is False


def test_exit_and_entry_callbacks_cancel_and_plan(engine: Engine, branched: str) -> None:
    to_test = _at_validation(engine, 0, 2)
    assert _pending(engine, to_test) == [("validation", "remind")]
    engine.advance(to_test, "decide")
    assert _pending(engine, to_test) == [("test_run", "check_in")]
    back = _at_validation(engine, 0, 0)
    engine.advance(back, "decide")
    assert engine.get(back).stage == "idea"
    assert _pending(engine, back) == []
    assert {f["status"] for f in engine.list_follow_ups(project=back)} == {"cancelled"}


def test_the_wildcard_offers_what_the_machine_offers(engine: Engine, branched: str) -> None:
    project_id = _at_validation(engine, 40, 0)
    assert engine.advance(project_id, "pause").stage == "incubate"  # branch 2: score >= 30
    with pytest.raises(TriggerNotOffered, match="not available in stage 'incubate'"):
        engine.advance(project_id, "pause")


def test_check_reports_every_branch(engine: Engine, branched: str) -> None:
    project_id = _at_validation(engine, 60, 1)
    report = engine.check(project_id, "decide").as_dict()
    assert set(report) == {"project", "trigger", "from", "to", "passable", "criteria",
                           "missing", "branches"}
    assert (report["to"], report["passable"]) == ("incubate", True)
    assert [c["says"] for c in report["criteria"]] == ["score >= 50"]  # the branch taken
    assert [(b["to"], b["passable"]) for b in report["branches"]] == [
        ("test_run", False), ("incubate", True), ("idea", True)]
    assert all(set(b) == {"to", "passable", "criteria"} for b in report["branches"])
    assert report["branches"][0]["criteria"][0]["seen"] == {
        "role": "committee", "approvals": 1, "needed": 2}
    assert engine.get(project_id).stage == "validation"  # check changes nothing


def test_a_follow_up_fires_branches_through_the_same_function(engine: Engine,
                                                             branched: str) -> None:
    """The dispatcher calls ``Engine._advance_change(..., system=True)``."""
    project_id = _at_validation(engine, 60, 0)
    row = engine.get(project_id)
    compiled = engine.journey("branched", 1)
    change = engine._advance_change(row, compiled, "decide", None, None, False, None,
                                    engine.now(), system=True)
    assert not isinstance(change, GateReport)
    assert change.values["stage"] == "incubate"
    assert change.event["payload"]["branch"] == {"index": 1, "to": "incubate"}
    assert change.event["payload"]["follow_up"] is True
    assert change.cancel is True
    assert change.plan is None


def test_audit_accepts_every_branch_taken(engine: Engine, branched: str) -> None:
    for score, approvals in ((0, 0), (60, 0), (0, 2)):
        engine.advance(_at_validation(engine, score, approvals), "decide")
    report = audit(engine)
    assert report.ok, report.summary()
    assert report.checked["transitions"] >= 6


def test_many_threads_one_machine(engine: Engine, branched: str) -> None:
    compiled = engine.journey("branched", 1)
    machine = compiled.machine
    cases = [(score, approvals) for score in (0, 60) for approvals in (0, 2) for _ in range(2)]
    ids = [_at_validation(engine, score, approvals) for score, approvals in cases]
    start = threading.Barrier(len(ids))

    def decide(project_id: int) -> str:
        start.wait()
        return engine.advance(project_id, "decide").stage

    with ThreadPoolExecutor(len(ids)) as pool:
        stages = list(pool.map(decide, ids))
    assert stages == [expected_dest("validation", "decide", score, approvals)
                      for score, approvals in cases]
    assert engine.journey("branched", 1).machine is machine
    assert machine.models == []


# the CLI ---------------------------------------------------------------------------------


def test_cli_check_json_has_the_branches(engine: Engine, branched: str,
                                         store_url: str) -> None:
    project_id = _at_validation(engine, 10, 1)
    engine.advance(project_id, "decide")  # -> idea
    engine.advance(project_id, "submit")
    engine.approve(project_id, "committee", by="Arun")
    result = bompao(store_url, "project", "check", str(project_id), "decide", as_json=True)
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    assert data["passable"] is True
    assert data["to"] == "idea"
    assert data["criteria"] == data["branches"][2]["criteria"]
    assert [(b["to"], b["passable"]) for b in data["branches"]] == [
        ("test_run", False), ("incubate", False), ("idea", True)]
    human = bompao(store_url, "project", "check", str(project_id), "decide")
    assert human.returncode == 0, human.stderr
    lines = human.stdout.splitlines()
    assert lines[0] == (f"project {project_id}: decide from validation is passable: branch 3 "
                        "of 3 -> idea would be taken; branches are tried in order, the first "
                        "passable wins")
    assert lines[1] == "  1. -> test_run: not passable"
    assert lines[2].startswith("     [ ] 2 approvals from committee")
    assert "  3. -> idea: passable  <- taken" in lines


def test_cli_check_with_no_branch_passing_exits_1(engine: Engine, branched: str,
                                                  store_url: str) -> None:
    project_id = _at_validation(engine, 60, 0)
    engine.advance(project_id, "decide")
    result = bompao(store_url, "project", "check", str(project_id), "conclude", as_json=True)
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert (data["passable"], data["to"]) == (False, "done")
    assert [b["passable"] for b in data["branches"]] == [False, False]
    human = bompao(store_url, "project", "check", str(project_id), "conclude")
    assert human.returncode == 1
    assert "no branch's gate is met (an override takes branch 1 -> done)" in human.stdout


def test_the_documented_check_output_is_what_the_cli_prints(engine: Engine,
                                                            store_url: str) -> None:
    """``docs/journeys.md`` shows ``project check`` on its branches example."""
    from tests.definitions.test_docs_examples import DOC, branches_example  # noqa: PLC0415

    engine.publish(branches_example())
    project = engine.create_project("committee-decision", "Docs", fields={"score": 64})
    engine.advance(project.id, "submit")
    engine.approve(project.id, "committee", by="Arun")
    text = DOC.read_text(encoding="utf-8")
    shown = text[text.index("  ```text\n  project 7: decide"):]
    shown = shown[len("  ```text\n"):shown.index("  ```\n", 10)]
    documented = [line.removeprefix("  ") for line in shown.splitlines()]
    human = bompao(store_url, "project", "check", str(project.id), "decide")
    assert human.returncode == 0, human.stderr
    assert human.stdout.splitlines() == [
        line.replace("project 7:", f"project {project.id}:") for line in documented]


PARTNER = """\
journey: ngo-branches
version: 1
extends: social-incubator@1
partner: NGO Chiang Mai
transitions:
  - trigger: start_test_run
    from: validation
    branches:
      - to: test_run
        gate: {approval: {role: committee, count: 2}, says: {en: Two committee members}}
      - to: idea
        gate: {expr: "interviews_done < 3", says: {en: Fewer than 3 interviews}}
"""


def test_a_partner_journey_adds_branches_to_a_bundled_one(engine: Engine) -> None:
    assert engine.publish(PARTNER) == ("ngo-branches", 1)
    compiled = engine.journey("ngo-branches", 1)
    assert compiled.transition("validation", "start_test_run").dests == ("test_run", "idea")
    assert compiled.transition("idea", "validate").dests == ("validation",)  # the base's

    def at_validation(name: str, interviews: int) -> int:
        project = engine.create_project("ngo-branches", name,
                                        fields={"problem_statement": "x" * 30,
                                                "interviews_done": interviews})
        engine.add_evidence(project.id, "stakeholder_map", url="https://example.org/m")
        engine.approve(project.id, "coach", by="Malee")
        engine.advance(project.id, "validate")
        return project.id

    few, many = at_validation("Few", 1), at_validation("Many", 12)
    assert engine.advance(few, "start_test_run").stage == "idea"
    with pytest.raises(GateRefused):
        engine.advance(many, "start_test_run")
    for name in COMMITTEE[:2]:
        engine.approve(many, "committee", by=name)
    assert engine.advance(many, "start_test_run").stage == "test_run"
    assert engine.history(many)[-1].payload["branch"] == {"index": 0, "to": "test_run"}
