"""``bompao report impact`` in every format (issue 13, item 6): xlsx read back with
openpyxl (one sheet per view, Thai text, numbers as numbers), CSV with a BOM for Excel,
HTML with a chart whose Thai labels sit under their bars, names escaped."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from bompao.engine import Engine
from bompao.engine.impact_report import impact_report
from bompao.engine.impact_views import _chart

JOURNEY = """\
journey: fmt
version: 1
roles: [participant]
indicators:
  people_reached:
    title: {en: People reached, th: จำนวนผู้ได้รับประโยชน์}
    type: int
    unit: {en: people, th: คน}
    target: 100
    tags: ["sdg:4.4"]
  income:
    title: {en: Income, th: รายได้}
    type: money
    target: 5000
    tags: ["sdg:8.3", "sdg:4.4"]
  still_operating: {type: bool, every: yearly, title: {en: Still operating, th: ยังดำเนินงานอยู่}}
stages:
  run: {initial: true}
  done: {final: true}
transitions:
  - {trigger: finish, from: run, to: done}
"""
SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert(1)</script>"


def ended_months() -> int:
    """Months from January 2026 that have ended by now in Bangkok."""
    today = datetime.now(ZoneInfo("Asia/Bangkok"))
    return (today.year - 2026) * 12 + today.month - 1


@pytest.fixture
def url(engine: Engine, clock: Any, store_url: str) -> str:
    clock.now = datetime(2026, 1, 5, 3, tzinfo=UTC)
    engine.publish(JOURNEY)
    first = engine.create_project("fmt", "ชุมชนบ้านดิน", partner="cmu", cohort="2027")
    second = engine.create_project("fmt", HOSTILE, partner="cmu", cohort="2027")
    clock.now = datetime(2026, 3, 5, 3, tzinfo=UTC)
    engine.measure(first.id, "people_reached", "2026-01", 40)
    engine.measure(first.id, "people_reached", "2026-02", 25)
    engine.measure(second.id, "income", "2026-02", 1234.5)
    engine.measure(second.id, "still_operating", "2026", True)
    return store_url


def test_xlsx_has_one_sheet_per_view_thai_text_and_numbers(url: str, cli: Any,
                                                          tmp_path: Path) -> None:
    out = tmp_path / "impact.xlsx"
    code, _, err = cli("--db", url, "--lang", "th", "report", "impact", "--journey", "fmt",
                       "--format", "xlsx", "-o", str(out))
    assert (code, err) == (0, "")
    book = load_workbook(out)
    assert book.sheetnames == ["ตัวชี้วัด", "โครงการ", "ตามแท็ก"]
    rows = list(book["ตัวชี้วัด"].iter_rows(values_only=True))
    assert rows[0][:6] == ("ตัวชี้วัด", "รหัส", "ชนิด", "หน่วย", "รวม", "เป้าหมาย")
    by_key = {row[1]: row for row in rows[1:]}
    assert by_key["people_reached"][0] == "จำนวนผู้ได้รับประโยชน์"
    assert by_key["people_reached"][3] == "คน"
    # numbers are numbers, of the indicator's kind: 40 + 25, two targets of 100; the
    # CLI runs on the real clock: every month since January 2026 has ended but this one
    assert by_key["people_reached"][4:9] == (65, 200, 2, 1, 2 * ended_months() - 2)
    assert by_key["income"][4] == pytest.approx(1234.5)
    assert isinstance(by_key["income"][4], float)
    cell = book["ตัวชี้วัด"]["E2"]
    assert cell.data_type == "n"
    projects = list(book["โครงการ"].iter_rows(values_only=True))
    names = {row[1] for row in projects[1:]}
    assert names == {"ชุมชนบ้านดิน", HOSTILE}  # text as written, not a formula
    tags = list(book["ตามแท็ก"].iter_rows(values_only=True))
    assert {(row[0], row[1]) for row in tags[1:]} == {
        ("sdg:4.4", "จำนวนผู้ได้รับประโยชน์"), ("sdg:4.4", "รายได้"), ("sdg:8.3", "รายได้")}


def test_xlsx_agrees_with_json(url: str, cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "impact.xlsx"
    assert cli("--db", url, "report", "impact", "--journey", "fmt", "--format", "xlsx",
               "-o", str(out))[0] == 0
    _, text, _ = cli("--db", url, "--json", "report", "impact", "--journey", "fmt")
    data = json.loads(text)
    sheet = load_workbook(out)["Projects"]
    for row in list(sheet.iter_rows(values_only=True))[1:]:
        project = next(p for p in data["projects"] if p["id"] == row[0])
        name = next(n for n in project["indicators"]
                    if data["indicators"][n]["title"]["en"] == row[4])
        assert row[5] == project["indicators"][name]["total"]


def test_csv_with_and_without_a_bom(url: str, cli: Any) -> None:
    code, plain, _ = cli("--db", url, "report", "impact", "--journey", "fmt", "--format",
                         "csv", "--view", "projects")
    assert code == 0
    assert not plain.startswith("\ufeff")
    code, marked, _ = cli("--db", url, "--lang", "th", "report", "impact", "--journey", "fmt",
                          "--format", "csv", "--bom")
    assert code == 0
    assert marked.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(marked.removeprefix("\ufeff"))))
    assert rows[0][0] == "ตัวชี้วัด"
    assert rows[1][:6] == ["จำนวนผู้ได้รับประโยชน์", "people_reached", "int", "คน", "65", "200"]
    projects = list(csv.DictReader(io.StringIO(plain)))
    assert {r["project"] for r in projects} == {"ชุมชนบ้านดิน", HOSTILE}


@pytest.mark.parametrize(("args", "needle"), [
    (("--format", "json", "--bom"), "--bom is for --format csv (a byte order mark for Excel)"),
    (("--format", "xlsx"), "--format xlsx writes a file: give -o FILE.xlsx"),
    (("--view", "sdg"), "unknown view 'sdg'; views: indicators, projects, tags"),
])
def test_bad_options_are_one_error_line_exit_2(url: str, cli: Any, args: tuple[str, ...],
                                               needle: str) -> None:
    code, out, err = cli("--db", url, "report", "impact", "--journey", "fmt", *args)
    assert (code, out) == (2, "")
    assert err.splitlines() == [f"error: {needle}"]


def test_html_escapes_names_and_draws_the_chart(url: str, cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "impact.html"
    code, _, _ = cli("--db", url, "--lang", "th", "report", "impact", "--journey", "fmt",
                     "--format", "html", "-o", str(out))
    assert code == 0
    page = out.read_text(encoding="utf-8")
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<svg" in page
    assert "จำนวนผู้ได้รับประโยชน์" in page
    # the program report carries the impact section too
    whole = tmp_path / "report.html"
    assert cli("--db", url, "report", "funnel", "--journey", "fmt", "--format", "html",
               "-o", str(whole))[0] == 0
    text = whole.read_text(encoding="utf-8")
    assert 'id="impact"' in text
    assert HOSTILE not in text


def test_the_charts_thai_labels_end_under_their_own_bars(engine: Engine, url: str) -> None:
    report = impact_report(engine, journey="fmt")
    root = ET.fromstring(_chart(report, "th"))
    bars = []
    for group in root.iter(f"{SVG}g"):
        if group.get("id", "").startswith("patch_"):
            for path in group.findall(f"{SVG}path"):
                if "#2680c2" in (path.get("style") or "") and path.get("clip-path"):
                    xs = [float(v) for v in re.findall(r"[ML] ([-\d.]+) [-\d.]+",
                                                       path.get("d", ""))]
                    bars.append((min(xs), max(xs)))
    labels = [text for group in root.iter(f"{SVG}g")
              if re.fullmatch(r"xtick_\d+", group.get("id", ""))
              for text in group.iter(f"{SVG}text")]
    assert [label.text for label in labels] == ["จำนวนผู้ได้รับประโยชน์", "รายได้"]
    bars.sort()
    assert len(bars) == 2
    for (left, right), label in zip(bars, labels, strict=True):
        assert "text-anchor: end" in (label.get("style") or "")
        assert left <= float(label.get("x", "nan")) <= right
