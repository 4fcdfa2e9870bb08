"""``/journeys``: the journeys a user may use (list, show, diagram), and the playground.

The playground posts the YAML as it is typed (htmx, after a pause) and answers with the
problems the same validator ``bompao validate`` runs finds, each at its line and
column, and the diagram of a journey that compiles. Nothing is published or stored.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from bompao.definitions.describe import describe
from bompao.definitions.messages import localise
from bompao.definitions.pipeline import compile_journey
from bompao.errors import DefinitionError, NotFound
from bompao.web.pages.common import engine_of, refusal, render, signed_in, verify_csrf
from bompao.web.pages.diagrams import journey_svg
from bompao.web.pages.project import not_found
from bompao.web.problems import language

__all__ = ["MAX_PLAYGROUND", "router"]

router = APIRouter(include_in_schema=False)
MAX_PLAYGROUND = 200_000
"""Characters of YAML the playground checks."""


def _visible(request: Request, partner: str | None) -> list[dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for row in engine_of(request).list_journeys():
        if partner is not None and row["partner"] not in (None, partner):
            continue
        if row["journey"] not in latest or row["version"] > latest[row["journey"]]["version"]:
            latest[row["journey"]] = row
    return sorted(latest.values(), key=lambda r: r["journey"])


@router.get("/journeys", response_class=HTMLResponse)
def journeys(request: Request) -> HTMLResponse:
    """The published journeys of the user's partner and the shared ones."""
    user = signed_in(request)
    lang = language(request)
    rows = [{**row, "label": row["title"].get(lang) or row["title"].get("en") or row["journey"]}
            for row in _visible(request, user.partner)]
    return render(request, "journeys.html", user=user, journeys=rows)


@router.get("/journeys/playground", response_class=HTMLResponse)
def playground(request: Request, start: str | None = None) -> HTMLResponse:
    """The playground, starting from a published journey's YAML (``start``) or a blank."""
    user = signed_in(request)
    text = ""
    if start and start in {r["journey"] for r in _visible(request, user.partner)}:
        text = engine_of(request).journey(start).source
    return render(request, "playground.html", user=user, source=text,
                  **_checked(request, text) if text else {"problems": [], "diagram_svg": None})


def _checked(request: Request, text: str) -> dict[str, Any]:
    lang = language(request)
    engine = engine_of(request)
    lines = text.splitlines()
    try:
        journey = compile_journey(text, file="playground.yaml", resolve=engine.catalog.resolve,
                                  functions=engine.catalog.functions)
    except DefinitionError as exc:
        problems = [{"line": d.line, "column": d.column, "message": localise(d.message, lang),
                     "source": lines[d.line - 1] if 0 < d.line <= len(lines) else ""}
                    for d in exc.diagnostics]
        return {"problems": problems, "diagram_svg": None, "ref": None}
    svg, _text = journey_svg(journey, lang)
    return {"problems": [], "diagram_svg": svg, "ref": journey.ref}


@router.post("/journeys/playground", response_class=HTMLResponse)
def check(request: Request, source: Annotated[str, Form(max_length=MAX_PLAYGROUND)] = "",
          token: Annotated[str | None, Form(alias="csrf_token")] = None) -> HTMLResponse:
    """The problems and the diagram of ``source`` (the fragment the playground swaps in)."""
    verify_csrf(request, token)
    user = signed_in(request)
    return render(request, "_playground_result.html", user=user, **_checked(request, source))


@router.get("/journeys/{key}", response_class=HTMLResponse)
def journey(request: Request, key: str) -> HTMLResponse:
    """A journey's stages, transitions, fields, evidence and diagram."""
    user = signed_in(request)
    if key not in {r["journey"] for r in _visible(request, user.partner)}:
        return not_found(request, user, "")
    lang = language(request)
    try:
        compiled = engine_of(request).journey(key)
    except NotFound as exc:
        return not_found(request, user, refusal(request, exc)[1])
    svg, dot = journey_svg(compiled, lang)
    return render(request, "journey.html", user=user, data=describe(compiled, lang),
                  diagram_svg=svg, diagram_text=dot)
