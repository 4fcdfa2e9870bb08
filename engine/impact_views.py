"""The impact report as tables: for the terminal, CSV, HTML (with charts) and xlsx.

:func:`sheets` turns the report (:func:`bompao.engine.impact_report.impact_report`)
into one table per view with raw values (numbers stay numbers, for xlsx); the other
formats render those tables. Headings come from the message catalogue, in English or
Thai.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from bompao.definitions.messages import text
from bompao.definitions.texts import pick

__all__ = ["as_csv", "as_html", "page", "section", "sheets"]

Table = tuple[str, list[str], list[list[Any]]]


def _h(key: str, lang: str) -> str:
    return text(f"impact.{key}", lang)


def sheets(report: dict[str, Any], lang: str = "en") -> list[Table]:
    """``(view title, headers, rows)`` of the indicators, projects and tags views."""
    titles = {name: pick(row["title"], lang, name) for name, row in report["indicators"].items()}
    indicators = [[titles[name], name, row["type"], pick(row["unit"], lang, ""), row["total"],
                   row["target"], row["projects"], row["reported"], row["missing"],
                   ", ".join(row["tags"])]
                  for name, row in report["indicators"].items()]
    projects = []
    for project in report["projects"]:
        for name, row in project["indicators"].items():
            projects.append([project["id"], project["name"], project["partner"] or "",
                             project["cohort"] or "", titles.get(name, name), row["total"],
                             row["target"], row["periods"], row["missing"],
                             row["progress"]])
    tags = [[tag, titles.get(name, name), row["total"], row["target"], entry["projects"]]
            for tag, entry in report["tags"].items()
            for name, row in entry["indicators"].items()]
    return [
        (_h("view_indicators", lang),
         [_h(k, lang) for k in ("indicator", "key", "type", "unit", "total", "target",
                                 "projects", "reported", "missing", "tags")], indicators),
        (_h("view_projects", lang),
         [_h(k, lang) for k in ("id", "project", "partner", "cohort", "indicator", "total",
                                 "target", "periods", "missing", "progress")], projects),
        (_h("view_tags", lang),
         [_h(k, lang) for k in ("tag", "indicator", "total", "target", "projects")], tags),
    ]


def _plain(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def as_csv(table: Table, *, bom: bool = False) -> str:
    """One view as CSV (``bom``: with a UTF-8 byte order mark, for Excel)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(table[1])
    writer.writerows([[_plain(v) for v in row] for row in table[2]])
    return ("\ufeff" if bom else "") + buffer.getvalue()


def _chart(report: dict[str, Any], lang: str) -> str:
    """Each indicator with a target: its total against the target, labels under bars."""
    from bompao.engine.charts import pyplot, svg  # noqa: PLC0415

    rows = [(pick(row["title"], lang, name), float(row["total"] or 0), float(row["target"]))
            for name, row in report["indicators"].items()
            if row["target"] is not None and row["type"] != "bool"]
    if not rows:
        return ""
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(8, 3.5))
    xs = range(len(rows))
    shares = [total / target * 100 if target else 0.0 for _, total, target in rows]
    axes.bar(xs, shares, color="#2680c2", label=_h("total", lang))
    axes.axhline(100, color="#d64545", linewidth=1, label=_h("target", lang))
    # each label ends at its bar's centre: rotation about the anchor keeps it there
    axes.set_xticks(list(xs), [title for title, _, _ in rows], rotation=30, ha="right",
                    rotation_mode="anchor")
    axes.set_ylabel("%")
    axes.legend()
    axes.spines[["top", "right"]].set_visible(False)
    drawn = svg(figure)
    plt.close(figure)
    return drawn


_PAGE = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body { font-family: "Noto Sans Thai", "Loma", "Sarabun", system-ui, sans-serif; margin: 2rem; }
table { border-collapse: collapse; margin-bottom: 2rem; }
th, td { border: 1px solid #ccc; padding: .3rem .6rem; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
</style></head><body>
<h1>{{ title }}</h1>
{% if chart %}<figure class="chart">{{ chart|safe }}</figure>{% endif %}
{% for name, headers, rows in tables %}
<h2>{{ name }}</h2>
<table{% if table_id %} id="{{ table_id }}"{% endif %}>
<thead><tr>{% for h in headers %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in rows %}<tr>{% for v in row %}
<td{% if v is number %} class="n"{% endif %}>{{ v }}</td>{% endfor %}</tr>{% endfor %}
</tbody></table>
{% endfor %}
</body></html>
"""


_SECTION = """<section id="impact"><h2>{{ title }}</h2>
{% if chart %}<figure class="chart">{{ chart|safe }}</figure>{% endif %}
<table><thead><tr>{% for h in headers %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in rows %}<tr>{% for v in row %}
<td{% if v is number %} class="num"{% endif %}>{{ v }}</td>{% endfor %}</tr>{% endfor %}
</tbody></table></section>
"""


def section(report: dict[str, Any], lang: str = "en") -> str:
    """The indicators view and chart as a section of the program report (escaped)."""
    from jinja2 import Environment  # noqa: PLC0415

    name, headers, rows = sheets(report, lang)[0]
    return Environment(autoescape=True).from_string(_SECTION).render(
        title=name, chart=_chart(report, lang), headers=headers,
        rows=[[_plain(v) for v in row] for row in rows])


def as_html(report: dict[str, Any], lang: str = "en",
            tables: Sequence[Table] | None = None) -> str:
    """The whole report as one self-contained page (escaped: names are data)."""
    shown = [(name, headers, [[_plain(v) for v in row] for row in rows])
             for name, headers, rows in (tables or sheets(report, lang))]
    return page(text("impact.title", lang, journey=report["journey"]), _chart(report, lang),
                shown, lang)


def page(title: str, chart: str | None, tables: Sequence[Table], lang: str = "en", *,
         table_id: str | None = None) -> str:
    """A self-contained report page: a title, an inline SVG chart (``None``: none) and
    tables of ``(name, headers, rows)``, every value escaped; ``table_id`` names the
    tables' ``id`` (for a page of one table)."""
    from jinja2 import Environment  # noqa: PLC0415

    return Environment(autoescape=True).from_string(_PAGE).render(
        lang=lang, title=title, chart=chart, tables=tables, table_id=table_id)
