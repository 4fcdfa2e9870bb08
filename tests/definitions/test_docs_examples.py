"""The journeys in ``docs/journeys.md`` marked ``<!-- checked: ... -->`` compile and do
what the text around them says."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from bompao.definitions import CompiledJourney, GateContext, compile_journey

DOC = Path(__file__).resolve().parents[2] / "docs" / "journeys.md"
NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


def checked_blocks(kind: str = "yaml") -> list[str]:
    """The fenced ``kind`` blocks that follow a ``<!-- checked`` comment."""
    return re.findall(r"<!-- checked[^>]*-->\n```" + kind + r"\n(.*?)\n```", DOC.read_text(
        encoding="utf-8"), flags=re.DOTALL)


def branches_example() -> str:
    """The journey of the "Branches" section."""
    return next(block for block in checked_blocks() if "committee-decision" in block)


def _journey() -> CompiledJourney:
    return compile_journey(branches_example(), file="journeys.md")


def test_every_checked_example_compiles() -> None:
    blocks = checked_blocks()
    assert blocks
    for block in blocks:
        compile_journey(block, file="journeys.md")


def test_the_branches_example_does_what_the_text_says() -> None:
    journey = _journey()

    def decide(score: int, approvals: int) -> str:
        ctx = GateContext({"score": score}, {}, {"committee": approvals}, NOW, NOW)
        return str(journey.fire("validation", "decide", ctx).state)

    assert decide(64, 1) == "coaching"  # as the check output in the text shows
    assert decide(64, 2) == "test_run"  # the first passing branch wins
    assert decide(10, 0) == "idea"  # the "else"
    ctx = GateContext({"score": 50}, {}, {}, NOW, NOW)
    assert journey.fire("test_run", "conclude", ctx).taken is None  # no "else": refused
    assert journey.fire("test_run", "conclude", ctx, force=True).state == "withdrawn"
    # "*" is every non-final stage but the destination
    assert journey.transition("idea", "withdraw").sources == (
        "idea", "validation", "test_run", "coaching")


def test_the_indicators_example_does_what_the_text_says() -> None:
    text = next(block for block in checked_blocks() if "impact-example" in block)
    journey = compile_journey(text, file="journeys.md")
    reached = journey.indicators["people_reached"]
    assert (reached.type, reached.aggregate, str(reached.every), reached.owner,
            reached.target, reached.tags) == ("int", "sum", "1 month", "participant", 200,
                                              ["sdg:4.4", "iris:PI4060"])
    assert journey.indicators["still_operating"].aggregate == "last"  # the bool default
    assert reached.at_risk_after == 2
    # the reminder is a follow-up of the during stage, named for the indicator
    reminder = journey.stages["test_run"].follow_ups[-1]
    assert (reminder.name, reminder.action, reminder.spec.to) == (
        "indicator:people_reached", "notify", ["participant"])
    assert journey.stages["handoff"].follow_ups == ()
    (branch,) = journey.transitions[0].branches

    def gate(total: int, missing: int) -> bool:
        summary = {"people_reached": {"total": total, "missing": missing}}
        context = GateContext(fields={}, evidence={}, approvals={}, entered_at=NOW, now=NOW,
                              indicators=summary)
        return branch.evaluate(context, journey).met

    assert gate(200, 0)
    assert not gate(199, 0)
    assert not gate(250, 1)


def test_the_intake_example_does_what_the_text_says() -> None:
    text = next(block for block in checked_blocks() if "call-example" in block)
    journey = compile_journey(text, file="journeys.md")
    doc = journey.doc
    assert doc.application is not None
    assert doc.scoring is not None
    assert doc.coaching is not None
    assert doc.application.required == ["problem_statement"]
    assert (doc.scoring.reviewers, doc.scoring.normalise, doc.scoring.partner_conflict) == (
        3, "zscore", True)
    assert {n: c.weight for n, c in doc.scoring.rubric.items()} == {"need": 2, "team": 1}
    assert list(doc.coaching.topics) == ["idea_development", "model_and_plan",
                                         "project_management", "impact_measurement"]

    def select(**seen: object) -> bool:
        ctx = GateContext({}, {}, {}, NOW, NOW, intake=seen)
        return journey.fire("applied", "select", ctx).taken is not None

    assert select(**{"score.count": 3, "rank": 4})
    assert not select(**{"score.count": 1, "rank": 1})
    assert not select(**{"score.count": 3, "rank": 11})


def test_the_alumni_example_plans_its_check_ins() -> None:
    text = next(block for block in checked_blocks() if "alumni-example" in block)
    journey = compile_journey(text, file="journeys.md")
    check_ins = journey.stages["handoff"].follow_ups
    assert [(f.name, f.action, f.spec.to, str(f.spec.after)) for f in check_ins] == [
        ("check_in:6_months", "notify", ["participant"], "6 months"),
        ("check_in:12_months", "notify", ["participant"], "12 months"),
        ("check_in:24_months", "notify", ["participant"], "24 months")]
