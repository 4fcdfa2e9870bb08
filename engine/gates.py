"""Gate reports: what a gate needs, what it saw, and what is missing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bompao.definitions import CriterionResult

__all__ = ["Criterion", "GateReport"]


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


@dataclass(frozen=True)
class GateReport:
    """The verdict of one transition's gate for one project at one moment.

    ``criteria`` lists the leaf criteria in order (``all``/``any``/``not`` are kept in
    ``tree``); ``missing`` the unmet ones that block the transition.
    """

    project: int
    trigger: str
    from_stage: str
    to_stage: str
    passable: bool
    criteria: tuple[Criterion, ...]
    missing: tuple[Criterion, ...]
    tree: CriterionResult

    @classmethod
    def build(cls, result: CriterionResult, *, project: int, trigger: str, from_stage: str,
              to_stage: str, lang: str = "en") -> GateReport:
        """Flatten a criterion tree into a report."""
        leaves: list[Criterion] = []

        def walk(node: CriterionResult) -> None:
            if node.children and node.kind in ("all", "any"):
                for child in node.children:
                    walk(child)
            else:
                leaves.append(Criterion(node.kind, node.text(lang), node.met, node.seen))

        walk(result)
        missing = tuple(Criterion(n.kind, n.text(lang), n.met, n.seen) for n in result.unmet())
        return cls(project, trigger, from_stage, to_stage, result.met, tuple(leaves),
                   missing, result)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form: ``{"passable": bool, "criteria": [{"says", "met"}, ...]}``."""
        return {"project": self.project, "trigger": self.trigger, "from": self.from_stage,
                "to": self.to_stage, "passable": self.passable,
                "criteria": [c.as_dict() for c in self.criteria],
                "missing": [c.says for c in self.missing]}
