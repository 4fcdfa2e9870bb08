"""Alumni check-ins: after the handoff, ask the owner how the project is doing.

A final stage may carry ``check_ins: [6 months, 12 months, 24 months]``. Each check-in
is a follow-up of the stage named ``check_in:6_months`` (and so on), due that long
after the stage was entered: a ``notify`` to the owners of the indicators due in the
stage (those whose ``during`` names it), asking for them. The survival indicator is
the first ``bool`` indicator among them ("still operating"): ``bompao report alumni``
counts, per cohort and check-in, the projects that reached it, those that answered
and those still operating. This module is pure, like the rest of ``definitions/``.
"""

from __future__ import annotations

from dataclasses import dataclass

from bompao.definitions.compiled import CompiledFollowUp
from bompao.definitions.durations import Duration
from bompao.definitions.messages import text
from bompao.definitions.model import FollowUpSpec, JourneyDoc
from bompao.definitions.texts import duration_text, pick

__all__ = ["PREFIX", "CheckIn", "asked_in", "check_in_name", "check_ins_of", "survival_of"]

PREFIX = "check_in:"
"""A check-in follow-up is named ``check_in:6_months``."""


def check_in_name(after: Duration) -> str:
    """``check_in:6_months`` for ``6 months``."""
    return PREFIX + str(after).replace(" ", "_")


@dataclass(frozen=True)
class CheckIn(CompiledFollowUp):
    """One alumni check-in of a final stage."""

    number: int = 0
    """0 for the first check-in of the stage, 1 for the next, ..."""
    indicators: tuple[str, ...] = ()
    """The indicators it asks for."""


def asked_in(doc: JourneyDoc, stage: str) -> list[str]:
    """The indicators a check-in of ``stage`` asks for: those due in the stage."""
    return [name for name, spec in doc.indicators.items()
            if spec.during is not None and stage in spec.during]


def survival_of(doc: JourneyDoc, stage: str) -> str | None:
    """The survival indicator of ``stage``'s check-ins: the first bool one asked for."""
    return next((name for name in asked_in(doc, stage)
                 if doc.indicators[name].type == "bool"), None)


def check_ins_of(doc: JourneyDoc, stage: str, first_index: int) -> tuple[CheckIn, ...]:
    """The check-in follow-ups of ``stage`` (none unless it has ``check_ins``)."""
    spec = doc.stages[stage]
    names = asked_in(doc, stage)
    if not spec.check_ins or not names:
        return ()
    roles = sorted({str(doc.indicators[n].owner) for n in names
                    if doc.indicators[n].owner is not None})
    found = []
    for number, after in enumerate(spec.check_ins):
        message = {}
        for lang in ("en", "th"):
            titles = ", ".join(pick(doc.indicators[n].title, lang, n) for n in names)
            message[lang] = text("alumni.check_in", lang, after=duration_text(after, lang),
                                 indicators=titles.replace("{", "(").replace("}", ")"),
                                 project="{{ project.name }}")
        follow_up = FollowUpSpec(after=after, action="notify", to=roles, message=message)
        found.append(CheckIn(check_in_name(after), stage, first_index + number, follow_up,
                             number, tuple(names)))
    return tuple(found)
