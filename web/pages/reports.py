"""``/reports``: the program reports (funnel, time in stage, at risk, coaches) of each
journey the user's projects follow, as ``bompao report`` computes them, scoped to the
user's partner; the tables refresh live when a project changes.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from bompao.engine.reports import Filters, Reports
from bompao.engine.views import report_cells
from bompao.web.pages.common import engine_of, render, signed_in
from bompao.web.pages.live import last_event
from bompao.web.problems import language

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_TITLES = {"funnel": ("Funnel", "ภาพรวมการผ่านขั้น"), "stages": ("Time in stage",
                                                                  "เวลาในแต่ละขั้น"),
           "at-risk": ("At risk", "โครงการที่มีความเสี่ยง"),
           "coaches": ("Coach workload", "ภาระงานของโค้ช")}


@router.get("/reports", response_class=HTMLResponse)
def reports(request: Request,
            journey: Annotated[str | None, Query(max_length=200)] = None) -> HTMLResponse:
    """Every report of each journey with projects in the user's scope."""
    user = signed_in(request)
    engine = engine_of(request)
    lang = language(request)
    keys = sorted({p.journey_key for p in engine.list_projects(actor=user.actor())})
    if journey:
        keys = [k for k in keys if k == journey]
    runner = Reports(engine)
    shown: list[dict[str, Any]] = []
    for key in keys:
        compiled = engine.journey(key)
        labels = {name: stage.label(lang) for name, stage in compiled.stages.items()}
        filters = Filters(key, partner=user.partner)
        tables = []
        for name, (en, th) in _TITLES.items():
            headers, cells = report_cells(name, runner.run(name, filters), lang, labels)
            tables.append({"name": name, "title": th if lang == "th" else en,
                           "headers": headers, "rows": cells})
        shown.append({"key": key, "title": compiled.label(lang), "tables": tables})
    return render(request, "reports.html", user=user, journeys=shown,
                  query=f"journey={journey}" if journey else "",
                  last_event=last_event(engine, user))
