"""The message catalogue: every text bompao prints, by key, in English and Thai.

Each entry maps ``en`` and ``th`` to a ``str.format`` template with the same
parameters (Thai may leave one out, e.g. a plural). The entries live by family, one
module each; :data:`CATALOGUE` is all of them. Render them with
:class:`bompao.definitions.messages.Message` (an error's text, rendered again later in
the reader's language) or :func:`bompao.definitions.messages.text` (one language now).
This package is data only: it imports nothing of bompao.
"""

from __future__ import annotations

from bompao.catalogue import (
    apply,
    cli,
    database,
    deep,
    definitions,
    intake,
    pages,
    refusals,
    usage,
    values,
    web_indicators,
)
from bompao.catalogue import indicators as indicator_entries

__all__ = ["CATALOGUE", "FAMILIES"]

FAMILIES: dict[str, dict[str, dict[str, str]]] = {
    "definitions": definitions.ENTRIES,
    "refusals": refusals.ENTRIES,
    "cli": cli.ENTRIES,
    "deep": deep.ENTRIES,
    "values": values.ENTRIES,
    "database": database.ENTRIES,
    "usage": usage.ENTRIES,
    "intake": intake.ENTRIES,
    "indicators": indicator_entries.ENTRIES,
    "pages": pages.ENTRIES,
    "apply": apply.ENTRIES,
    "web_indicators": web_indicators.ENTRIES,
}
"""The entries by family (the module that holds them)."""


def _merged() -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for family, entries in FAMILIES.items():
        clash = sorted(merged.keys() & entries.keys())
        if clash:
            raise ValueError(f"catalogue keys of {family!r} defined twice: {', '.join(clash)}")
        merged.update(entries)
    return merged


CATALOGUE: dict[str, dict[str, str]] = _merged()
"""Every message: key -> {"en": template, "th": template}."""
