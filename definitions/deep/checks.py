"""The deep checks: what can never happen in a valid journey, proved with Z3.

Each gate becomes one Z3 formula over the journey's vocabulary (fields within their
types and ``min``/``max``, evidence, approval counts, time in stage). Findings:

- a gate no values can satisfy (pointed at the expression that can never be true, or
  at the criterion whose conflict the solver's unsat core names);
- a gate that cannot pass *in a stage* because a follow-up ``action: transition``
  that always succeeds leaves the stage first (e.g. a longer ``min_time_in_stage``);
- a follow-up that can never fire: due after such a follow-up has left, or one whose
  transition's gate can never pass;
- a stage that can never be entered, and a stage from which no final stage can be
  reached, through gates that can pass (an override counts as a way to pass);
- notes: an expression outside the subset (not checked), and what is assumed of
  approvals (the journey declares roles, not people).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import z3

from bompao.definitions.compiled import CompiledJourney
from bompao.definitions.deep.cel import OutsideSubset, parse
from bompao.definitions.deep.smt import Vocabulary, translate
from bompao.definitions.durations import Duration
from bompao.definitions.messages import Joined, Message, Texts, localise
from bompao.definitions.model import Criterion, FollowUpSpec
from bompao.definitions.source import Source
from bompao.definitions.texts import LANGUAGES, duration_text
from bompao.definitions.ways import Way, ways

__all__ = ["SOLVER_TIMEOUT_MS", "Finding", "day_bounds", "deep_findings"]

SOLVER_TIMEOUT_MS = 2000
"""How long one solver call may take; past it the question counts as undecided."""

DocPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Finding:
    """One deep-check finding at a 1-based position; ``severity`` is error or note.

    ``message`` is a :class:`~bompao.definitions.messages.Message`: English as text
    (and in :meth:`as_dict`), in Thai with :meth:`text`.
    """

    file: str
    line: int
    column: int
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return self.text("en")

    def text(self, lang: str) -> str:
        """``FILE:LINE:COL: SEVERITY: MESSAGE`` with the message in ``lang`` (the prefix
        stays English, as diagnostics' ``error:`` does, so tools can read it)."""
        return (f"{self.file}:{self.line}:{self.column}: {self.severity}: "
                f"{localise(self.message, lang)}")

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {"file": self.file, "line": self.line, "column": self.column,
                "severity": self.severity, "message": self.message}


def day_bounds(duration: Duration) -> tuple[float, float]:
    """The fewest and most days ``duration`` can last from any start (months vary from
    28 to 31 days, years by a leap day, business days by weekends and holidays; a day
    by a daylight-saving hour)."""
    n, hour = duration.count, 1 / 24
    if duration.unit == "day":
        return n - hour, n + hour
    if duration.unit == "week":
        return 7 * n - hour, 7 * n + hour
    if duration.unit == "month":
        return max(0.0, n * 30.436875 - 3), n * 30.436875 + 3
    if duration.unit == "year":
        return 365 * n - hour, 366 * n + hour
    # business days: at least n days; at most n weekdays plus up to 30 holidays a year
    return n - hour, (n + 30 * (n / 250 + 1)) * 7 / 5 + 3


@dataclass(frozen=True)
class _Leave:
    """A follow-up that always takes a stage's projects elsewhere at ``due``."""

    due: Duration
    name: str
    trigger: str
    path: DocPath

    def text(self) -> Message:
        return Message("deep.leave", name=self.name, due=_duration(self.due),
                       trigger=self.trigger)


def _duration(duration: Duration) -> Texts:
    return Texts({lang: duration_text(duration, lang) for lang in LANGUAGES})


def _first_due(spec: FollowUpSpec) -> Duration | None:
    return spec.after if spec.after is not None else spec.every


def _follow_up_name(spec: FollowUpSpec, index: int) -> str:
    return spec.id or f"#{index + 1} ({spec.action})"


class _Deep:
    def __init__(self, journey: CompiledJourney, source: Source) -> None:
        self.journey = journey
        self.source = source
        self.vocabulary = Vocabulary(journey.doc.fields)
        self.findings: list[Finding] = []
        self._reported: set[Finding] = set()
        self._formulas: dict[DocPath, Any] = {}
        self._noted: set[DocPath] = set()
        self._solver = z3.Solver()
        self._solver.set("timeout", SOLVER_TIMEOUT_MS)
        self._asserted = 0

    # -- reporting --------------------------------------------------------------------
    def report(self, path: DocPath, message: str, *, severity: str = "error",
               key: bool = False) -> None:
        mark = self.source.mark(path, key=key)
        if severity == "note" and mark.file != self.source.file:
            return  # a note on a base journey's text belongs to validating the base
        finding = Finding(mark.file, mark.line, mark.column, message, severity)
        if finding not in self._reported:
            self._reported.add(finding)
            self.findings.append(finding)

    def raw(self, path: DocPath) -> Any:
        node: Any = self.source.data
        for step in path:
            try:
                node = node[step]
            except (KeyError, IndexError, TypeError):
                return None
        return node

    # -- formulas ---------------------------------------------------------------------
    def children(self, criterion: Criterion, path: DocPath) -> list[tuple[Criterion, DocPath]]:
        kind = criterion.kind
        if kind == "not":
            assert criterion.not_ is not None
            return [(criterion.not_, (*path, "not"))]
        items = (criterion.all_ if kind == "all" else criterion.any_) or []
        base = path if isinstance(self.raw(path), list) else (*path, kind)
        return [(child, (*base, index)) for index, child in enumerate(items)]

    def leaf_path(self, criterion: Criterion, path: DocPath) -> DocPath:
        node = self.raw(path)
        kind = criterion.kind
        return (*path, kind) if isinstance(node, dict) and kind in node else path

    def formula(self, criterion: Criterion, path: DocPath) -> Any:
        if path in self._formulas:
            return self._formulas[path]
        kind = criterion.kind
        result: Any
        if kind in ("all", "any", "not"):
            parts = [self.formula(child, at) for child, at in self.children(criterion, path)]
            result = z3.And(*parts) if kind == "all" else z3.Or(*parts) if kind == "any" \
                else z3.Not(parts[0])
        elif kind == "expr":
            result = self.expression(str(criterion.expr), self.leaf_path(criterion, path))
        elif kind == "evidence":
            result = self.vocabulary.evidence(str(criterion.evidence))
        elif kind == "approval":
            assert criterion.approval is not None
            count, _ = self.vocabulary.approvals(criterion.approval.role)
            result = count >= criterion.approval.count
        else:
            # met at some time between the fewest and the most days the duration can
            # last: surely met from the most, surely not before the fewest, either in
            # between (a bare "T >= fewest" would make "not: min_time_in_stage" wrongly
            # impossible beside days_in_stage: 1 month that lasts 31 days, 5 business
            # days over a weekend)
            assert criterion.min_time_in_stage is not None
            fewest, most = day_bounds(criterion.min_time_in_stage)
            time = self.vocabulary.time
            result = z3.Bool(f"min_time:{'/'.join(map(str, path))}")
            self.vocabulary.constraints += [z3.Implies(time >= most, result),
                                            z3.Implies(time < fewest, z3.Not(result))]
        self._formulas[path] = result
        return result

    def expression(self, text: str, path: DocPath) -> Any:
        try:
            return translate(parse(text), self.vocabulary)
        except (OutsideSubset, RecursionError) as exc:
            if isinstance(exc, RecursionError):
                exc = OutsideSubset(Message("subset.nesting"))
            if path not in self._noted:
                self._noted.add(path)
                what = exc.args[0] if exc.args else str(exc)
                self.report(path, Message("deep.not_checked", text=text, what=what),
                            severity="note")
            return z3.Bool(f"unknown:{path}")

    def solve(self, formulas: Sequence[Any]) -> Any:
        # one incremental solver: the vocabulary's facts are asserted once, each
        # question inside push/pop (several times faster than a solver per question)
        solver = self._solver
        facts = self.vocabulary.constraints
        solver.add(*facts[self._asserted:])
        self._asserted = len(facts)
        solver.push()
        try:
            solver.add(*formulas)
            return solver.check()
        finally:
            solver.pop()

    def conjuncts(self, criterion: Criterion, path: DocPath) -> list[tuple[Criterion, DocPath]]:
        if criterion.kind != "all":
            return [(criterion, path)]
        return [item for child, at in self.children(criterion, path)
                for item in self.conjuncts(child, at)]

    def describe(self, criterion: Criterion) -> Message:
        kind = criterion.kind
        if kind == "expr":
            return Message("deep.expression", expr=criterion.expr)
        if kind == "min_time_in_stage" and criterion.min_time_in_stage is not None:
            return Message("deep.min_time", duration=_duration(criterion.min_time_in_stage))
        if kind == "approval" and criterion.approval is not None:
            approval = criterion.approval
            return Message("deep.approval", role=approval.role, count=approval.count)
        if kind == "evidence":
            return Message("deep.evidence", name=criterion.evidence)
        if kind == "not" and criterion.not_ is not None:
            return Message("deep.not", what=self.describe(criterion.not_))
        return Message("deep.this", kind=kind)

    def fields_text(self, text: str) -> Message | str:
        parts = []
        for name, spec in self.journey.doc.fields.items():
            if name in text and spec.type not in ("date", "datetime"):
                bounds = Joined((Message(f"deep.{k}", value=v)
                                 for k, v in (("min", spec.min), ("max", spec.max))
                                 if v is not None), "")
                parts.append(Message("deep.field", name=name, type=spec.type, bounds=bounds))
        return Message("deep.fields", parts=Joined(parts, "; ")) if parts else ""

    # -- checks -----------------------------------------------------------------------
    def run(self) -> list[Finding]:
        all_ways = list(ways(self.journey))
        leaves = self.leaves(all_ways)
        passable = self.gates(all_ways, leaves)
        self.follow_ups(all_ways, leaves, passable)
        self.reachability(all_ways, passable, leaves)
        self.approvals_note()
        self.findings.sort(key=lambda f: (f.file, f.line, f.column, f.severity))
        return self.findings

    def leaves(self, all_ways: list[Way]) -> dict[str, _Leave]:
        """Per stage, the earliest follow-up ``action: transition`` that always succeeds."""
        result: dict[str, _Leave] = {}
        for stage_name, stage in self.journey.stages.items():
            for index, spec in enumerate(f.spec for f in stage.follow_ups):
                due = _first_due(spec)
                if spec.action != "transition" or due is None or spec.trigger is None:
                    continue
                # with branches, one trigger has several ways: one that always passes
                # (an "else" without a gate) is enough
                taken = [w for w in all_ways if w.source == stage_name
                         and w.trigger == spec.trigger]
                if not taken or not (spec.force or any(w.gate is None or self.always(w, due)
                                                       for w in taken)):
                    continue
                current = result.get(stage_name)
                if current is None or day_bounds(due)[1] < day_bounds(current.due)[1]:
                    result[stage_name] = _Leave(due, _follow_up_name(spec, index), spec.trigger,
                                                ("stages", stage_name, "follow_ups", index))
        return result

    def always(self, way: Way, due: Duration) -> bool:
        assert way.gate is not None
        low, high = day_bounds(due)
        gate = self.formula(way.gate, way.path)
        time = self.vocabulary.time
        return bool(self.solve([time >= low, time <= high, z3.Not(gate)]) == z3.unsat)

    def gates(self, all_ways: list[Way], leaves: dict[str, _Leave]) -> dict[Way, bool]:
        """Per way, whether its gate can pass in its stage (overrides aside)."""
        passable: dict[Way, bool] = {}
        never: set[DocPath] = set()  # by gate position: branches of one trigger differ
        for way in all_ways:
            if way.gate is None:
                passable[way] = True
                continue
            gate = self.formula(way.gate, way.path)
            if way.path not in never and self.solve([gate]) == z3.unsat:
                never.add(way.path)
                self.explain(way, None)
            if way.path in never:
                passable[way] = False
                continue
            leave = leaves.get(way.source)
            if leave is not None and leave.trigger != way.trigger and self.solve(
                    [gate, self.vocabulary.time <= day_bounds(leave.due)[1]]) == z3.unsat:
                self.explain(way, leave)
                passable[way] = False
                continue
            passable[way] = True
        return passable

    def explain(self, way: Way, leave: _Leave | None) -> None:
        assert way.gate is not None
        where = Message("deep.gate_of", trigger=way.trigger)
        if leave is None:
            for criterion, path in self.conjuncts(way.gate, way.path):
                if criterion.kind == "expr":
                    at = self.leaf_path(criterion, path)
                    if self.solve([self.formula(criterion, path)]) == z3.unsat:
                        self.report(at, Message("deep.never_true", where=where,
                                                expr=criterion.expr,
                                                fields=self.fields_text(str(criterion.expr))))
                        return
        items = self.conjuncts(way.gate, way.path)
        solver = z3.Solver()
        solver.set("timeout", SOLVER_TIMEOUT_MS)
        solver.add(*self.vocabulary.constraints)
        labels = {}
        for number, (criterion, path) in enumerate(items):
            label = z3.Bool(f"criterion:{number}")
            labels[str(label)] = (criterion, path)
            solver.assert_and_track(self.formula(criterion, path), label)
        if leave is not None:
            solver.add(self.vocabulary.time <= day_bounds(leave.due)[1])
        solver.check()
        named = {str(c) for c in solver.unsat_core()}
        core = [item for label, item in labels.items() if label in named] or items[:1]
        first, first_path = core[0]
        at = self.leaf_path(first, first_path) if first.kind not in ("all", "any", "not") \
            else first_path
        others = Joined(Message("deep.at_line", what=self.describe(c),
                                line=self.source.mark(p).line) for c, p in core[1:])
        if leave is not None:
            together = Message("deep.together", others=others) if others else ""
            self.report(at, Message("deep.leaves_first", where=where, stage=way.source,
                                    leave=leave.text(), first=self.describe(first),
                                    together=together))
        elif others:
            self.report(at, Message("deep.contradicts", where=where,
                                    first=self.describe(first), others=others))
        else:
            self.report(at, Message("deep.never_met", where=where, first=self.describe(first)))

    def follow_ups(self, all_ways: list[Way], leaves: dict[str, _Leave],
                   passable: dict[Way, bool]) -> None:
        for stage_name, stage in self.journey.stages.items():
            leave = leaves.get(stage_name)
            for compiled in stage.follow_ups:
                spec, index = compiled.spec, compiled.index
                path: DocPath = ("stages", stage_name, "follow_ups", index)
                name = _follow_up_name(spec, index)
                due = _first_due(spec)
                if leave is not None and due is not None and leave.path != path \
                        and day_bounds(due)[0] > day_bounds(leave.due)[1]:
                    key = "after" if spec.after is not None else "every"
                    self.report((*path, key), Message("deep.followup_late", name=name,
                                                      leave=leave.text(), stage=stage_name))
                if spec.action == "transition" and not spec.force:
                    taken = [w for w in all_ways if w.source == stage_name
                             and w.trigger == spec.trigger]
                    if taken and not any(passable.get(w, True) for w in taken):
                        self.report((*path, "trigger"), Message(
                            "deep.followup_gate", name=name, trigger=spec.trigger,
                            stage=stage_name))

    def reachability(self, all_ways: list[Way], passable: dict[Way, bool],
                     leaves: dict[str, _Leave]) -> None:
        stages = self.journey.stages
        forced = {(name, leave.trigger) for name, leave in leaves.items()}
        open_ways = [w for w in all_ways if passable.get(w, True) or w.overridable
                     or (w.source, w.trigger) in forced]
        entered = {self.journey.initial}
        frontier = [self.journey.initial]
        while frontier:
            here = frontier.pop()
            for way in open_ways:
                if way.source == here and way.dest not in entered:
                    entered.add(way.dest)
                    frontier.append(way.dest)
        finishing = {name for name, stage in stages.items() if stage.final}
        changed = True
        while changed:
            changed = False
            for way in open_ways:
                if way.dest in finishing and way.source not in finishing:
                    finishing.add(way.source)
                    changed = True
        for name, stage in stages.items():
            closed = [w for w in all_ways if w.dest == name and w not in open_ways]
            if name not in entered:
                ways_in = Joined(Message("deep.way_in", trigger=w.trigger, source=w.source,
                                         line=self.source.mark(w.path).line) for w in closed)
                self.report(("stages", name), Message("deep.never_entered", stage=name,
                                                      ways=ways_in or Message("none")),
                            key=True)
            elif not stage.final and name not in finishing:
                out = [w for w in all_ways if w.source == name]
                shut = [Message("deep.way_out", trigger=w.trigger, dest=w.dest)
                        for w in out if w not in open_ways]
                why: list[str] = [Message("deep.closed", ways=Joined(shut))] if shut else []
                if len(shut) < len(out):
                    why.append(Message("deep.others_stuck" if shut else "deep.all_stuck"))
                self.report(("stages", name), Message("deep.cannot_finish", stage=name,
                                                      why=Joined(why, "")), key=True)

    def approvals_note(self) -> None:
        def has_approval(criterion: Criterion | None) -> bool:
            if criterion is None:
                return False
            if criterion.kind == "approval":
                return True
            return any(has_approval(c) for c in
                       [*(criterion.all_ or []), *(criterion.any_ or []), criterion.not_])

        if any(has_approval(t.gate) for t in self.journey.doc.transitions):
            self.report(("roles",), Message("deep.approvals_note"), severity="note", key=True)


def deep_findings(journey: CompiledJourney, source: Source) -> list[Finding]:
    """The deep findings of a compiled journey, positioned through ``source`` (the
    document after ``extends``), errors and notes sorted by position."""
    return _Deep(journey, source).run()
