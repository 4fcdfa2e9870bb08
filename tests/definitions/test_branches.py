"""Branches and the compiled ``transitions`` machine, without a database.

The machine is the one thing that resolves a trigger in a stage and fires it: branches
are its transitions tried in order, gates its conditions, stage exit/entry its
callbacks, ``from: "*"`` its wildcard. Each firing passes its own per-call model, so
one machine serves every project and thread.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from transitions import Machine

from bompao.definitions import CompiledJourney, GateContext, compile_journey
from bompao.definitions.diagram import diagram
from bompao.definitions.schema import journey_schema
from bompao.errors import CheckError, DefinitionError, SchemaError, TriggerNotOffered
from tests.definitions.test_extends import resolver
from tests.definitions.test_schema import accepted_by_schema

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)

BRANCHED = """\
journey: branched
version: 1
roles: [committee, boss]
override_roles: [boss]
fields:
  score: {type: int, default: 0}
stages:
  idea: {initial: true}
  validation:
    follow_ups: [{id: remind, after: 3 days, action: notify, to: [committee]}]
  test_run:
    follow_ups: [{id: check_in, every: 1 week, action: notify, to: [committee]}]
  incubate: {}
  paused: {}
  archive: {final: true}
  done: {final: true}
transitions:
  - {trigger: submit, from: idea, to: validation}
  - trigger: decide
    from: validation
    branches:
      - to: test_run
        gate: {approval: {role: committee, count: 2}}
      - to: incubate
        gate: {expr: "score >= 50"}
      - to: idea
  - trigger: conclude
    from: [test_run, incubate]
    branches:
      - to: done
        gate: {expr: "score >= 80"}
      - to: archive
        gate: {expr: "score < 20"}
  - trigger: pause
    from: "*"
    branches:
      - to: paused
        gate: {expr: "score < 30"}
      - to: incubate
  - {trigger: resume, from: paused, to: idea}
"""
"""Three branched transitions: one with an "else", one that can refuse, one from "*"."""


def expected_dest(stage: str, trigger: str, score: int, approvals: int) -> str | None:
    """Where the journey above leads, written out by hand (the oracle); None: refused."""
    if trigger == "decide" and stage == "validation":
        if approvals >= 2:
            return "test_run"
        return "incubate" if score >= 50 else "idea"
    if trigger == "conclude" and stage in ("test_run", "incubate"):
        if score >= 80:
            return "done"
        return "archive" if score < 20 else None
    if trigger == "pause" and stage in ("idea", "validation", "test_run"):
        return "paused" if score < 30 else "incubate"
    if trigger == "submit" and stage == "idea":
        return "validation"
    if trigger == "resume" and stage == "paused":
        return "idea"
    raise AssertionError(f"the oracle does not offer {trigger!r} in {stage!r}")


OFFERED = {  # by hand: what each stage offers ("*" is every non-final stage but the dests)
    "idea": ["submit", "pause"], "validation": ["decide", "pause"],
    "test_run": ["conclude", "pause"], "incubate": ["conclude"], "paused": ["resume"],
    "archive": [], "done": [],
}


@pytest.fixture(scope="module")
def journey() -> CompiledJourney:
    return compile_journey(BRANCHED, file="branched.yaml")


def context(score: int = 0, approvals: int = 0) -> GateContext:
    return GateContext({"score": score}, {}, {"committee": approvals}, NOW, NOW)


def _problems(text: str) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        compile_journey(text, file="j.yaml")
    return [str(d) for d in caught.value.diagnostics]


# the model and the checks ----------------------------------------------------------------


def test_branches_compile_in_order(journey: CompiledJourney) -> None:
    decide = journey.transition("validation", "decide")
    assert decide.branched
    assert decide.dests == ("test_run", "incubate", "idea")
    assert [b.index for b in decide.branches] == [0, 1, 2]
    assert decide.branches[2].gate is None
    assert journey.branches("validation", "decide") == decide.branches
    assert not journey.transition("idea", "submit").branched


def test_to_and_branches_exclude_each_other() -> None:
    both = BRANCHED.replace("    from: validation\n", "    from: validation\n    to: idea\n")
    lines = _problems(both)
    assert len(lines) == 1
    assert lines[0].startswith("j.yaml:23:7: error: transitions[1].branches: 'to' and "
                               "'branches' exclude each other"), lines


def test_gate_beside_branches_is_refused() -> None:
    text = BRANCHED.replace("    from: validation\n",
                            "    from: validation\n    gate: {expr: \"score > 1\"}\n")
    assert any("'gate' and 'branches' exclude each other" in line for line in _problems(text))


def test_neither_to_nor_branches_is_refused_with_other_problems() -> None:
    text = BRANCHED.replace("  - {trigger: resume, from: paused, to: idea}",
                            "  - {trigger: resume, from: paused, gate: {bogus: 1}}")
    lines = _problems(text)
    assert any("transitions[4]: a transition needs 'to' (one destination) or 'branches'"
               in line for line in lines), lines
    assert any("unknown key 'bogus'" in line for line in lines), lines  # reported together


def test_a_null_to_is_no_destination() -> None:
    """Found by the structural mutants: ``to: null`` without branches."""
    text = BRANCHED.replace("{trigger: resume, from: paused, to: idea}",
                            "{trigger: resume, from: paused, to: null}")
    assert _problems(text) == [("j.yaml:40:5: error: transitions[4]: a transition needs 'to' "
                               "(one destination) or 'branches' (several, tried in order)")]


def test_an_empty_branch_list_is_refused() -> None:
    text = BRANCHED.replace("""      - to: paused
        gate: {expr: "score < 30"}
      - to: incubate
