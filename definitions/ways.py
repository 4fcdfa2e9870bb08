"""The ways out of each stage: the one adapter over transitions for deep checks and the
forecast.

``bompao validate --deep`` and ``bompao simulate`` never read
``CompiledJourney.transitions`` directly; they read :func:`ways`, one :class:`Way` per
(transition, source stage, destination) in declaration order. A transition with
several destinations (``branches:``) becomes one way per branch, in branch order,
each with its own gate and position, so their checks and models need no change when
transitions grow branches: only this function does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from bompao.definitions.compiled import CompiledCriterion, CompiledJourney
from bompao.definitions.model import Criterion

__all__ = ["Way", "ways"]

DocPath = tuple[str | int, ...]


@dataclass(frozen=True, eq=False)
class Way:
    """One way from ``source`` to ``dest`` fired by ``trigger`` (compared by identity).

    Attributes:
        trigger: the trigger.
        source: the stage it leaves.
        dest: the stage it enters.
        gate: the gate's document criterion (None: no gate).
        compiled: the compiled gate (None: no gate).
        path: where the gate is in the document (or the transition, without a gate).
        overridable: some role may override the gate.
        index: the transition's index in ``transitions``.
        wildcard: the transition is declared ``from: "*"``.
    """

    trigger: str
    source: str
    dest: str
    gate: Criterion | None
    compiled: CompiledCriterion | None
    path: DocPath
    overridable: bool
    index: int
    wildcard: bool = False


def ways(journey: CompiledJourney) -> Iterator[Way]:
    """Every way of ``journey``, in declaration order."""
    for index, (spec, compiled) in enumerate(zip(journey.doc.transitions, journey.transitions,
                                                 strict=True)):
        specs = spec.branches if spec.branches is not None else None
        for branch in compiled.branches:
            if specs is not None:
                gate = specs[branch.index].gate
                path: DocPath = ("transitions", index, "branches", branch.index, "gate") \
                    if gate is not None else ("transitions", index, "branches", branch.index)
            else:
                gate = spec.gate
                path = ("transitions", index, "gate") if gate is not None \
                    else ("transitions", index)
            for source in compiled.sources:
                yield Way(compiled.trigger, source, branch.dest, gate, branch.gate, path,
                          bool(compiled.override_roles), index, spec.from_ == "*")
