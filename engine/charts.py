"""Charts as inline SVG: matplotlib with a font that draws Thai, text kept as text.

The HTML report (:mod:`bompao.engine.html`) and the forecast page
(:mod:`bompao.engine.forecast_views`) draw with the same fonts and SVG form;
:func:`chart_svg` gives one of the report's charts alone, as an SVG document's bytes
(the web app serves each as an image).
"""

from __future__ import annotations

import functools
import io
import re
import threading
import warnings
from pathlib import Path
from typing import Any

__all__ = ["CHARTS", "chart_svg", "pyplot", "strip_xml_head", "svg", "thai_fonts"]

_XML_HEAD = re.compile(r"^.*?(?=<svg)", re.DOTALL)


def strip_xml_head(document: str) -> str:
    """An SVG document without what comes before ``<svg`` (prologue, doctype)."""
    return _XML_HEAD.sub("", document, count=1)


_THAI_FAMILIES = ("Noto Sans Thai", "Loma", "Sarabun", "Garuda", "Norasi", "Waree",
                  "Umpush", "Kinnari", "TlwgTypist", "Laksaman")
_THAI_SAMPLE = 0x0E01
"""ก: a font that has it draws Thai."""


def svg(figure: Any) -> str:
    """``figure`` as inline SVG (no XML prologue), its text kept as text."""
    buffer = io.StringIO()
    with warnings.catch_warnings():
        # without a Thai font (see thai_fonts) matplotlib warns once per missing glyph;
        # the browser still draws the text, since the SVG keeps it as text
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font")
        figure.savefig(buffer, format="svg", bbox_inches="tight")
    return strip_xml_head(buffer.getvalue())


@functools.cache
def thai_fonts() -> tuple[str, ...]:
    """The families of installed fonts that draw Thai, best first (registered with
    matplotlib, whose font cache may predate them). Empty when there is none."""
    from matplotlib import font_manager  # noqa: PLC0415
    from matplotlib.ft2font import FT2Font  # noqa: PLC0415

    known = {font.name for font in font_manager.fontManager.ttflist}
    if not known.intersection(_THAI_FAMILIES):
        for path in font_manager.findSystemFonts():
            stem = Path(path).stem.replace(" ", "").lower()
            if any(stem.startswith(name.replace(" ", "").lower()) for name in _THAI_FAMILIES):
                try:
                    if _THAI_SAMPLE in FT2Font(path).get_charmap():
                        font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError):
                    continue
        known = {font.name for font in font_manager.fontManager.ttflist}
    return tuple(name for name in _THAI_FAMILIES if name in known)


def pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend, with a Thai-capable font first."""
    import matplotlib as mpl  # noqa: PLC0415 - only reports plot

    mpl.use("Agg")
    from matplotlib import pyplot as plt  # noqa: PLC0415

    # a Thai font first, so matplotlib measures Thai labels with the glyphs the browser
    # draws (the SVG names the same families) and lays each out under its own bar
    mpl.rcParams["font.family"] = [*thai_fonts(), "DejaVu Sans"]
    mpl.rcParams["svg.fonttype"] = "none"  # text stays text: the browser shapes Thai
    return plt


CHARTS = ("funnel", "stages", "impact", "alumni")
"""The charts :func:`chart_svg` draws."""


def chart_svg(name: str, engine: Any, filters: Any, lang: str = "en", *,
              actor: Any = None) -> bytes | None:
    """One chart of the program report for ``filters``, as a standalone SVG document
    (UTF-8, its text kept as text, labels in ``lang``), drawn as the HTML report draws it;
    None when there is nothing to draw (no indicator with a target, no check-in due).

    Args:
        name: one of :data:`CHARTS`.
        engine: the engine.
        filters: the report's :class:`~bompao.storage.insight.Filters` (journey,
            partner, cohort).
        lang: ``en`` or ``th``.
        actor: whose partner scope the impact and alumni figures keep to.

    Raises:
        ValueError: an unknown chart name.
        NotFound: an unknown journey.
    """
    if name not in CHARTS:
        raise ValueError(name)
    import matplotlib as mpl  # noqa: PLC0415

    journey = engine.journey(filters.journey, filters.version)
    labels = {key: stage.label(lang) for key, stage in journey.stages.items()}
    # the same figures draw the same bytes (fixed ids, no date), so a chart's hash is
    # its ETag; the HTML report's own drawings are left as they were
    # pyplot keeps global state: one drawing at a time (the web app draws in threads)
    with _DRAWING, mpl.rc_context({"svg.hashsalt": "bompao"}):
        drawn = _draw(name, engine, filters, labels, lang, actor)
    return _DATE.sub("", drawn).encode() if drawn else None


_DRAWING = threading.Lock()
_DATE = re.compile(r"<dc:date>.*?</dc:date>\s*", re.DOTALL)


def _draw(name: str, engine: Any, filters: Any, labels: dict[str, str],  # noqa: PLR0917
          lang: str, actor: Any) -> str | None:
    from bompao.engine import html  # noqa: PLC0415 - html imports this module
    from bompao.engine.reports import Reports  # noqa: PLC0415

    h = html._HEADINGS.get(lang, html._HEADINGS["en"])
    drawn: str | None
    if name == "funnel":
        drawn = html._funnel_chart(Reports(engine).funnel(filters), labels, h)
    elif name == "stages":
        drawn = html._stages_chart(Reports(engine).stages(filters), labels, h)
    elif name == "impact":
        from bompao.engine.impact_report import impact_report  # noqa: PLC0415
        from bompao.engine.impact_views import _chart  # noqa: PLC0415

        drawn = _chart(impact_report(engine, journey=filters.journey, partner=filters.partner,
                                     cohort=filters.cohort, actor=actor), lang) or None
    else:
        from bompao.engine.alumni import alumni_report  # noqa: PLC0415

        drawn = _alumni_chart(alumni_report(engine, journey=filters.journey,
                                            partner=filters.partner, cohort=filters.cohort,
                                            actor=actor), lang)
    return drawn


def _alumni_chart(report: dict[str, Any], lang: str) -> str | None:
    """Per check-in, each cohort's share still operating (of those who answered)."""
    from bompao.definitions.messages import text  # noqa: PLC0415

    labels = report["check_ins"]
    cohorts = {name: cells for name, cells in report["cohorts"].items()
               if any(cell["reported"] for cell in cells.values())}
    if not labels or not cohorts:
        return None
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(8, 3.5))
    width = 0.8 / len(cohorts)
    for index, (cohort, cells) in enumerate(cohorts.items()):
        shares = [(cells[label]["share"] or 0.0) * 100 for label in labels]
        xs = [i + (index - (len(cohorts) - 1) / 2) * width for i in range(len(labels))]
        axes.bar(xs, shares, width=width, label=cohort or text("chart.no_cohort", lang))
    axes.set_xticks(list(range(len(labels))), [_after(label, lang) for label in labels])
    axes.set_ylim(0, 105)
    axes.set_ylabel("%")
    axes.legend(title=text("impact.cohort", lang))
    axes.spines[["top", "right"]].set_visible(False)
    drawn = svg(figure)
    plt.close(figure)
    return drawn


def _after(label: str, lang: str) -> str:
    """``6 months`` as the chart says it (``6 เดือน`` in Thai)."""
    from bompao.definitions.messages import text  # noqa: PLC0415

    count, _, unit = label.partition(" ")
    if count.isdigit() and unit.startswith("month"):
        return text("chart.after_months", lang, count=count)
    return label