""", "").replace("    from: \"*\"\n    branches:\n", "    from: \"*\"\n    branches: []\n")
    with pytest.raises(SchemaError) as caught:
        compile_journey(text, file="j.yaml")
    assert "branches" in str(caught.value)


def test_unknown_stage_in_a_branch_is_positioned() -> None:
    lines = _problems(BRANCHED.replace("      - to: incubate\n        gate",
                                       "      - to: incubat\n        gate"))
    assert lines[0].startswith("j.yaml:24:13: error: unknown stage 'incubat' (did you mean "
                               "'incubate'?)"), lines


def test_a_branch_after_a_gateless_one_is_an_error() -> None:
    text = BRANCHED.replace("      - to: idea\n  - trigger: conclude",
                            "      - to: idea\n      - to: paused\n  - trigger: conclude")
    lines = _problems(text)
    assert lines == [("j.yaml:27:9: error: branch 4 of 'decide' (to 'paused') can never be "
                     "taken: branch 3 before it has no gate and always wins; give that branch "
                     "a gate or move it last")]


def test_a_gate_in_a_branch_is_checked() -> None:
    lines = _problems(BRANCHED.replace('"score >= 50"', '"scor >= 50"'))
    assert len(lines) == 1, lines
    assert "transitions[1].branches[1].gate.expr: CEL" in lines[0], lines


def test_reachability_considers_every_branch() -> None:
    # 'incubate' and 'idea' are reached only through later branches of 'decide'/'pause'
    compile_journey(BRANCHED, file="j.yaml")
    only_first = BRANCHED.replace("""      - to: incubate
        gate: {expr: "score >= 50"}
      - to: idea
""", "      - to: idea\n").replace("""      - to: paused
        gate: {expr: "score < 30"}
      - to: incubate
""", "      - to: paused\n")
    lines = _problems(only_first)
    assert any("stage 'incubate' cannot be reached" in line for line in lines), lines


def test_dead_ends_consider_every_branch() -> None:
    # 'paused' leaves only by 'resume'; dropping it makes paused a dead end
    lines = _problems(BRANCHED.replace("  - {trigger: resume, from: paused, to: idea}\n", ""))
    assert any("stage 'paused' is not final and has no way out" in line for line in lines)


def test_a_branched_wildcard_does_not_lead_from_one_destination_to_another() -> None:
    # from '*' excludes every destination of the transition, as the machine does: 'side'
    # is not a way in from 'start', so 'side' cannot be reached, and that is reported
    # (the ordering of findings once read the wildcard per branch and dropped it)
    text = """journey: j
