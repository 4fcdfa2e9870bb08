"""The HTML report: one self-contained file (no network at view time).

Charts are SVG drawn by matplotlib and inlined; the journey diagram is SVG drawn by
Graphviz's ``dot`` (through ``transitions``' diagram support) when it is installed,
and its DOT source otherwise. Text goes through Jinja2 with autoescaping.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bompao.definitions import CompiledJourney
from bompao.definitions.diagram import diagram
from bompao.engine.charts import pyplot, strip_xml_head, svg
from bompao.engine.reports import Filters, Reports

__all__ = ["render_report"]

_HEADINGS = {
    "en": {"title": "Program report", "diagram": "Journey", "funnel": "Funnel",
           "stages": "Time in stage (days)", "at_risk": "At risk", "projects": "Projects",
           "reached": "ever reached", "now": "there now", "median": "median",
           "p90": "90th percentile",
           "max": "maximum", "generated": "Generated", "none": "No project is at risk.",
           "cols": ["id", "name", "stage", "partner", "cohort", "days in stage", "flags"],
           "risk_cols": ["id", "name", "stage", "why", "assigned"]},
    "th": {"title": "รายงานโปรแกรม", "diagram": "เส้นทาง", "funnel": "ภาพรวมการผ่านขั้น",
           "stages": "เวลาในแต่ละขั้น (วัน)", "at_risk": "โครงการที่มีความเสี่ยง",
           "projects": "โครงการ", "reached": "เคยถึงขั้นนี้", "now": "อยู่ในขั้นนี้ตอนนี้",
           "median": "ค่ามัธยฐาน", "p90": "เปอร์เซ็นไทล์ที่ 90", "max": "สูงสุด",
           "generated": "สร้างเมื่อ", "none": "ไม่มีโครงการที่มีความเสี่ยง",
           "cols": ["รหัส", "ชื่อ", "ขั้น", "ภาคี", "รุ่น", "วันในขั้น", "สถานะ"],
           "risk_cols": ["รหัส", "ชื่อ", "ขั้น", "เหตุผล", "ผู้รับผิดชอบ"]},
}

_PAGE = """<!DOCTYPE html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ h.title }}: {{ journey_title }}</title>
<style>
body { font-family: "Noto Sans Thai", "Loma", "Sarabun", system-ui, sans-serif; margin: 2rem;
       color: #1f2933; max-width: 1100px; }
h1 { margin-bottom: .2rem; } .meta { color: #616e7c; margin-bottom: 2rem; }
section { margin-bottom: 2.5rem; } figure { margin: 0; } svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #e4e7eb; }
th { background: #f5f7fa; } td.num { text-align: right; }
pre { background: #f5f7fa; padding: 1rem; overflow-x: auto; }
</style></head><body>
<h1>{{ h.title }}: {{ journey_title }}</h1>
<p class="meta">{{ journey_ref }} · {{ h.generated }} {{ generated }}{% if scope %} · {{ scope }}{% endif %}</p>
<section id="diagram"><h2>{{ h.diagram }}</h2>
{% if diagram_svg %}<figure class="chart">{{ diagram_svg | safe }}</figure>
{% else %}<pre>{{ diagram_text }}</pre>{% endif %}</section>
<section id="funnel"><h2>{{ h.funnel }}</h2><figure class="chart">{{ funnel_svg | safe }}</figure></section>
<section id="stages"><h2>{{ h.stages }}</h2><figure class="chart">{{ stages_svg | safe }}</figure></section>
{{ impact_html | safe }}
<section id="at-risk"><h2>{{ h.at_risk }}</h2>
{% if at_risk %}<table><tr>{% for c in h.risk_cols %}<th>{{ c }}</th>{% endfor %}</tr>
{% for r in at_risk %}<tr><td class="num">{{ r.id }}</td><td>{{ r.name }}</td><td>{{ r.stage_title }}</td>
<td>{{ r.reasons | join(", ") }}</td><td>{{ r.assigned_text }}</td></tr>{% endfor %}</table>
{% else %}<p>{{ h.none }}</p>{% endif %}</section>
<section id="projects"><h2>{{ h.projects }} ({{ projects | length }}{% if more %} / {{ total }}{% endif %})</h2>
<table><tr>{% for c in h.cols %}<th>{{ c }}</th>{% endfor %}</tr>
{% for p in projects %}<tr><td class="num">{{ p.id }}</td><td>{{ p.name }}</td><td>{{ p.stage_title }}</td>
<td>{{ p.partner or "" }}</td><td>{{ p.cohort or "" }}</td><td class="num">{{ p.days }}</td>
<td>{{ p.flags | join(", ") }}</td></tr>{% endfor %}</table></section>
</body></html>
"""
MAX_PROJECTS = 1000


def _funnel_chart(rows: list[dict[str, Any]], labels: dict[str, str], h: dict[str, Any]) -> str:
    plt = pyplot()
    names = [labels[r["stage"]] for r in rows][::-1]
    figure, axes = plt.subplots(figsize=(8, 0.45 * len(rows) + 1))
    reached = [r["reached"] for r in rows][::-1]
    axes.barh(names, reached, color="#9fb3c8", label=h["reached"])
    axes.barh(names, [r["now"] for r in rows][::-1], color="#2680c2", height=0.45,
              label=h["now"])
    axes.xaxis.set_major_locator(_integer_locator())
    axes.set_xlim(0, max([*reached, 0]) * 1.05 or 1)
    axes.legend(loc="lower right")
    axes.spines[["top", "right"]].set_visible(False)
    drawn = svg(figure)
    plt.close(figure)
    return drawn


def _integer_locator() -> Any:
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415

    return MaxNLocator(integer=True, min_n_ticks=2)


def _stages_chart(rows: list[dict[str, Any]], labels: dict[str, str], h: dict[str, Any]) -> str:
    plt = pyplot()
    names = [labels[r["stage"]] for r in rows]
    figure, axes = plt.subplots(figsize=(8, 3.5))
    xs = range(len(rows))
    medians = [r["median_days"] or 0 for r in rows]
    p90 = [r["p90_days"] or 0 for r in rows]
    most = [r["max_days"] or 0 for r in rows]
    axes.bar(xs, medians, color="#2680c2", label=h["median"])
    axes.scatter(xs, p90, color="#f0b429", zorder=3, label=h["p90"])
    axes.scatter(xs, most, color="#d64545", marker="_", s=300, zorder=3, label=h["max"])
    # each label ends at its bar's centre (anchor rotation keeps it there when turned)
    axes.set_xticks(list(xs), names, rotation=30, ha="right", rotation_mode="anchor")
    axes.yaxis.set_major_locator(_integer_locator())
    axes.set_ylim(0, max([*medians, *p90, *most, 0]) * 1.1 or 1)
    axes.legend()
    axes.spines[["top", "right"]].set_visible(False)
    drawn = svg(figure)
    plt.close(figure)
    return drawn


def _diagram_svg(journey: CompiledJourney, lang: str) -> tuple[str | None, str]:
    text = diagram(journey, "dot", lang=lang).replace("rankdir=LR", "rankdir=TB", 1)
    try:
        import graphviz  # noqa: PLC0415

        svg = graphviz.Source(text).pipe(format="svg").decode()
    except Exception:
        return None, text
    return strip_xml_head(svg), text


def render_report(engine: Any, filters: Filters, *, lang: str = "en",
                  now: datetime | None = None) -> str:
    """The whole HTML report for ``filters`` as one string.

    Raises:
        NotFound: an unknown journey.
    """
    from jinja2 import Environment  # noqa: PLC0415

    from bompao.storage import repository  # noqa: PLC0415

    now = now or engine.now()
    journey: CompiledJourney = engine.journey(filters.journey, filters.version)
    labels = {name: stage.label(lang) for name, stage in journey.stages.items()}
    h = _HEADINGS.get(lang, _HEADINGS["en"])
    reports = Reports(engine)
    funnel = reports.funnel(filters)
    stages = reports.stages(filters)
    at_risk = reports.at_risk(filters, now=now)
    for row in at_risk:
        row["stage_title"] = labels.get(row["stage"], row["stage"])
        row["assigned_text"] = "; ".join(f"{role}: {', '.join(people)}"
                                         for role, people in row["assigned"].items())
    with engine.db.begin(write=False) as conn:
        rows = repository.list_projects(conn, journey=filters.journey, partner=filters.partner,
                                        cohort=filters.cohort)
    if filters.version is not None:
        rows = [r for r in rows if r.journey_version == filters.version]
    projects = [{"id": r.id, "name": r.name, "stage_title": labels.get(r.stage, r.stage),
                 "partner": r.partner, "cohort": r.cohort, "flags": list(r.flags or []),
                 "days": (now - r.stage_entered_at).days} for r in rows[:MAX_PROJECTS]]
    diagram_svg, diagram_text = _diagram_svg(journey, lang)
    scope = ", ".join(f"{k} {v}" for k, v in (("partner", filters.partner),
                                              ("cohort", filters.cohort)) if v)
    page = Environment(autoescape=True).from_string(_PAGE)
    return page.render(
        lang=lang, h=h, journey_title=journey.label(lang), journey_ref=journey.ref,
        generated=now.astimezone(ZoneInfo(journey.timezone)).strftime("%Y-%m-%d %H:%M %Z"),
        scope=scope, diagram_svg=diagram_svg, diagram_text=diagram_text,
        funnel_svg=_funnel_chart(funnel, labels, h), stages_svg=_stages_chart(stages, labels, h),
        at_risk=at_risk, projects=projects, more=len(rows) > MAX_PROJECTS, total=len(rows),
        impact_html=_impact_section(engine, filters, journey, lang))


def _impact_section(engine: Any, filters: Filters, journey: CompiledJourney,
                    lang: str) -> str:
    """The impact section (issue 13): the indicators view and its chart, escaped."""
    if not journey.indicators:
        return ""
    from bompao.engine.impact_report import impact_report  # noqa: PLC0415
    from bompao.engine.impact_views import section  # noqa: PLC0415

    found = impact_report(engine, journey=filters.journey, partner=filters.partner,
                          cohort=filters.cohort)
    return section(found, lang)
