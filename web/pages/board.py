"""``/``: the cohort board. Projects as cards in stage columns, one board per journey.

The projects are the engine's :meth:`~bompao.engine.engine.Engine.list_projects` for
the signed-in user's actor, so a partner's user sees that partner's projects only. The
filters (journey, partner, cohort, coach) are a plain GET form; a card says how many
days the project has been in its stage, its flags, and whether it has stayed longer
than the stage's ``expected_duration``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from bompao.definitions import CompiledJourney
from bompao.engine.actor import person_key
from bompao.engine.engine import Engine
from bompao.storage.records import Project
from bompao.web.pages.common import engine_of, render, signed_in
from bompao.web.pages.live import last_event
from bompao.web.problems import language

__all__ = ["Card", "Column", "board_columns", "router"]

router = APIRouter(include_in_schema=False)
Filter = Annotated[str | None, Query(max_length=200)]
MAX_CARDS = 5000


@dataclass
class Card:
    """One project on the board."""

    id: int
    name: str
    days: int
    flags: list[str]
    overdue: bool
    coaches: list[str]
    partner: str | None
    cohort: str | None

    @property
    def at_risk(self) -> bool:
        """Flagged ``at_risk``, or past the stage's expected duration."""
        return "at_risk" in self.flags or self.overdue


@dataclass
class Column:
    """One stage of a journey and its cards."""

    stage: str
    title: str
    final: bool
    cards: list[Card] = field(default_factory=list)


@dataclass
class Board:
    """One journey's columns."""

    key: str
    title: str
    columns: list[Column]

    @property
    def count(self) -> int:
        """The cards on this board."""
        return sum(len(c.cards) for c in self.columns)


def _card(project: Project, journey: CompiledJourney, now: datetime) -> Card:
    stage = journey.stages.get(project.stage)
    days = (now - project.stage_entered_at).total_seconds() / 86400
    expected = stage.expected_duration if stage is not None else None
    overdue = bool(expected is not None and stage is not None and not stage.final
                   and days > expected.approx_days())
    return Card(project.id, project.name, int(days), list(project.flags), overdue,
                list(project.assignments.get("coach", [])), project.partner, project.cohort)


def board_columns(engine: Engine, projects: list[Project], lang: str,
                  now: datetime) -> list[Board]:
    """The boards (one per journey, columns in the journey's stage order) of ``projects``."""
    boards: dict[str, Board] = {}
    compiled: dict[tuple[str, int | None], CompiledJourney] = {}

    def journey(key: str, version: int | None = None) -> CompiledJourney:
        if (key, version) not in compiled:  # one read per journey, not per card
            compiled[(key, version)] = engine.journey(key, version)
        return compiled[(key, version)]

    for project in projects:
        board = boards.get(project.journey_key)
        if board is None:
            latest = journey(project.journey_key)
            board = Board(latest.key, latest.label(lang), [
                Column(name, stage.label(lang), stage.final)
                for name, stage in latest.stages.items()])
            boards[latest.key] = board
        own = journey(project.journey_key, project.journey_version)
        column = next((c for c in board.columns if c.stage == project.stage), None)
        if column is None:  # a stage only an older version has
            stage = own.stages[project.stage]
            column = Column(project.stage, stage.label(lang), stage.final)
            board.columns.append(column)
        column.cards.append(_card(project, own, now))
    return sorted(boards.values(), key=lambda b: b.key)


def _options(projects: list[Project]) -> dict[str, list[str]]:
    coaches = {person_key(p): p for project in projects
               for p in project.assignments.get("coach", [])}
    return {"journey": sorted({p.journey_key for p in projects}),
            "partner": sorted({p.partner for p in projects if p.partner}),
            "cohort": sorted({p.cohort for p in projects if p.cohort}),
            "coach": sorted(coaches.values(), key=person_key)}


@router.get("/", response_class=HTMLResponse)
def board(request: Request, journey: Filter = None, partner: Filter = None,
          cohort: Filter = None, coach: Filter = None) -> HTMLResponse:
    """The cohort board, filtered."""
    user = signed_in(request)
    engine = engine_of(request)
    actor = user.actor()
    every = engine.list_projects(actor=actor, limit=MAX_CARDS)
    chosen = {"journey": journey or None, "partner": partner or None,
              "cohort": cohort or None, "coach": coach or None}
    shown = [p for p in every
             if (chosen["journey"] is None or p.journey_key == chosen["journey"])
             and (chosen["partner"] is None or p.partner == chosen["partner"])
             and (chosen["cohort"] is None or p.cohort == chosen["cohort"])
             and (chosen["coach"] is None or person_key(chosen["coach"]) in {
                 person_key(c) for c in p.assignments.get("coach", [])})]
    query: dict[str, Any] = {k: v for k, v in chosen.items() if v}
    return render(request, "board.html", user=user,
                  boards=board_columns(engine, shown, language(request), engine.now()),
                  options=_options(every), chosen=chosen, count=len(shown),
                  query=urlencode(query), last_event=last_event(engine, user))