version: 1
stages:
  start: {initial: true}
  side: {}
  done: {final: true}
transitions:
  - trigger: jump
    from: "*"
    branches:
      - {to: side, gate: {expr: "days_in_stage > 3"}}
      - {to: start}
  - {trigger: finish, from: side, to: done}
"""
    lines = _problems(text)
    assert any("stage 'side' cannot be reached" in line for line in lines), lines
    journey = compile_journey(text.replace("  - {trigger: finish", "  - {trigger: go, from: "
                                           "start, to: side}\n  - {trigger: finish"),
                              file="j.yaml")
    assert journey.machine.get_triggers("start") == ["go"]


# the machine -------------------------------------------------------------------------------


def test_the_machine_holds_one_transition_per_branch_in_order(journey: CompiledJourney) -> None:
    machine = journey.machine
    assert isinstance(machine, Machine)
    found = machine.events["decide"].transitions["validation"]
    assert [t.dest for t in found] == ["test_run", "incubate", "idea"]
    assert [t.branch.index for t in found] == [0, 1, 2]
    assert all(t.compiled is journey.transition("validation", "decide") for t in found)
    assert machine.models == []


def test_the_wildcard_is_the_machine_s(journey: CompiledJourney) -> None:
    """``"*"`` reaches every non-final stage that is none of the branches' destinations."""
    wildcard = journey.machine.events["pause"].transitions
    assert sorted(wildcard) == ["idea", "test_run", "validation"]
    assert journey.transition("idea", "pause").sources == ("idea", "validation", "test_run")
    assert {stage: journey.triggers(stage) for stage in journey.stages} == OFFERED
    with pytest.raises(TriggerNotOffered, match="not available in stage 'paused'"):
        journey.fire("paused", "pause", context())


@pytest.mark.parametrize("score", [0, 19, 20, 29, 30, 49, 50, 79, 80, 100])
@pytest.mark.parametrize("approvals", [0, 1, 2, 3])
def test_first_passing_branch_wins(journey: CompiledJourney, score: int,
                                   approvals: int) -> None:
    for stage, triggers in OFFERED.items():
        for trigger in triggers:
            firing = journey.fire(stage, trigger, context(score, approvals))
            want = expected_dest(stage, trigger, score, approvals)
            if want is None:
                assert firing.taken is None
                assert firing.state == stage
                assert firing.steps == []
                assert not firing.cancel
                assert not firing.plan
                assert len(firing.tried) == len(journey.branches(stage, trigger))
            else:
                assert firing.state == want == firing.taken.dest if firing.taken else False
                assert firing.steps == [("exit", stage), ("enter", want)]
                # the gates tried: every branch up to the one taken, in order, none after
                assert [b.index for b, _ in firing.tried] == list(
                    range(firing.taken.index + 1))
                assert [r.met for _, r in firing.tried][-1] is True
                assert not any(r.met for _, r in firing.tried[:-1])


class _Model:
    """A model for the unmodified library machine below."""

    def __init__(self, stage: str, ctx: GateContext, force: bool) -> None:
        self.state, self.context, self.force = stage, ctx, force
        self.steps: list[tuple[str, str]] = []


def _library_machine(journey: CompiledJourney) -> Machine:
    """The same journey on a plain ``transitions.Machine`` (no subclass, the library's own
    firing path): the oracle for the journey machine's leaner one."""

    def passes(index: int, branch: Any) -> Any:
        return lambda event: (branch.evaluate(event.model.context, journey).met
                              or (event.model.force and index == 0))

    def exited(event: Any) -> None:
        event.model.steps.append(("exit", event.transition.source))

    def entered(event: Any) -> None:
        event.model.steps.append(("enter", event.transition.dest))

    machine = Machine(model=None, initial=journey.initial, auto_transitions=False,
                      send_event=True, states=[
                          {"name": name, "on_exit": [exited], "on_enter": [entered]}
                          for name in journey.stages])
    for transition in journey.transitions:
        for index, branch in enumerate(transition.branches):
            machine.add_transition(transition.trigger, list(transition.sources), branch.dest,
                                   conditions=[passes(index, branch)])
    return machine


