"""The HTML report: one self-contained file, opened in a real headless Chromium.

The report is rendered after the demo cohort's fourteen months (``run_demo``), in
English and Thai. Chromium (Debian's ``chromium``) takes a screenshot and dumps the
DOM it built; the test checks the page rendered its diagram and charts (inline SVG
in the DOM, the charts' colours in the screenshot's pixels) and that no script or
console error was logged. A control page with a deliberate script error proves the
console check can fail.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib import image
from reports.helpers import JOURNEY, MANAGER, MutableClock

from bompao.engine import Engine
from bompao.engine.demo import run_demo
from bompao.engine.html import render_report
from bompao.engine.reports import Filters, Reports

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
NOW = datetime(2027, 3, 6, 2, 0, tzinfo=UTC)
"""When the report is generated: the demo's last simulated day, 09:00 in Bangkok."""
BLUE, GREY = (0x26, 0x80, 0xC2), (0x9F, 0xB3, 0xC8)
"""The 'there now' and 'ever reached' bar colours of the funnel chart."""
EXTERNAL = re.compile(r"""(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//""",
                      re.IGNORECASE)


@dataclass
class Rendered:
    """The demo's reports and their HTML files."""

    engine: Engine
    english: Path
    thai: Path
    at_risk: list[dict[str, Any]]
    funnel: list[dict[str, Any]]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rendered]:
    """The full demo (425 simulated days) on SQLite, rendered in English and Thai."""
    folder = tmp_path_factory.mktemp("html")
    engine = Engine.from_url(f"sqlite:///{folder / 'demo.db'}")
    engine.journey(JOURNEY)
    run_demo(engine)
    filters = Filters(JOURNEY)
    english, thai = folder / "report.html", folder / "report-th.html"
    english.write_text(render_report(engine, filters, lang="en", now=NOW), encoding="utf-8")
    thai.write_text(render_report(engine, filters, lang="th", now=NOW), encoding="utf-8")
    reports = Reports(engine)
    yield Rendered(engine, english, thai, reports.at_risk(filters, now=NOW),
                   reports.funnel(filters))
    engine.close()


