"""The time-in-stage chart's Thai labels sit under their own bars (issue 15).

The chart is SVG with text kept as text, so the browser draws the labels with its own
shaping; matplotlib places them. Checked twice: in the SVG (each label is anchored by
its end at its bar's centre) and in headless Chromium (each drawn label's box ends
inside its own bar's span and below the bars). A chart of zeros has a 0-to-1 axis.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from bompao.definitions import JourneyCatalog, bundled_dir, load_path
from bompao.engine.charts import pyplot as _pyplot
from bompao.engine.charts import thai_fonts as _thai_fonts
from bompao.engine.html import _HEADINGS, _funnel_chart, _stages_chart

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SVG = "{http://www.w3.org/2000/svg}"
BAR = "#2680c2"
UNIVERSITY = load_path(bundled_dir() / "university-incubator.yaml",
                       resolve=JourneyCatalog().resolve)
LABELS = {name: stage.label("th") for name, stage in UNIVERSITY.stages.items()}
ROWS = [{"stage": name, "median_days": 10.0 + 7 * index, "p90_days": 20.0 + 9 * index,
         "max_days": 30.0 + 11 * index, "reached": 12 - index, "now": index % 3}
        for index, name in enumerate(UNIVERSITY.stages)]


def _bars(root: ET.Element) -> list[tuple[float, float, float]]:
    """(left, right, top) of each median bar, left to right (the legend's swatch is not
    in an ``axes`` patch group)."""
    bars = []
    for group in root.iter(f"{SVG}g"):
        if not group.get("id", "").startswith("patch_"):
            continue
        for path in group.findall(f"{SVG}path"):
            if BAR in (path.get("style") or "") and path.get("clip-path"):
                xs = [float(v) for v in re.findall(r"[ML] ([-\d.]+) [-\d.]+", path.get("d", ""))]
                ys = [float(v) for v in re.findall(r"[ML] [-\d.]+ ([-\d.]+)", path.get("d", ""))]
                bars.append((min(xs), max(xs), min(ys)))
    return sorted(bars)


def _tick_labels(root: ET.Element, axis: str) -> list[ET.Element]:
    labels = []
    for group in root.iter(f"{SVG}g"):
        if re.fullmatch(rf"{axis}tick_\d+", group.get("id", "")):
            labels.extend(group.iter(f"{SVG}text"))
    return labels


def test_a_thai_capable_font_is_found() -> None:
    """The CI installs fonts-tlwg-loma-otf; matplotlib finds it even if its cache is old."""
    assert "Loma" in _thai_fonts()


def test_thai_labels_are_measured_with_thai_glyphs_no_warnings() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plt = _pyplot()
        figure, axes = plt.subplots()
        axes.set_xticks(range(len(LABELS)), list(LABELS.values()))
        figure.canvas.draw()  # lays out the text: a missing glyph warns here
        plt.close(figure)
    assert [str(w.message) for w in caught] == []


def test_in_the_svg_each_label_ends_under_its_own_bar() -> None:
    root = ET.fromstring(_stages_chart(ROWS, LABELS, _HEADINGS["th"]))
    bars = _bars(root)
    labels = _tick_labels(root, "x")
    assert [label.text for label in labels] == list(LABELS.values())
    assert len(bars) == len(labels)
    centres = [(left + right) / 2 for left, right, _ in bars]
    for index, ((left, right, _), label) in enumerate(zip(bars, labels, strict=True)):
        style = label.get("style") or ""
        assert "text-anchor: end" in style  # so x is where the label ends
        end = float(label.get("x", "nan"))
        assert left <= end <= right, (label.text, end, (left, right))
        assert min(range(len(bars)), key=lambda i: abs(centres[i] - end)) == index
        assert "Loma" in style


_PROBE = """<!DOCTYPE html><html><head><meta charset="utf-8"></head>
<body style="margin:0">%s
<pre id="out"></pre><script>
const svg = document.querySelector("svg");
const bars = [...svg.querySelectorAll('g[id^="patch_"] > path[clip-path]')]
  .filter(p => (p.getAttribute("style") || "").includes("%s"))
  .map(p => p.getBoundingClientRect()).map(r => [r.left, r.right, r.bottom]);
const labels = [...svg.querySelectorAll('g[id^="xtick_"] text')]
  .map(t => { const r = t.getBoundingClientRect();
              return [t.textContent, r.left, r.right, r.top]; });
document.getElementById("out").textContent = JSON.stringify({bars, labels});
</script></body></html>"""


def _drawn(tmp_path: Path, svg: str) -> dict[str, Any]:
    assert Path(CHROMIUM).exists(), "Chromium is missing: apt-get install chromium"
    page = tmp_path / "chart.html"
    page.write_text(_PROBE % (svg, BAR), encoding="utf-8")
    shot = tmp_path / "chart.png"
    base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update",
            f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1000,600"]
    taken = subprocess.run([*base, f"--screenshot={shot}", page.as_uri()],
                           capture_output=True, text=True, timeout=120, check=False)
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.stat().st_size > 5_000, "a nearly empty screenshot"
    dumped = subprocess.run([*base, "--dump-dom", page.as_uri()], capture_output=True,
                            text=True, timeout=120, check=False)
    found = re.search(r'<pre id="out">(.*?)</pre>', dumped.stdout, re.DOTALL)
    assert found, dumped.stderr[-2000:]
    data: dict[str, Any] = json.loads(found.group(1).replace("&quot;", '"'))
    return data


def test_in_chromium_each_thai_label_sits_under_its_own_bar(tmp_path: Path) -> None:
    drawn = _drawn(tmp_path, _stages_chart(ROWS, LABELS, _HEADINGS["th"]))
    bars, labels = drawn["bars"], drawn["labels"]
    assert [label[0] for label in labels] == list(LABELS.values())
    assert len(bars) == len(labels) == len(LABELS)
    lowest = max(bottom for _, _, bottom in bars)
    for index, (text, _left, right, top) in enumerate(labels):
        centres = [(b_left + b_right) / 2 for b_left, b_right, _ in bars]
        nearest = min(range(len(bars)), key=lambda i: abs(centres[i] - right))
        assert nearest == index, f"{text!r} ends under bar {nearest}, not its own ({index})"
        bar_left, bar_right, _ = bars[index]
        assert bar_left <= right <= bar_right + 4, (text, right, bars[index])
        assert top >= lowest - 1, f"{text!r} overlaps the bars"


def _tick_texts(svg: str, axis: str) -> list[str]:
    return [label.text or "" for label in _tick_labels(ET.fromstring(svg), axis)]


def test_a_chart_of_zeros_has_an_axis_from_0_to_1() -> None:
    zeros = [{**row, "median_days": None, "p90_days": None, "max_days": None, "reached": 0,
              "now": 0} for row in ROWS]
    assert _tick_texts(_stages_chart(zeros, LABELS, _HEADINGS["en"]), "y") == ["0", "1"]
    assert _tick_texts(_funnel_chart(zeros, LABELS, _HEADINGS["en"]), "x") == ["0", "1"]


def test_counts_are_whole_numbers_from_zero() -> None:
    ticks = _tick_texts(_funnel_chart(ROWS, LABELS, _HEADINGS["en"]), "x")
    assert ticks[0] == "0"
    assert all(re.fullmatch(r"\d+", tick) for tick in ticks), ticks