def test_the_journey_machine_fires_as_the_library_does(journey: CompiledJourney) -> None:
    library = _library_machine(journey)
    for stage, triggers in OFFERED.items():
        for trigger in triggers:
            for score in (0, 25, 60, 90):
                for approvals in (0, 2):
                    for force in (False, True):
                        model = _Model(stage, context(score, approvals), force)
                        taken = library.events[trigger].trigger(model)
                        firing = journey.fire(stage, trigger, context(score, approvals),
                                              force=force)
                        assert (firing.state, firing.steps, firing.taken is not None) == (
                            model.state, model.steps, taken), (stage, trigger, score, force)


def test_the_callbacks_collect_what_to_cancel_and_plan(journey: CompiledJourney) -> None:
    to_test_run = journey.fire("validation", "decide", context(approvals=2))
    assert (to_test_run.cancel, to_test_run.plan) == (True, True)
    back = journey.fire("validation", "decide", context())
    assert (back.state, back.cancel, back.plan) == ("idea", True, False)
    submit = journey.fire("idea", "submit", context())
    assert (submit.cancel, submit.plan) == (False, True)


def test_force_takes_the_first_branch_when_no_gate_passes(journey: CompiledJourney) -> None:
    refused = journey.fire("test_run", "conclude", context(score=50))
    assert refused.taken is None
    forced = journey.fire("test_run", "conclude", context(score=50), force=True)
    assert forced.state == "done"
    assert forced.taken is not None
    assert forced.taken.index == 0


def test_one_machine_even_when_first_used_by_many_threads() -> None:
    fresh = compile_journey(BRANCHED, file="j.yaml")
    start = threading.Barrier(16)

    def first_use(_: int) -> int:
        start.wait()
        return id(fresh.machine)

    with ThreadPoolExecutor(16) as pool:
        seen = set(pool.map(first_use, range(16)))
    assert seen == {id(fresh.machine)}


def test_threads_fire_the_shared_machine_at_once(journey: CompiledJourney) -> None:
    """No lock: the machine is only read while firing; each firing has its own model."""
    machine = journey.machine
    cases = [(stage, trigger, score, approvals)
             for stage, triggers in OFFERED.items() for trigger in triggers
             for score in (0, 25, 60, 90) for approvals in (0, 2)]
    start = threading.Barrier(8)

    def worker(offset: int) -> list[str]:
        start.wait()
        wrong = []
        for n in range(400):
            stage, trigger, score, approvals = cases[(n * 7 + offset) % len(cases)]
            firing = journey.fire(stage, trigger, context(score, approvals))
            want = expected_dest(stage, trigger, score, approvals)
            if firing.state != (want or stage) or (firing.taken is None) != (want is None):
                wrong.append(f"{stage} {trigger} {score} {approvals}: {firing.state}")
        return wrong

    with ThreadPoolExecutor(8) as pool:
        wrong = [line for lines in pool.map(worker, range(8)) for line in lines]
    assert wrong == []
    assert journey.machine is machine
    assert machine.models == []
    assert not machine._transition_queue


# extends, partners, schema, diagrams --------------------------------------------------------

BASE = """\
journey: base
version: 1
roles: [coach]
fields:
  score: {type: int, default: 0}
stages:
  a: {initial: true}
  b: {}
  c: {final: true}
  d: {final: true}
transitions:
  - trigger: go
    from: a
    branches:
      - {to: b, gate: {expr: "score > 1"}}
      - {to: d}
  - {trigger: finish, from: b, to: c}
"""


