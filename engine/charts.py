"""Charts as inline SVG: matplotlib with a font that draws Thai, text kept as text.

The HTML report (:mod:`bompao.engine.html`) and the forecast page
(:mod:`bompao.engine.forecast_views`) draw with the same fonts and SVG form.
"""

from __future__ import annotations

import functools
import io
import re
import warnings
from pathlib import Path
from typing import Any

__all__ = ["pyplot", "strip_xml_head", "svg", "thai_fonts"]

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
