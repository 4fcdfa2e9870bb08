"""Journey diagrams in Mermaid or Graphviz DOT, drawn by ``transitions``' own diagram support.

Edges carry the trigger and a short form of the gate; final stages are marked. A
current stage can be highlighted (for ``bompao diagram --project``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from bompao.definitions.compiled import (
    CompiledCriterion,
    CompiledJourney,
    CompiledTransition,
)
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
    """Text for a Mermaid label: no character that ends or breaks one, single spaces."""
    return " ".join(_UNSAFE.sub(" ", text.replace('"', "'")).split())


def _dot(text: str) -> str:
    """Text for a DOT label: single spaces, backslashes kept as themselves (graphviz
    would read ``\\l`` or ``\\n`` as escapes); quotes are escaped by the caller."""
    return " ".join(text.split()).replace("\\", "\\\\")


def _edge_label(transition: CompiledTransition, lang: str) -> str:
    """The trigger, or in a language other than English the transition's title in it."""
    title = (transition.title or {}).get(lang) if lang != "en" else None
    return title or transition.trigger


_ACTIVE_DOT = " color=red fillcolor=darksalmon peripheries=2"


def diagram(journey: CompiledJourney, fmt: str = "mermaid", *, lang: str = "en",
            current: str | None = None) -> str:
    """Draw ``journey`` as Mermaid or DOT text.

    The start arrow always points at the initial stage; ``current`` (a project's
    stage) is the only one drawn active, and without it no stage is. In Thai (any
    ``lang`` but English) edges carry the transitions' titles in that language.

    Raises:
        ValueError: ``fmt`` is not one of :data:`FORMATS`, or ``current`` is not a stage.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown diagram format {fmt!r}; formats: {', '.join(FORMATS)}")
    if current is not None and current not in journey.stages:
        raise ValueError(f"unknown stage {current!r}; stages: {', '.join(journey.stages)}")
    from transitions.extensions import GraphMachine  # noqa: PLC0415 - only diagrams need it

    clean = _safe if fmt == "mermaid" else _dot
    states: list[dict[str, Any]] = [
        {"name": name, "final": stage.final} for name, stage in journey.stages.items()]
    edges = []
    for transition in journey.transitions:
        for branch in transition.branches:  # one edge per branch, in the order tried
            summary = clean(gate_summary(branch.gate, lang))
            edges.append({"trigger": clean(_edge_label(transition, lang)),
                          "source": list(transition.sources), "dest": branch.dest,
                          "conditions": [summary] if summary else []})
    title = f"{journey.label(lang)} ({journey.ref})"
    machine = GraphMachine(
        states=states, transitions=edges, initial=journey.initial,
        auto_transitions=False, show_conditions=True, show_state_attributes=False,
        title=clean(title), graph_engine="mermaid" if fmt == "mermaid" else "graphviz")
    graph = machine.get_graph()
    if fmt == "mermaid":
        return _mermaid(journey, str(graph.draw(None)), lang, current, title)
    return _graphviz(journey, str(graph.source), lang, current)


def _mermaid(journey: CompiledJourney, text: str, lang: str, current: str | None,
             title: str) -> str:
    # Mermaid reads the title from front matter only as `title:` (a YAML string)
    _head, sep, body = text.partition("\n---\n")
    if text.startswith("---\n") and sep:
        text = "---\ntitle: " + json.dumps(_safe(title), ensure_ascii=False) + sep + body
    text = text.replace(f"Class {journey.initial} s_active\n",
                        f"Class {journey.initial} s_default\n", 1)
    if current is not None:
        text = text.replace(f"Class {current} s_default\n", f"Class {current} s_active\n", 1)
    for name, stage in journey.stages.items():
        text = text.replace(f'state "{name}" as {name}\n',
                            f'state "{_safe(stage.label(lang))}" as {name}\n', 1)
    finals = "".join(f"  {name} --> [*]\n" for name, stage in journey.stages.items()
                     if stage.final)
    return text.rstrip("\n") + "\n" + finals


def _graphviz(journey: CompiledJourney, text: str, lang: str, current: str | None) -> str:
    lines = text.splitlines()
    for index, line in enumerate(lines):
        for name, stage in journey.stages.items():
            if line.startswith((f"\t{name} [label=", f'\t"{name}" [label=')):
                label = _dot(stage.label(lang)).replace('"', '\\"')
                active = _ACTIVE_DOT if name == current else ""
                lines[index] = f'\t{name} [label="{label}"{active}]'
    finals = [f"\t{name} [peripheries=2 penwidth=2]"
              for name, stage in journey.stages.items() if stage.final]
    body = "\n".join(lines).rstrip().removesuffix("}").rstrip("\n")
    return body + "\n" + "\n".join(finals) + "\n}"