def test_extends_replaces_a_branched_transition_by_trigger_and_from() -> None:
    text = """\
journey: child
version: 1
extends: base@1
transitions:
  - {trigger: go, from: a, to: b}
  - {trigger: skip, from: a, to: d}
"""
    journey = compile_journey(text, file="child.yaml", resolve=resolver(BASE))
    assert not journey.transition("a", "go").branched
    assert journey.transition("a", "go").dests == ("b",)
    assert journey.transition("a", "go").gate is None
    assert [t.trigger for t in journey.transitions] == ["go", "finish", "skip"]


def test_a_partner_journey_adds_branches() -> None:
    text = """\
journey: partner
version: 1
extends: base@1
partner: NGO Chiang Mai
stages:
  review: {}
transitions:
  - trigger: finish
    from: b
    branches:
      - {to: review, gate: {expr: "score < 5"}}
      - {to: c}
  - {trigger: close, from: review, to: c}
"""
    journey = compile_journey(text, file="partner.yaml", resolve=resolver(BASE))
    assert journey.transition("b", "finish").dests == ("review", "c")
    assert journey.fire("b", "finish", context(score=3)).state == "review"
    assert journey.fire("b", "finish", context(score=9)).state == "c"
    assert journey.transition("a", "go").dests == ("b", "d")  # the base's branches stay


def test_removing_a_stage_drops_the_branches_into_it() -> None:
    text = """\
journey: child
version: 1
extends: base@1
remove: {stages: [d]}
"""
    journey = compile_journey(text, file="child.yaml", resolve=resolver(BASE))
    assert journey.transition("a", "go").dests == ("b",)


def test_extends_positions_a_problem_in_a_partner_s_branch() -> None:
    text = """\
journey: child
version: 1
extends: base@1
transitions:
  - trigger: go
    from: a
    branches:
      - {to: nowhere}
"""
    with pytest.raises(CheckError) as caught:
        compile_journey(text, file="child.yaml", resolve=resolver(BASE))
    assert any(str(d).startswith("child.yaml:8:14: error: unknown stage 'nowhere'")
               for d in caught.value.diagnostics), caught.value.diagnostics


def test_the_schema_knows_branches() -> None:
    schema = journey_schema()
    assert accepted_by_schema(BRANCHED, schema)
    branch = schema["$defs"]["BranchSpec"]
    assert set(branch["properties"]) == {"to", "gate", "title"}
    assert branch["required"] == ["to"]
    assert branch.get("additionalProperties") is False
    assert not accepted_by_schema(BRANCHED.replace("      - to: idea\n",
                                                   "      - to: idea\n        bogus: 1\n"),
                                  schema)
    transition = schema["$defs"]["TransitionSpec"]
    assert "to" not in transition.get("required", [])
    data: Any = yaml.safe_load(BRANCHED)
    plain = {"trigger": "t", "from": "idea", "to": "done"}
    branched = {"trigger": "t", "from": "idea", "branches": [{"to": "done"}]}
    for item in data["transitions"]:
        assert _fits(item, transition) == 1, item
    assert _fits(plain, transition) == 1
    assert _fits({**branched, "to": "done"}, transition) == 0
    assert _fits({**branched, "gate": {"expr": "true"}}, transition) == 0
    assert _fits({"trigger": "t", "from": "idea"}, transition) == 0


def _holds(item: dict[str, Any], node: dict[str, Any]) -> bool:
    """The ``required``/``not``/``anyOf`` keywords, evaluated by hand."""
    if "required" in node and not all(key in item for key in node["required"]):
        return False
    if "not" in node and _holds(item, node["not"]):
        return False
    return "anyOf" not in node or any(_holds(item, sub) for sub in node["anyOf"])


def _fits(item: dict[str, Any], transition: dict[str, Any]) -> int:
    """How many of the schema's ``oneOf`` alternatives ``item`` fits."""
    return sum(_holds(item, alternative) for alternative in transition["oneOf"])


def test_the_diagram_draws_every_branch(journey: CompiledJourney) -> None:
    text = diagram(journey, "mermaid")
    for dest in ("test_run", "incubate", "idea"):
        assert f"validation --> {dest}: decide" in text, text
    assert "test_run --> archive: conclude" in text
    assert "idea --> incubate: pause" in text
