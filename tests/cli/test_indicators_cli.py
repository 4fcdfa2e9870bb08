"""``bompao project measure`` and ``bompao project indicators``, run as real processes on
SQLite and PostgreSQL: one ``error:`` line and the documented exit code for bad input,
nothing written."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bompao.definitions.indicators import Rhythm

BOMPAO = Path(sys.executable).with_name("bompao")
VALID = Path(__file__).resolve().parents[1] / "fixtures" / "valid" / "indicators.yaml"


def run(url: str, journeys: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BOMPAO), "--db", url, "--journeys", str(journeys), *args],
                          capture_output=True, text=True, check=False, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})


@pytest.fixture
def setup(store_url: str, tmp_path: Path) -> tuple[str, Path]:
    journeys = tmp_path / "journeys"
    journeys.mkdir()
    (journeys / "impact.yaml").write_text(VALID.read_text(encoding="utf-8"), encoding="utf-8")
    assert run(store_url, journeys, "init").returncode == 0
    created = run(store_url, journeys, "--json", "project", "create", "--journey", "impact",
                  "--name", "Reach", "--partner", "cmu")
    assert created.returncode == 0, created.stderr
    return store_url, journeys


def test_measure_then_read_back_as_json(setup: tuple[str, Path]) -> None:
    url, journeys = setup
    current = Rhythm(1).label(Rhythm(1).start_of(datetime.now(UTC).date()))
    first = run(url, journeys, "--json", "project", "measure", "1", "people_reached", "120",
                "--by", "Noi", "--role", "participant", "--note", "first count")
    assert first.returncode == 0, first.stderr
    recorded = json.loads(first.stdout)
    assert (recorded["indicator"], recorded["period"], recorded["value"]) == (
        "people_reached", current, 120)
    again = run(url, journeys, "project", "measure", "1", "people_reached", "130")
    assert again.returncode == 0
    assert again.stdout.strip() == f"project 1: people_reached = 130 for {current}"
    shown = run(url, journeys, "--json", "project", "indicators", "1")
    found = json.loads(shown.stdout)["people_reached"]
    assert (found["total"], found["latest"], found["periods"]) == (130, 130, 1)
    assert found["progress"] == pytest.approx(130 / 200)
    history = json.loads(run(url, journeys, "--json", "project", "history", "1").stdout)
    assert [e["payload"]["value"] for e in history if e["kind"] == "measured"] == [120, 130]
    table = run(url, journeys, "--lang", "th", "project", "indicators", "1")
    assert "จำนวนผู้ได้รับประโยชน์" in table.stdout
    assert "65%" in table.stdout
    # every heading from the catalogue in Thai, none left in English
    heads = next(line for line in table.stdout.splitlines() if "ตัวชี้วัด" in line).split()
    assert heads == ["ตัวชี้วัด", "รวม", "เป้าหมาย", "ค่าล่าสุด", "รอบที่รายงาน", "รอบที่ขาด",
                     "ความคืบหน้า"]
    thai = run(url, journeys, "--lang", "th", "project", "measure", "1", "people_reached", "140")
    assert thai.stdout.strip() == f"โครงการ 1: people_reached = 140 สำหรับรอบ {current}"


@pytest.mark.parametrize(("args", "code", "words"), [
    (("people_reached", "12.5"), 2, ("indicator 'people_reached' is int: expected a whole "
                                    "number, got '12.5'")),
    (("people_reached", "nan"), 2, "expected a whole number, got 'nan'"),
    (("income", "inf"), 2, "expected a finite number, got 'inf'"),
    (("still_operating", "maybe"), 2, "expected true or false, got 'maybe'"),
    (("people_reached", "5", "--period", "2027-Q1"), 2, "is not a period of this indicator"),
    (("people_reached", "5", "--period", "2999-01"), 2, "period '2999-01' has not begun"),
    (("peple_reached", "5"), 2, ("unknown indicator 'peple_reached' in journey impact@1 (did "
                                "you mean 'people_reached'?)")),
    (("people_reached", "5", "--by", "Malee", "--role", "coach"), 1,
     ("indicator 'people_reached' is reported by the role 'participant'; 'Malee' holds: "
     "coach")),
    (("people_reached", "5", "--role", "participant"), 2, "--role needs --by NAME"),
])
def test_bad_input_is_one_error_line_and_nothing_written(
        setup: tuple[str, Path], args: tuple[str, ...], code: int, words: str) -> None:
    url, journeys = setup
    before = run(url, journeys, "--json", "project", "history", "1").stdout
    done = run(url, journeys, "project", "measure", "1", *args)
    assert done.returncode == code, done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith("error: ")
    assert words in line
    assert run(url, journeys, "--json", "project", "history", "1").stdout == before


def test_another_partners_project_is_not_found(setup: tuple[str, Path]) -> None:
    url, journeys = setup
    done = run(url, journeys, "--partner", "kku", "project", "measure", "1",
               "people_reached", "5")
    assert done.returncode == 2
    assert done.stderr.strip() == "error: no project with id 1"


def test_report_impact_sums_the_projects_against_their_targets(
        setup: tuple[str, Path]) -> None:
    url, journeys = setup
    assert run(url, journeys, "project", "create", "--journey", "impact", "--name", "Two",
               "--partner", "kku").returncode == 0
    for project, value in (("1", "120"), ("2", "50"), ("1", "150")):  # project 1 corrected
        assert run(url, journeys, "project", "measure", project, "people_reached",
                   value).returncode == 0
    report = json.loads(run(url, journeys, "--json", "report", "impact", "--journey",
                            "impact").stdout)["indicators"]["people_reached"]
    assert (report["total"], report["target"], report["projects"], report["reported"]) == (
        200, 400, 2, 2)
    scoped = json.loads(run(url, journeys, "--partner", "kku", "--json", "report", "impact",
                            "--journey", "impact").stdout)["indicators"]["people_reached"]
    assert (scoped["total"], scoped["projects"]) == (50, 1)
    table = run(url, journeys, "report", "impact", "--journey", "impact")
    assert "People reached" in table.stdout
    assert "iris:PI4060" in table.stdout
    shown = run(url, journeys, "report", "impact", "--journey", "impact", "--format", "csv")
    assert shown.returncode == 0
    assert shown.stdout.splitlines()[0].startswith("indicator,key,type,unit,total,target")
    refused = run(url, journeys, "report", "impact", "--journey", "impact", "--format", "xlsx")
    assert refused.returncode == 2
    assert refused.stderr == "error: --format xlsx writes a file: give -o FILE.xlsx\n"