class Sections(HTMLParser):
    """Collects, per ``<section id=...>``, its text and how many ``<svg>`` it holds;
    and every element that could load something."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.current: str | None = None
        self.svgs: dict[str, int] = {}
        self.text: dict[str, list[str]] = {}
        self.loaders: list[tuple[str, dict[str, str | None]]] = []
        self.headings: list[str] = []
        self._heading = False
        self.lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "html":
            self.lang = found.get("lang")
        if tag == "section":
            self.current = found.get("id")
            self.svgs.setdefault(str(self.current), 0)
        elif tag == "svg" and self.current:
            self.svgs[self.current] += 1
        if tag in ("script", "link", "img", "iframe", "object", "embed", "video", "audio",
                   "source", "image", "use") and any(
                k in found for k in ("src", "href", "xlink:href", "data")):
            self.loaders.append((tag, found))
        if tag in ("h1", "h2"):
            self._heading = True
            self.headings.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self.current = None
        if tag in ("h1", "h2"):
            self._heading = False

    def handle_data(self, data: str) -> None:
        if self.current:
            self.text.setdefault(self.current, []).append(data)
        if self._heading:
            self.headings[-1] += data


def parse(html: str) -> Sections:
    """The sections of an HTML page."""
    parser = Sections()
    parser.feed(html)
    return parser


def chromium(tmp: Path, page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium on ``page`` with console logging to stderr."""
    assert Path(CHROMIUM).exists(), "Chromium is missing: apt-get install chromium"
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-background-networking", "--disable-component-update",
               "--no-first-run", "--disable-sync", "--disable-extensions",
               f"--user-data-dir={tmp / 'chromium-profile'}", "--enable-logging=stderr",
               "--v=0", *args, page.resolve().as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def console_lines(stderr: str) -> list[str]:
    """What the page logged to the console (messages, uncaught errors)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def _near(pixels: Any, colour: tuple[int, int, int], tolerance: int = 6) -> int:
    rgb = np.rint(pixels[..., :3] * 255).astype(int)
    return int(np.all(np.abs(rgb - np.array(colour)) <= tolerance, axis=-1).sum())


# the file itself -----------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "th"])
def test_the_file_is_self_contained(rendered: Rendered, lang: str) -> None:
    html = (rendered.english if lang == "en" else rendered.thai).read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert not EXTERNAL.findall(html), "loads something over the network"
    assert "<script" not in html.lower()
    assert "@import" not in html
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", html)
    page = parse(html)
    assert page.loaders == [] or all(
        str(attrs.get("href") or attrs.get("xlink:href") or "").startswith("#")
        for _, attrs in page.loaders), page.loaders
    assert page.lang == lang
    for section in ("diagram", "funnel", "stages"):
        assert page.svgs.get(section, 0) >= 1, f"no inline <svg> in section {section!r}"


def test_the_english_report_shows_the_cohort(rendered: Rendered) -> None:
    page = parse(rendered.english.read_text(encoding="utf-8"))
    journey = rendered.engine.journey(JOURNEY)
    assert page.headings[:1] == ["Program report: Social Incubator"]
    assert page.headings[1:] == ["Journey", "Funnel", "Time in stage (days)", "Indicators",
                                 "At risk", "Projects (30)"]
    funnel_text = " ".join(page.text["funnel"])
    for stage in journey.stages.values():  # the chart labels its bars with stage titles
        assert stage.label("en") in funnel_text
        assert stage.label("en") in " ".join(page.text["diagram"])
    risky = " ".join(page.text["at-risk"])
    assert rendered.at_risk, "the demo leaves projects at risk"
    for row in rendered.at_risk:
        assert row["name"] in risky
    listed = " ".join(page.text["projects"])
    assert "Clean Canal Bangkok / คลองสะอาด" in listed
    assert "Migrant Health Line / สายด่วนสุขภาพแรงงานข้ามชาติ" in listed
    assert "2027-03-06 09:00 +07" in rendered.english.read_text(encoding="utf-8")


def test_the_thai_report_has_thai_headings_and_stage_titles(rendered: Rendered) -> None:
    html = rendered.thai.read_text(encoding="utf-8")
    page = parse(html)
    journey = rendered.engine.journey(JOURNEY)
    assert page.headings == ["รายงานโปรแกรม: ระบบบ่มเพาะโครงการและกิจการเพื่อสังคม",
                             "เส้นทาง", "ภาพรวมการผ่านขั้น", "เวลาในแต่ละขั้น (วัน)",
                             "ตัวชี้วัด", "โครงการที่มีความเสี่ยง", "โครงการ (30)"]
    for name, stage in journey.stages.items():
        thai = stage.label("th")
        assert thai != stage.label("en"), name
        assert thai in " ".join(page.text["funnel"]), f"{name}: {thai} not in the chart"
        assert thai in " ".join(page.text["diagram"]), f"{name}: {thai} not in the diagram"
    assert "ค่ามัธยฐาน" in " ".join(page.text["stages"])  # the chart's legend
    assert "ผู้รับผิดชอบ" in " ".join(page.text["at-risk"])
    assert ">Idea<" not in html
    assert ">Validation<" not in html


# in a real browser ---------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "th"])
def test_chromium_renders_the_charts_without_errors(rendered: Rendered, lang: str,
                                                    tmp_path: Path) -> None:
    page = rendered.english if lang == "en" else rendered.thai
    shot = tmp_path / "report.png"
    taken = chromium(tmp_path, page, f"--screenshot={shot}", "--window-size=1200,2000",
                     "--hide-scrollbars")
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert console_lines(taken.stderr) == []
    assert shot.is_file()
    assert shot.stat().st_size > 50_000, "a nearly empty screenshot"
    pixels = image.imread(shot)
    assert pixels.shape[:2] == (2000, 1200)
    colours = np.unique(np.rint(pixels[..., :3] * 255).astype(np.uint8).reshape(-1, 3),
                        axis=0)
    assert len(colours) > 100, "the screenshot is (nearly) one colour"
    assert _near(pixels, BLUE) > 2000, "no 'there now' bars / median columns were painted"
    assert _near(pixels, GREY) > 2000, "no 'ever reached' bars were painted"

    dumped = chromium(tmp_path, page, "--dump-dom")
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    assert console_lines(dumped.stderr) == []
    dom = parse(dumped.stdout)
    for section in ("diagram", "funnel", "stages"):
        assert dom.svgs.get(section, 0) >= 1, f"the browser's DOM has no <svg> in {section!r}"
    assert dumped.stdout.count("<svg") >= 3
    assert "<script" not in dumped.stdout


def test_the_console_check_catches_a_script_error(tmp_path: Path) -> None:
    """Control: the same Chromium run reports a broken page's error and console output."""
    broken = tmp_path / "broken.html"
    broken.write_text("<!DOCTYPE html><html><body><p>x</p><script>console.error('boom');"
                      "notDefined();</script></body></html>", encoding="utf-8")
    ran = chromium(tmp_path, broken, "--dump-dom")
    lines = console_lines(ran.stderr)
    assert any("boom" in line for line in lines), ran.stderr[-2000:]
    assert any("Uncaught ReferenceError" in line for line in lines)


# on each store ---------------------------------------------------------------------------


def test_render_on_each_store(engine: Engine, clock: MutableClock) -> None:
    """A short demo on SQLite and PostgreSQL renders; names are escaped, not markup."""
    run_demo(engine, days=60)
    now = engine.now()
    engine.clock = clock
    clock.now = now
    hostile = engine.create_project(journey=JOURNEY, name="<script>alert(1)</script> & co",
                                    partner="cmu", cohort="<b>2026</b>", actor=MANAGER)
    engine.flag(hostile.id, "at_risk")
    html = render_report(engine, Filters(JOURNEY), now=now)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    assert "&lt;b&gt;2026&lt;/b&gt;" in html
    page = parse(html)
    assert page.headings[-1] == "Projects (31)"  # the demo's 30 applicants and this one
    assert all(page.svgs.get(s, 0) >= 1 for s in ("diagram", "funnel", "stages"))
    partner_only = parse(render_report(engine, Filters(JOURNEY, partner="cmu"), now=now))
    assert partner_only.headings[-1] == "Projects (1)"
    assert "partner cmu" in render_report(engine, Filters(JOURNEY, partner="cmu"), now=now)
