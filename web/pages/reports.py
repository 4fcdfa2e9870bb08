"""``/reports``: the program reports (funnel, time in stage, at risk, coaches), the impact
view and alumni survival of each journey the user's projects follow, as ``bompao
report`` computes them, scoped to the user's partner and the page's filters (journey,
partner, cohort); the tables refresh live when a project changes.

Charts are images, one route each (``/reports/charts/{name}.svg``, the same filters as
query parameters): the pages' Content-Security-Policy allows no inline style, and
matplotlib's SVG carries its own, so a chart is never inlined into a page. A chart is
the HTML report's drawing (:func:`bompao.engine.charts.chart_svg`), its labels in the
page's language, counting the user's partner only, kept drawn per worker until an event
in the user's scope is newer or the hour turns; its ``ETag`` is its content's hash
(a repeated request with ``If-None-Match`` is answered ``304``), and the page names each
with the newest event id (``v``), so a change gives it a new address.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from bompao.definitions.messages import Message, text
from bompao.engine.alumni import alumni_report
from bompao.engine.charts import CHARTS, chart_svg
from bompao.engine.impact_report import impact_report
from bompao.engine.impact_views import sheets
from bompao.engine.reports import Filters, Reports
from bompao.engine.views import report_cells
from bompao.errors import NotFound, PermissionDenied
from bompao.web.accounts import User
from bompao.web.pages.common import engine_of, refusal, render, signed_in
from bompao.web.pages.live import last_event
from bompao.web.problems import language

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_TITLES = {"funnel": ("Funnel", "ภาพรวมการผ่านขั้น"), "stages": ("Time in stage",
                                                                  "เวลาในแต่ละขั้น"),
           "at-risk": ("At risk", "โครงการที่มีความเสี่ยง"),
           "coaches": ("Coach workload", "ภาระงานของโค้ช")}
_SVG = "image/svg+xml"
_CACHE: dict[tuple[Any, ...], bytes | None] = {}
"""Charts drawn lately in this worker, by who may see them, what and as of when."""
_CACHE_SIZE = 256
_CACHE_LOCK = threading.Lock()
Choice = Annotated[str | None, Query(max_length=200)]


def _scope(user: User, partner: str | None) -> str | None:
    """The partner the reports cover: the user's own (a filter naming another is
    ignored, so nothing of it shows), else the filter."""
    return user.partner if user.partner is not None else (partner or None)


def _alumni_rows(found: dict[str, Any], lang: str) -> tuple[list[str], list[list[Any]]]:
    heads = [text(f"impact.{k}", lang) for k in ("cohort", "check_in", "due", "reported",
                                                  "operating", "share")]
    rows = [[name or text("page.reports.no_cohort", lang), _after(label, lang), cell["due"],
             cell["reported"], cell["operating"],
             "" if cell["share"] is None else f"{cell['share']:.0%}"]
            for name, cells in found["cohorts"].items() for label, cell in cells.items()]
    return heads, rows


def _after(label: str, lang: str) -> str:
    """A check-in's ``6 months`` in ``lang``."""
    count, _, unit = label.partition(" ")
    if count.isdigit() and unit.startswith("month"):
        return text("chart.after_months", lang, count=count)
    return label


def _impact_drawn(found: dict[str, Any]) -> bool:
    """Whether the impact chart has a bar (an indicator with a target, not a bool)."""
    return any(row["target"] is not None and row["type"] != "bool"
               for row in found["indicators"].values())


