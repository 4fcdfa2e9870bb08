"""A journey's diagram as inline SVG, drawn by Graphviz's ``dot`` from the same DOT text
as ``bompao diagram`` and the HTML report, with the project's stage highlighted.

Drawings are kept per journey source, language and stage (a published journey never
changes), so a page pays for ``dot`` once per journey and stage. Without ``dot`` the
page shows the DOT text instead. Graphviz escapes label text in its SVG, so a stage
title holding markup stays text.
"""

from __future__ import annotations

import hashlib
import threading

from bompao.definitions import CompiledJourney
from bompao.definitions.diagram import diagram
from bompao.engine.charts import strip_xml_head

__all__ = ["journey_svg"]

_CACHE: dict[tuple[str, str, str | None], tuple[str | None, str]] = {}
_LOCK = threading.Lock()
_MAX = 512


def journey_svg(journey: CompiledJourney, lang: str,
                current: str | None = None) -> tuple[str | None, str]:
    """``(svg or None, dot text)`` of ``journey`` with ``current`` highlighted."""
    digest = hashlib.sha256(f"{journey.ref}\n{journey.source}".encode()).hexdigest()
    key = (digest, lang, current)
    with _LOCK:
        found = _CACHE.get(key)
    if found is not None:
        return found
    text = diagram(journey, "dot", lang=lang, current=current).replace(
        "rankdir=LR", "rankdir=TB", 1)
    try:
        import graphviz  # noqa: PLC0415

        drawn: str | None = strip_xml_head(
            graphviz.Source(text).pipe(format="svg").decode())
    except Exception:  # dot missing, or it failed: show the text
        drawn = None
    with _LOCK:
        if len(_CACHE) >= _MAX:
            _CACHE.clear()
        _CACHE[key] = (drawn, text)
    return drawn, text
