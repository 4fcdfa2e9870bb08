"""``bompao report`` and ``bompao project export|import``, run as real subprocesses.

A small program is written through the library on the parametrised ``store_url``
(a SQLite file and a fresh PostgreSQL schema); the CLI must print the same numbers
as the library in every format, line its tables up (Thai included, measured in
terminal cells), apply the filters, and turn bad input into exit 2 with one
``error:`` line and no traceback.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from reports.helpers import JOURNEY, MANAGER, T0, MutableClock, bompao, prepare_and_advance

from bompao.cli import main
from bompao.engine import Engine
from bompao.engine.reports import Filters, Reports
from bompao.storage.tables import events, projects

NOW = T0 + timedelta(days=200)


@pytest.fixture
def program(store_url: str) -> Iterator[Engine]:
    """Six projects of two partners and two cohorts, in different stages, one flagged.

    Project 0 (cmu, 2026) and 1 (cmu, 2027) are created at T0; the others (bkk) on
    day 30. Projects 0, 2 and 3 validate on day 40; 0 starts its test run on day 60;
    4 withdraws on day 70; 5 stays in idea. Clock ends at day 200.
    """
    clock = MutableClock(T0)
    engine = Engine.from_url(store_url, clock=clock)
    made = []
    for number in range(6):
        if number == 2:
            clock.now = T0 + timedelta(days=30)
        made.append(engine.create_project(
            journey=JOURNEY, name=["Clean Canal / คลองสะอาด", "Elder Care", "ชมรมเขียนโค้ด",
                                   "Reading Buses", "Silk Weavers", "Flood Warning"][number],
            partner="cmu" if number < 2 else "bkk",
            cohort="2027" if number == 1 else "2026", actor=MANAGER).id)
    for number, pid in enumerate(made):
        engine.assign(pid, role="coach", person="มาลี" if number % 2 else "Somchai")
    clock.now = T0 + timedelta(days=40)
    for pid in (made[0], made[2], made[3]):
        prepare_and_advance(engine, pid, "validate")
    clock.now = T0 + timedelta(days=60)
    prepare_and_advance(engine, made[0], "start_test_run")
    clock.now = T0 + timedelta(days=70)
    prepare_and_advance(engine, made[4], "withdraw")
    engine.flag(made[5], "at_risk")
    clock.now = NOW
    yield engine
    engine.close()


def _width(text: str) -> int:
    """Terminal cells: combining marks (Thai vowels and tone marks above and below)
    take none, wide East Asian characters two."""
    return sum(0 if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me")
               else 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
               for ch in text)


def _starts(line: str) -> set[int]:
    """The terminal columns where a cell starts (non-space after two spaces or at 0-2)."""
    cells: set[int] = set()
    column, gap = 0, 2
    for ch in line:
        if ch != " " and gap >= 2:
            cells.add(column)
        gap = gap + 1 if ch == " " else 0
        column += _width(ch)
    return cells


def table_rows(stdout: str, first_header: str) -> tuple[str, list[str]]:
    """The header line and the data lines of a rich SIMPLE_HEAD table."""
    lines = stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith(first_header))
    assert set(lines[at + 1].strip()) == {"─"}, lines[at + 1]
    data = [line for line in lines[at + 2:] if line.strip()]
    return lines[at], data


def assert_aligned(header: str, rows: list[str]) -> None:
    """Every cell of every row starts at a column where a header cell starts."""
    columns = _starts(header)
    for row in rows:
        assert _starts(row) <= columns, f"misaligned:\n{header}\n{row}"
        assert _width(row) == _width(header), f"ragged right edge:\n{header}\n{row}"


def ok(store_url: str, *args: str) -> str:
    result = bompao(*args, db=store_url)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def refused(store_url: str, *args: str, code: int = 2) -> str:
    result = bompao(*args, db=store_url)
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    return lines[0]


# formats --------------------------------------------------------------------------------


def test_funnel_table_is_aligned(program: Engine, store_url: str) -> None:
    out = ok(store_url, "report", "funnel")
    assert out.lstrip().startswith("Funnel")
    header, rows = table_rows(out, "stage")
    for name in ("stage", "ever reached", "there now", "to next", "exit"):
        assert name in header
    assert len(rows) == 8
    assert_aligned(header, rows)
    idea = rows[0].split()
    assert idea[:4] == ["Idea", "6", "2", "50%"]
    assert rows[-2].split()[:3] == ["Withdrawn", "1", "1"]
    assert rows[-1].split()[:4] == ["Not", "selected", "0", "0"]  # the call's others


def test_thai_table_is_aligned_in_terminal_cells(program: Engine, store_url: str) -> None:
    out = ok(store_url, "--lang", "th", "report", "funnel")
    assert out.lstrip().startswith("ภาพรวมการผ่านขั้น")
    header, rows = table_rows(out, "ขั้น")
    assert "เคยถึง" in header
    titles = [row.strip().split("  ")[0] for row in rows]
    assert titles == ["ไอเดีย", "การตรวจสอบไอเดียกับกลุ่มเป้าหมาย", "การทดลองทำ", "แสดงผลงาน",
                      "ส่งต่อ", "หยุดชะงัก", "ถอนตัว", "ไม่ผ่านการคัดเลือก"]
    assert_aligned(header, rows)
    out = ok(store_url, "--lang", "th", "report", "coaches")
    header, rows = table_rows(out, "ผู้รับผิดชอบ")
    assert any(row.strip().startswith("มาลี") for row in rows)
    assert_aligned(header, rows)


def test_other_tables_are_aligned(program: Engine, store_url: str) -> None:
    for name, first in (("stages", "stage"), ("at-risk", "id"), ("coaches", "person")):
        header, rows = table_rows(ok(store_url, "report", name), first)
        assert rows, name
        assert_aligned(header, rows)


def test_json_equals_the_library(program: Engine, store_url: str,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("funnel", "stages", "at-risk", "coaches"):
        data = json.loads(inproc(capsys, store_url, "report", name, "--format", "json"))
        assert data == json.loads(inproc(capsys, store_url, "--json", "report", name))
        # the command's clock is the real one
        expected = Reports(program).run(name, Filters(JOURNEY), now=datetime.now(UTC))
        for row in (*data, *expected):
            row.pop("days_in_stage", None)
        assert data == expected, name
    assert json.loads(ok(store_url, "--json", "report", "funnel")) == json.loads(
        inproc(capsys, store_url, "--json", "report", "funnel"))


def test_csv_parses(program: Engine, store_url: str) -> None:
    rows = list(csv.reader(io.StringIO(ok(store_url, "report", "stages", "--format", "csv"))))
    assert rows[0] == ["stage", "visits", "median days", "p90 days", "max days",
                       "expected days"]
    assert [r[0] for r in rows[1:]] == ["Idea", "Validation", "Test run", "Showcase",
                                        "Handoff", "Stalled", "Withdrawn", "Not selected"]
    idea = rows[1]
    assert idea[1] == "4"  # 3 validated, 1 withdrew
    assert float(idea[3]) == 40.0  # validated after 40, 10, 10 days; withdrew after 40
    at_risk = list(csv.DictReader(io.StringIO(
        ok(store_url, "report", "at-risk", "--format", "csv"))))
    assert {r["name"] for r in at_risk} >= {"Flood Warning"}
    assert all(r["why"] for r in at_risk)
    thai = list(csv.reader(io.StringIO(
        ok(store_url, "--lang", "th", "report", "funnel", "--format", "csv"))))
    assert thai[0][0] == "ขั้น"
    assert thai[2][0] == "การตรวจสอบไอเดียกับกลุ่มเป้าหมาย"


def test_csv_and_json_to_a_file(program: Engine, store_url: str, tmp_path: Path) -> None:
    target = tmp_path / "funnel.csv"
    result = bompao("report", "funnel", "--format", "csv", "-o", str(target), db=store_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert list(csv.reader(target.open(encoding="utf-8")))[1][:3] == ["Idea", "6", "2"]


def test_html_written_to_the_output(program: Engine, store_url: str, tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    out = ok(store_url, "--lang", "th", "report", "at-risk", "--format", "html",
             "-o", str(target))
    assert out.strip() == f"บันทึกไฟล์ {target} แล้ว"  # --lang th: the confirmation too
    html = target.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert html.count("<svg") >= 3
    assert "โครงการที่มีความเสี่ยง" in html
    assert "Flood Warning" in html
    data = json.loads(ok(store_url, "--json", "report", "funnel", "--format", "html",
                         "-o", str(tmp_path / "again.html")))
    assert data == {"report": "html", "journey": JOURNEY, "output": str(tmp_path / "again.html")}


# filters ----------------------------------------------------------------------------------


def inproc(capsys: pytest.CaptureFixture[str], store_url: str, *args: str) -> str:
    """Run ``bompao --db URL ARGS`` in this process (faster than a subprocess); expect
    exit 0 and return stdout."""
    capsys.readouterr()
    code: object = 0
    try:
        main(["--db", store_url, *args])
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    assert code in (0, None), captured.err
    return captured.out


def _funnel(capsys: pytest.CaptureFixture[str], store_url: str,
            *args: str) -> dict[str, tuple[int, int]]:
    rows = json.loads(inproc(capsys, store_url, "report", "funnel", "--format", "json", *args))
    return {r["stage"]: (r["reached"], r["now"]) for r in rows if r["reached"] or r["now"]}


def test_partner_cohort_since_until(program: Engine, store_url: str,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert _funnel(capsys, store_url) == {"idea": (6, 2), "validation": (3, 2), "test_run": (1, 1),
                                  "withdrawn": (1, 1)}
    assert _funnel(capsys, store_url, "--partner", "cmu") == {
        "idea": (2, 1), "validation": (1, 0), "test_run": (1, 1)}
    assert _funnel(capsys, store_url, "--partner", "cmu", "--cohort", "2027") == {"idea": (1, 1)}
    assert _funnel(capsys, store_url, "--cohort", "2026") == {
        "idea": (5, 1), "validation": (3, 2), "test_run": (1, 1), "withdrawn": (1, 1)}
    # entries on or after day 30: four creations, three validations, a test run, a withdrawal
    since = (T0 + timedelta(days=30)).isoformat()
    assert _funnel(capsys, store_url, "--since", since) == {
        "idea": (4, 2), "validation": (3, 2), "test_run": (1, 1), "withdrawn": (1, 1)}
    # a date alone is midnight UTC; entries before day 50
    until = (T0 + timedelta(days=50)).date().isoformat()
    assert _funnel(capsys, store_url, "--until", until) == {
        "idea": (6, 2), "validation": (3, 2), "test_run": (0, 1), "withdrawn": (0, 1)}
    assert _funnel(capsys, store_url, "--version", "3") == _funnel(capsys, store_url)
    assert _funnel(capsys, store_url, "--partner", "nobody") == {}
    people = json.loads(inproc(capsys, store_url, "report", "coaches", "--format", "json",
                               "--partner", "bkk"))
    assert {(r["person"], r["projects"]) for r in people} == {("Somchai", 2), ("มาลี", 2)}


# errors -----------------------------------------------------------------------------------


def test_unknown_journey(program: Engine, store_url: str) -> None:
    line = refused(store_url, "report", "funnel", "--journey", "no-such-journey")
    assert "no-such-journey" in line
    assert "social-incubator@3" in line  # lists the known ones


@pytest.mark.parametrize("option", ["--since", "--until"])
def test_bad_time(program: Engine, store_url: str, option: str) -> None:
    line = refused(store_url, "report", "stages", option, "last tuesday")
    assert "'last tuesday'" in line
    assert "ISO 8601" in line


def test_bad_report_name_and_format(program: Engine, store_url: str, tmp_path: Path) -> None:
    refused(store_url, "report", "velocity")
    refused(store_url, "report", "funnel", "--format", "pdf")
    line = refused(store_url, "report", "funnel", "-o", str(tmp_path / "x.txt"))
    assert "--format" in line
    assert not (tmp_path / "x.txt").exists()


# export and import --------------------------------------------------------------------------


def _count(engine: Engine) -> tuple[int, int]:
    with engine.db.begin(write=False) as conn:
        return (conn.execute(sa.select(sa.func.count()).select_from(projects)).scalar_one(),
                conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one())


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_and_import(program: Engine, store_url: str, tmp_path: Path, fmt: str) -> None:
    target = tmp_path / f"cohort.{fmt}"
    result = bompao("project", "export", "--format", fmt, "--partner", "bkk", "-o",
                    str(target), db=store_url)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == f"exported 4 project(s) to {target}"
    printed = ok(store_url, "project", "export", "--format", fmt, "--partner", "bkk")
    assert printed.rstrip("\n") == target.read_text(encoding="utf-8").rstrip("\n")
    before = _count(program)
    assert ok(store_url, "project", "import", str(target), "--dry-run").strip() == \
        "would import 4 project(s)"
    assert _count(program) == before
    out = ok(store_url, "project", "import", str(target))
    assert out.startswith("imported 4 project(s): ids ")
    assert _count(program) == (before[0] + 4, before[1] + 4)
    mine = program.list_projects(partner="bkk")
    by_name: dict[str, list[Any]] = {}
    for project in mine:
        by_name.setdefault(project.name, []).append(
            (project.stage, project.stage_entered_at, project.fields, project.flags,
             project.assignments, project.cohort))
    assert all(len(v) == 2 and v[0] == v[1] for v in by_name.values()), by_name


def test_import_a_bad_file_lists_every_bad_row(program: Engine, store_url: str,
                                                tmp_path: Path) -> None:
    bad = tmp_path / "partner.csv"
    bad.write_text(
        "name,journey,stage,stage_entered_at,assignments,field.interviews_done\n"
        "Fine,social-incubator,idea,,,3\n"
        ",social-incubator,idea,,,\n"
        "Lost,nowhere,idea,,,\n"
        "Orbit,social-incubator,orbit,,,\n"
        "Many,social-incubator,idea,,,many\n"
        "Wizard,social-incubator,idea,,wizard:Merlin,\n"
        "Naive,social-incubator,idea,2026-01-05T09:00:00,,\n"
        "Also fine,social-incubator,validation,2026-01-05T09:00:00+07:00,coach:Malee,12\n",
        encoding="utf-8")
    before = _count(program)
    line = refused(store_url, "project", "import", str(bad))
    assert line.startswith("error: 6 bad row(s), nothing imported: row 2: ")
    for number, mention in ((2, "name"), (3, "nowhere"), (4, "orbit"), (5, "many"),
                            (6, "wizard"), (7, "offset")):
        assert f"row {number}: " in line
        part = line.split(f"row {number}: ", 1)[1].split("; row ", 1)[0]
        assert mention in part, (number, part)
    assert "row 1:" not in line
    assert "row 8:" not in line
    assert _count(program) == before
    line = refused(store_url, "project", "import", str(bad), "--dry-run")
    assert "6 bad row(s)" in line
    assert _count(program) == before


def test_import_input_errors(program: Engine, store_url: str, tmp_path: Path) -> None:
    assert "no such file" in refused(store_url, "project", "import",
                                     str(tmp_path / "missing.csv"))
    broken = tmp_path / "broken.json"
    broken.write_text("[{", encoding="utf-8")
    assert "not JSON" in refused(store_url, "project", "import", str(broken))
    headless = tmp_path / "headless.csv"
    headless.write_text("a,b\n1,2\n", encoding="utf-8")
    assert "name" in refused(store_url, "project", "import", str(headless))
