"""The cohort forecast as a terminal table and as a self-contained HTML page with charts.

The charts are SVG drawn by matplotlib, inlined as the HTML report does
(:mod:`bompao.engine.html`): projects that reached each stage by month, with the
10–90% band, and the coach load per month.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bompao.engine.charts import pyplot, svg
from bompao.engine.simulate import Forecast

__all__ = ["forecast_html", "forecast_table"]

_TEXT = {
    "en": {"title": "Cohort forecast", "stage": "stage", "reached": "reached by month {m}",
           "p10": "10%", "p90": "90%", "model": "model", "load": "coach load", "month": "month",
           "head": "{ref}: {n} projects, {m} months, {r} runs{seed}",
           "load_note": "Coach load: (project, coach) pairs at the end of each month = projects "
                        "in coached stages ({stages}) × {c} coaches per project.",
           "chart_reached": "Projects that reached each stage (mean, 10–90% band)",
           "chart_load": "Coach load at the end of each month (mean, 10–90%)",
           "history": "history ({n} visits)", "expected_duration": "expected duration",
           "stays": "stays (no history, no expected_duration)", "final": "final",
           "truncated": "Note: {n} projects were still moving after 1,000 stage changes "
                        "and were held where they were."},
    "th": {"title": "การคาดการณ์รุ่นโครงการ", "stage": "ขั้น", "reached": "ถึงภายในเดือนที่ {m}",
           "p10": "10%", "p90": "90%", "model": "แบบจำลอง", "load": "ภาระงานโค้ช",
           "month": "เดือน", "head": "{ref}: {n} โครงการ, {m} เดือน, {r} รอบ{seed}",
           "load_note": "ภาระงานโค้ช: คู่ (โครงการ, โค้ช) ณ สิ้นเดือน = โครงการในขั้นที่มีโค้ชดูแล "
                        "({stages}) × โค้ช {c} คนต่อโครงการ",
           "chart_reached": "โครงการที่ถึงแต่ละขั้น (ค่าเฉลี่ย, ช่วง 10–90%)",
           "chart_load": "ภาระงานโค้ช ณ สิ้นเดือน (ค่าเฉลี่ย, ช่วง 10–90%)",
           "history": "ประวัติ ({n} ครั้ง)", "expected_duration": "ระยะเวลาที่คาดไว้",
           "stays": "คงอยู่ (ไม่มีประวัติและไม่มี expected_duration)", "final": "ขั้นสุดท้าย",
           "truncated": "หมายเหตุ: {n} โครงการยังเปลี่ยนขั้นอยู่หลังเปลี่ยนขั้นครบ 1,000 ครั้ง "
                        "จึงหยุดไว้ที่ขั้นนั้น"},
}


def _text(lang: str) -> dict[str, str]:
    return _TEXT.get(lang, _TEXT["en"])


def _model_text(forecast: Forecast, name: str, t: dict[str, str]) -> str:
    model = forecast.models[name]
    if model.source == "history":
        return t["history"].format(n=len(model.days))
    return t[model.source]


def _head(forecast: Forecast, t: dict[str, str]) -> str:
    seed = "" if forecast.seed is None else f" (seed {forecast.seed})"
    return t["head"].format(ref=forecast.journey.ref, n=forecast.projects, m=forecast.months,
                            r=forecast.runs, seed=seed)


def _load_note(forecast: Forecast, t: dict[str, str]) -> str:
    return t["load_note"].format(stages=", ".join(forecast.coached) or "-",
                                 c=f"{forecast.coaches_per_project:g}")


def forecast_table(forecast: Forecast, lang: str = "en") -> str:
    """The forecast as aligned text: one row per stage, then the coach load per month."""
    t = _text(lang)
    data = forecast.as_dict()
    labels = {n: s.label(lang) for n, s in forecast.journey.stages.items()}
    rows = [[t["stage"], t["reached"].format(m=forecast.months), t["p10"], t["p90"], t["model"]]]
    for name, summary in data["stages"].items():
        rows.append([labels[name], f"{summary['mean']:.1f}", f"{summary['p10']:g}",
                     f"{summary['p90']:g}", _model_text(forecast, name, t)])
    rows.append([])
    rows.append([t["month"], t["load"], t["p10"], t["p90"], ""])
    rows.extend([str(item["month"]), f"{item['mean']:.1f}", f"{item['p10']:g}",
                 f"{item['p90']:g}", ""] for item in data["coach_load"])
    widths = [max(len(r[i]) for r in rows if r) for i in range(5)]
    lines = [_head(forecast, t), ""]
    for row in rows:
        if not row:
            lines.append("")
            continue
        cells = [row[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(row[1:4], widths[1:4],
                                                                        strict=True)), row[4]]
        lines.append("  ".join(cells).rstrip())
    lines += ["", _load_note(forecast, t)]
    if forecast.truncated:
        lines.append(t["truncated"].format(n=forecast.truncated))
    return "\n".join(lines)


def _charts(forecast: Forecast, lang: str, t: dict[str, str]) -> tuple[str, str]:
    plt = pyplot()
    months = np.arange(forecast.months + 1)
    figure, axes = plt.subplots(figsize=(8, 4))
    for i, name in enumerate(forecast.stages):
        values = forecast.reached[:, :, i]
        mean = values.mean(axis=0)
        p10, p90 = np.percentile(values, [10, 90], axis=0)
        (line,) = axes.plot(months, mean, label=forecast.journey.stages[name].label(lang))
        axes.fill_between(months, p10, p90, color=line.get_color(), alpha=0.15)
    axes.set_xlabel(t["month"])
    axes.set_ylim(0, max(1, forecast.projects) * 1.05)
    axes.set_title(t["chart_reached"])
    axes.legend(fontsize="small", loc="upper left")
    axes.spines[["top", "right"]].set_visible(False)
    reached = svg(figure)
    plt.close(figure)
    figure, axes = plt.subplots(figsize=(8, 3))
    load = forecast.coach_load[:, 1:]
    mean = load.mean(axis=0)
    p10, p90 = np.percentile(load, [10, 90], axis=0)
    axes.bar(months[1:], mean, color="#2680c2")
    # the mean of a skewed load may lie outside its 10-90% range: no negative whiskers
    axes.errorbar(months[1:], mean, yerr=[np.clip(mean - p10, 0, None),
                                          np.clip(p90 - mean, 0, None)],
                  fmt="none", ecolor="#616e7c", capsize=2)
    axes.set_xlabel(t["month"])
    axes.set_ylim(0, max(1.0, float(p90.max(initial=0.0))) * 1.1)
    axes.set_title(t["chart_load"])
    axes.spines[["top", "right"]].set_visible(False)
    coaches = svg(figure)
    plt.close(figure)
    return reached, coaches


_PAGE = """<!DOCTYPE html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ t.title }}: {{ journey_title }}</title>
<style>
body { font-family: "Noto Sans Thai", "Loma", "Sarabun", system-ui, sans-serif; margin: 2rem;
       color: #1f2933; max-width: 1100px; }
.meta { color: #616e7c; } svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; font-size: .92rem; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #e4e7eb; }
th { background: #f5f7fa; } td.num { text-align: right; }
</style></head><body>
<h1>{{ t.title }}: {{ journey_title }}</h1>
<p class="meta">{{ head }}</p>
<section id="reached"><figure class="chart">{{ reached_svg | safe }}</figure>
<table><tr><th>{{ t.stage }}</th><th>{{ reached_header }}</th><th>{{ t.p10 }}</th>
<th>{{ t.p90 }}</th><th>{{ t.model }}</th></tr>
{% for r in rows %}<tr><td>{{ r.label }}</td><td class="num">{{ r.mean }}</td>
<td class="num">{{ r.p10 }}</td><td class="num">{{ r.p90 }}</td><td>{{ r.model }}</td></tr>
{% endfor %}</table></section>
<section id="coach-load"><figure class="chart">{{ load_svg | safe }}</figure>
<p>{{ load_note }}</p></section>
</body></html>
"""


def forecast_html(forecast: Forecast, lang: str = "en") -> str:
    """The forecast as one self-contained HTML page with two inline SVG charts."""
    from jinja2 import Environment  # noqa: PLC0415

    t = _text(lang)
    reached_svg, load_svg = _charts(forecast, lang, t)
    rows: list[dict[str, Any]] = [
        {"label": forecast.journey.stages[name].label(lang), "mean": f"{s['mean']:.1f}",
         "p10": f"{s['p10']:g}", "p90": f"{s['p90']:g}",
         "model": _model_text(forecast, name, t)}
        for name, s in forecast.as_dict()["stages"].items()]
    return Environment(autoescape=True).from_string(_PAGE).render(
        lang=lang, t=t, journey_title=forecast.journey.label(lang), head=_head(forecast, t),
        reached_svg=reached_svg, load_svg=load_svg, rows=rows,
        reached_header=t["reached"].format(m=forecast.months),
        load_note=_load_note(forecast, t))