@router.get("/reports", response_class=HTMLResponse)
def reports(request: Request, journey: Choice = None, partner: Choice = None,
            cohort: Choice = None) -> HTMLResponse:
    """Every report of each journey with projects in the user's scope."""
    user = signed_in(request)
    engine = engine_of(request)
    lang = language(request)
    actor = user.actor()
    mine = engine.list_projects(actor=actor)
    keys = sorted({p.journey_key for p in mine})
    options = {"journey": keys,
               "partner": [] if user.partner is not None
               else sorted({p.partner for p in mine if p.partner}),
               "cohort": sorted({p.cohort for p in mine if p.cohort})}
    scope = _scope(user, partner)
    cohort = cohort or None
    if journey:
        keys = [k for k in keys if k == journey]
    runner = Reports(engine)
    newest = last_event(engine, user)
    shown: list[dict[str, Any]] = []
    for key in keys:
        compiled = engine.journey(key)
        labels = {name: stage.label(lang) for name, stage in compiled.stages.items()}
        filters = Filters(key, partner=scope, cohort=cohort)
        tables = []
        for name, (en, th) in _TITLES.items():
            headers, cells = report_cells(name, runner.run(name, filters), lang, labels)
            tables.append({"name": name, "title": th if lang == "th" else en,
                           "headers": headers, "rows": cells})
        query = urlencode({k: v for k, v in (("journey", key), ("partner", scope),
                                             ("cohort", cohort), ("v", newest)) if v})
        charts = [{"name": "funnel", "title": tables[0]["title"]},
                  {"name": "stages", "title": tables[1]["title"]}]
        if compiled.indicators:
            found = impact_report(engine, journey=key, partner=scope, cohort=cohort,
                                  actor=actor)
            _title, headers, rows = sheets(found, lang)[0]
            tables.append({"name": "impact", "title": text("page.reports.impact", lang),
                           "headers": headers,
                           "rows": [["" if v is None else v for v in row] for row in rows]})
            if _impact_drawn(found):
                charts.append({"name": "impact",
                               "title": text("page.reports.chart_impact", lang)})
        survival = alumni_report(engine, journey=key, partner=scope, cohort=cohort,
                                 actor=actor)
        if survival["check_ins"]:
            headers, rows = _alumni_rows(survival, lang)
            tables.append({"name": "alumni", "title": text("page.reports.alumni", lang),
                           "headers": headers, "rows": rows})
            if any(cell["reported"] for cells in survival["cohorts"].values()
                   for cell in cells.values()):
                charts.append({"name": "alumni",
                               "title": text("page.reports.chart_alumni", lang)})
        shown.append({"key": key, "title": compiled.label(lang), "tables": tables,
                      "charts": [{**c, "src": f"/reports/charts/{c['name']}.svg?{query}"}
                                 for c in charts]})
    chosen = {"journey": journey or "", "partner": partner or "", "cohort": cohort or ""}
    here = urlencode({k: v for k, v in chosen.items() if v})
    return render(request, "reports.html", user=user, journeys=shown, query=here,
                  options=options, chosen=chosen, last_event=newest)


@router.get("/reports/charts/{name}.svg")
async def chart(request: Request, name: str, journey: Choice = None, partner: Choice = None,
                cohort: Choice = None) -> Response:
    """One chart of one journey's reports as an SVG image (404: an unknown chart, a
    journey outside the user's scope, or nothing to draw)."""
    user = await run_in_threadpool(signed_in, request)
    lang = language(request)
    engine = engine_of(request)

    def draw() -> bytes | None:
        if name not in CHARTS:
            raise NotFound(Message("page.chart.unknown", name=name, known=", ".join(CHARTS)))
        mine = {p.journey_key for p in engine.list_projects(actor=user.actor())}
        key = journey or (sorted(mine)[0] if mine else "")
        if key not in mine:
            raise NotFound(Message("page.error.not_found"))
        filters = Filters(key, partner=_scope(user, partner), cohort=cohort or None)
        # drawn again when an event in the user's scope is newer, or the hour turns
        # (periods and check-ins fall due with time, not with events)
        cached = (user.partner, name, key, filters.partner, filters.cohort, lang,
                  last_event(engine, user), engine.now().strftime("%Y-%m-%dT%H"))
        with _CACHE_LOCK:
            if cached in _CACHE:
                return _CACHE[cached]
        drawn = chart_svg(name, engine, filters, lang, actor=user.actor())
        with _CACHE_LOCK:
            if len(_CACHE) >= _CACHE_SIZE:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[cached] = drawn
        return drawn

    try:
        drawn = await run_in_threadpool(draw)
    except (NotFound, PermissionDenied) as exc:
        status, message = refusal(request, exc)
        return Response(message, status_code=status, media_type="text/plain; charset=utf-8")
    if drawn is None:
        return Response(text("page.reports.chart_none", lang), status_code=404,
                        media_type="text/plain; charset=utf-8")
    tag = f'"{hashlib.sha256(drawn).hexdigest()[:32]}"'
    headers = {"ETag": tag, "Cache-Control": "private, max-age=300",
               "Vary": "Cookie, Accept-Language", "Content-Language": lang}
    if tag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(drawn, media_type=_SVG, headers=headers)
