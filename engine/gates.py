"""Gate reports: what a gate needs, what it saw, and what is missing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bompao.definitions import CompiledBranch, CriterionResult
from bompao.definitions.messages import Texts

__all__ = ["BranchReport", "Criterion", "GateReport", "criteria_dicts"]


@dataclass(frozen=True)
class Criterion:
    """One leaf criterion of a gate report."""

    kind: str
    says: str
    met: bool
    seen: Mapping[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {"kind": self.kind, "says": self.says, "met": self.met, "seen": dict(self.seen)}


def criteria_dicts(result: CriterionResult, lang: str = "en") -> list[dict[str, Any]]:
    """The leaf criteria of ``result`` in their JSON-ready form, as an ``advanced``
    event records the gate passed: ``[c.as_dict() for c in GateReport.build(...).criteria]``
    without building the report."""
    return [{"kind": node.kind, "says": node.text(lang), "met": node.met,
             "seen": dict(node.seen)} for node in _leaf_nodes(result)]


def _leaves(result: CriterionResult, lang: str) -> tuple[Criterion, ...]:
    return tuple(Criterion(node.kind, node.text(lang), node.met, node.seen)
                 for node in _leaf_nodes(result))


def _leaf_nodes(result: CriterionResult) -> list[CriterionResult]:
    """The leaves of ``result`` in order (``all``/``any`` opened, ``not`` kept whole)."""
    if not (result.children and result.kind in ("all", "any")):
        return [result]
    leaves: list[CriterionResult] = []
    _collect(result, leaves)
    return leaves


def _collect(node: CriterionResult, leaves: list[CriterionResult]) -> None:
    # a module function, not a closure: a recursive closure is a reference cycle, left
    # for the garbage collector at every advance
    if node.children and node.kind in ("all", "any"):
        for child in node.children:
            _collect(child, leaves)
    else:
        leaves.append(node)


@dataclass(frozen=True)
class BranchReport:
    """One branch of a transition: where it leads and what its gate says now."""

    to_stage: str
    passable: bool
    criteria: tuple[Criterion, ...]
    tree: CriterionResult | None = field(default=None, compare=False, repr=False)

    def missing_texts(self) -> tuple[str, ...]:
        """The unmet leaf criteria's texts, each in every language the journey gives
        (:class:`~bompao.definitions.messages.Texts`), for a refusal message."""
        if self.tree is None:
            return tuple(c.says for c in self.criteria if not c.met)
        return tuple(Texts(n.says) for n in _leaf_nodes(self.tree) if not n.met)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form: ``{"to", "passable", "criteria"}``."""
        return {"to": self.to_stage, "passable": self.passable,
                "criteria": [c.as_dict() for c in self.criteria]}


@dataclass(frozen=True)
class GateReport:
    """The verdict of one transition's gate for one project at one moment.

    ``criteria`` lists the leaf criteria in order (``all``/``any``/``not`` are kept in
    ``tree``); ``missing`` the unmet ones that block the transition. For a transition
    with branches these are the branch that would be taken (the first whose gate
    passes), or the first branch when none passes; ``branches`` has every branch
    evaluated, in order, and ``branch`` the index of the one taken (None: none passes).
    """

    project: int
    trigger: str
    from_stage: str
    to_stage: str
    passable: bool
    criteria: tuple[Criterion, ...]
    missing: tuple[Criterion, ...]
    tree: CriterionResult
    branches: tuple[BranchReport, ...] = ()
    branch: int | None = None

    @classmethod
    def build(cls, result: CriterionResult, *, project: int, trigger: str, from_stage: str,
              to_stage: str, lang: str = "en") -> GateReport:
        """Flatten a criterion tree into a report (a transition with one destination)."""
        missing = tuple(Criterion(n.kind, n.text(lang), n.met, n.seen) for n in result.unmet())
        criteria = _leaves(result, lang)
        return cls(project, trigger, from_stage, to_stage, result.met, criteria, missing,
                   result, (BranchReport(to_stage, result.met, criteria, result),),
                   0 if result.met else None)

    @classmethod
    def of_branches(cls, tried: Sequence[tuple[CompiledBranch, CriterionResult]], *,
                    project: int, trigger: str, from_stage: str,
                    lang: str = "en") -> GateReport:
        """The report of the branches evaluated, in order: the first passable one's
        criteria (the first branch's when none passes), and every branch's verdict.

        Raises:
            ValueError: ``tried`` is empty.
        """
        if not tried:
            raise ValueError("a gate report needs at least one branch")
        chosen = next((i for i, (_, result) in enumerate(tried) if result.met), None)
        branch, result = tried[chosen or 0]
        missing = tuple(Criterion(n.kind, n.text(lang), n.met, n.seen) for n in result.unmet())
        reports = tuple(BranchReport(b.dest, r.met, _leaves(r, lang), r) for b, r in tried)
        return cls(project, trigger, from_stage, branch.dest, result.met,
                   reports[chosen or 0].criteria, missing, result, reports,
                   None if chosen is None else tried[chosen][0].index)

    def missing_texts(self) -> tuple[str, ...]:
        """The texts of :attr:`missing`, each in every language the journey gives
        (:class:`~bompao.definitions.messages.Texts`), for a refusal message."""
        return tuple(Texts(n.says) for n in self.tree.unmet())

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form: ``{"passable": bool, "criteria": [{"says", "met"}, ...],
        "branches": [{"to", "passable", "criteria"}, ...]}``."""
        return {"project": self.project, "trigger": self.trigger, "from": self.from_stage,
                "to": self.to_stage, "passable": self.passable,
                "criteria": [c.as_dict() for c in self.criteria],
                "missing": [c.says for c in self.missing],
                "branches": [b.as_dict() for b in self.branches]}
