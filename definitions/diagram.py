"""Journey diagrams in Mermaid or Graphviz DOT, drawn by ``transitions``' own diagram support.

Edges carry the trigger and a short form of the gate; final stages are marked. A
current stage can be highlighted (for ``bompao diagram --project``).
"""

from __future__ import annotations

import re
from typing import Any

from bompao.definitions.compiled import CompiledCriterion, CompiledJourney
from bompao.definitions.texts import pick

__all__ = ["FORMATS", "diagram", "gate_summary"]

FORMATS = ("mermaid", "dot")
_UNSAFE = re.compile(r"[:;\"<>{}|\[\]#`\n]")


def gate_summary(criterion: CompiledCriterion | None, lang: str = "en") -> str:
    """A one-line form of a gate for an edge label."""
    if criterion is None:
        return ""
    if criterion.kind in ("all", "any"):
        joiner = " & " if criterion.kind == "all" else " or "
        inner = joiner.join(gate_summary(child, lang) for child in criterion.children)
        return inner if criterion.kind == "all" else f"({inner})"
    if criterion.kind == "not":
        return f"not {gate_summary(criterion.children[0], lang)}"
    return pick(criterion.says, lang)


def _safe(text: str) -> str:
    return _UNSAFE.sub(" ", text).strip()


def diagram(journey: CompiledJourney, fmt: str = "mermaid", *, lang: str = "en",
            current: str | None = None) -> str:
    """Draw ``journey`` as Mermaid or DOT text.

    Raises:
        ValueError: ``fmt`` is not one of :data:`FORMATS`.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown diagram format {fmt!r}; formats: {', '.join(FORMATS)}")
    from transitions.extensions import GraphMachine  # noqa: PLC0415 - only diagrams need it

    states: list[dict[str, Any]] = [
        {"name": name, "final": stage.final} for name, stage in journey.stages.items()]
    edges = []
    for transition in journey.transitions:
        for branch in transition.branches:  # one edge per branch, in the order tried
            summary = _safe(gate_summary(branch.gate, lang))
            edges.append({"trigger": transition.trigger, "source": list(transition.sources),
                          "dest": branch.dest,
                          "conditions": [summary] if summary else []})
    machine = GraphMachine(
        states=states, transitions=edges, initial=current or journey.initial,
        auto_transitions=False, show_conditions=True, show_state_attributes=False,
        title=_safe(f"{journey.label(lang)} ({journey.ref})"),
        graph_engine="mermaid" if fmt == "mermaid" else "graphviz")
    graph = machine.get_graph()
    if fmt == "mermaid":
        text = str(graph.draw(None))
        for name, stage in journey.stages.items():
            label = _safe(stage.label(lang))
            text = text.replace(f'state "{name}" as {name}\n',
                                f'state "{label}" as {name}\n', 1)
        finals = "".join(f"  {name} --> [*]\n" for name, stage in journey.stages.items()
                         if stage.final)
        return text.rstrip("\n") + "\n" + finals
    text = str(graph.source)
    for name, stage in journey.stages.items():
        text = text.replace(f'\t{name} [label="{name}\\l"',
                            f'\t{name} [label="{_safe(stage.label(lang))}"', 1)
    finals = "".join(f"\t{name} [peripheries=2 penwidth=2]\n"
                     for name, stage in journey.stages.items() if stage.final)
    return text.rstrip().removesuffix("}") + finals + "}"
