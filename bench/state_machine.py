"""The transitions step of one advance: the journey's ``transitions`` machine firing on a
per-call model, side by side with a plain dict lookup doing the same resolution.

Run from the repository root: ``python -m bench state_machine`` (``--quick``: fewer
rounds). Target (issue 10): the transitions step itself under 10 µs per advance. (Not
named ``transitions.py``: this folder is on ``sys.path``, where that name would hide
the ``transitions`` library itself.)

What is timed is only what the machine does for an advance, without the database:
resolve ``(trigger, stage)``, try the branches' gates in order, run the exit and entry
callbacks that say what to cancel and plan, and set the model's stage. The baseline
does the same with a ``dict`` keyed by ``(trigger, stage)`` (what the engine did before
the machine did the work). Both run alternately in rounds of many calls; the figure
is the best round's per-call time (as ``timeit`` advises: the round least disturbed
by other work on a shared machine), with the medians beside it.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from _table import Row, print_table

TARGET_US = 10.0

JOURNEY = """\
journey: bench-transitions
version: 1
roles: [committee]
fields:
  score: {type: int, default: 0}
stages:
  idea:
    initial: true
    follow_ups: [{after: 3 days, action: notify, to: [committee]}]
  validation:
    follow_ups: [{after: 3 days, action: notify, to: [committee]}]
  test_run: {}
  incubate: {}
  done: {final: true}
transitions:
  - {trigger: submit, from: idea, to: validation}
  - {trigger: gated, from: idea, to: validation, gate: {expr: "score >= 10"}}
  - trigger: decide
    from: validation
    branches:
      - {to: test_run, gate: {approval: {role: committee, count: 2}}}
      - {to: incubate, gate: {expr: "score >= 50"}}
      - {to: idea}
  - {trigger: finish, from: [test_run, incubate], to: done}
"""


def per_call_us(function: Callable[[], Any], calls: int) -> float:
    """Microseconds per call of ``function`` over ``calls`` calls."""
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls * 1e6


def side_by_side(measured: Callable[[], Any], baseline: Callable[[], Any], *, rounds: int,
                 calls: int) -> tuple[list[float], list[float]]:
    """µs per call of ``measured`` and ``baseline`` in each round, run alternately."""
    ours, theirs = [], []
    for _ in range(rounds):
        ours.append(per_call_us(measured, calls))
        theirs.append(per_call_us(baseline, calls))
    return ours, theirs


def main(argv: list[str] | None = None) -> list[Row]:
    """Measure, print the table, and return its rows."""
    parser = argparse.ArgumentParser(prog="python -m bench state_machine")
    parser.add_argument("--quick", action="store_true")
    options, _ = parser.parse_known_args(argv or [])
    rounds, calls = (5, 2_000) if options.quick else (15, 10_000)

    from bompao.definitions import GateContext, compile_journey  # noqa: PLC0415

    journey = compile_journey(JOURNEY, file="bench-transitions.yaml")
    now = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    context = GateContext({"score": 60}, {}, {"committee": 0}, now, now)
    stages = journey.stages
    # the baseline: (trigger, stage) -> transition, as a table beside the machine would be
    table = {(t.trigger, stage): t for t in journey.transitions for stage in t.sources}

    def lookup(trigger: str, stage: str) -> Callable[[], Any]:
        def run() -> tuple[str, bool, bool]:
            found = table[(trigger, stage)]
            for branch in found.branches:
                if branch.gate is None or branch.evaluate(context, journey).met:
                    dest = branch.dest
                    return dest, bool(stages[stage].follow_ups), bool(stages[dest].follow_ups)
            return stage, False, False
        return run

    def fire(trigger: str, stage: str, want: str) -> Callable[[], Any]:
        assert journey.fire(stage, trigger, context).state == want
        return lambda: journey.fire(stage, trigger, context)

    rows: list[Row] = []
    cases = (("no gate", "submit", "idea", "validation"),
             ("one CEL gate", "gated", "idea", "validation"),
             ("3 branches, 2nd taken", "decide", "validation", "incubate"))
    for label, trigger, stage, want in cases:
        assert lookup(trigger, stage)()[0] == want
        ours, theirs = side_by_side(fire(trigger, stage, want), lookup(trigger, stage),
                                    rounds=rounds, calls=calls)
        target = TARGET_US if label == "no gate" else None
        rows.append(Row(f"transitions step per advance ({label}): machine.fire", min(ours),
                        " µs", target, "<", 2))
        rows.append(Row("  dict lookup doing the same (baseline, side by side)", min(theirs),
                        " µs", None, "<", 2))
        rows.append(Row("  machine / baseline", min(ours) / min(theirs), "x", None, "<", 1))
        rows.append(Row("  median of the rounds: machine.fire", statistics.median(ours),
                        " µs", None, "<", 2))
        rows.append(Row("  median of the rounds: dict lookup", statistics.median(theirs),
                        " µs", None, "<", 2))
    print_table(rows, "transitions: the state machine's step of one advance")
    return rows


if __name__ == "__main__":
    main()
