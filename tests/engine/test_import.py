"""``project import`` holds rows to the checks ``create_project`` makes, keeps evidence on
the round trip, names a misspelt column's closest match, skips blank rows, and refuses a
file that is not UTF-8 — writing nothing unless every row is good.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bompao.definitions.values import MAX_TEXT
from bompao.engine import Engine
from bompao.engine.history import replay
from bompao.engine.transfer import (
    ImportRefused,
    decode,
    export_projects,
    import_projects,
    read_rows,
    write_rows,
)
from bompao.errors import InvalidValue, UsageError
from bompao.storage.tables import events, follow_ups, journeys, projects

SI = "social-incubator@2"
"""Version 2: these rows are restores and tests, not applications (version 3's initial stage
takes applications, held to its form: see tests/test_cli_intake.py)."""
HEADER = "journey,name,stage,field.interviews_done\n"


def _counts(engine: Engine) -> list[int]:
    with engine.db.begin(write=False) as conn:
        return [conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in (projects, events, follow_ups, journeys)]


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    engine.create_project(SI, "Already here")
    return engine


def _refused(engine: Engine, rows: list[dict[str, Any]]) -> list[tuple[int, str]]:
    before = _counts(engine)
    with pytest.raises(ImportRefused) as caught:
        import_projects(engine, rows)
    assert _counts(engine) == before, "nothing half-written"
    return caught.value.problems


def test_rows_meet_the_same_checks_as_create_project(seeded: Engine, clock: Any) -> None:
    future = (clock.now + timedelta(days=1)).isoformat()
    bad = [
        {"journey": SI, "name": "Nul\x00name"},
        {"journey": SI, "name": "x" * (MAX_TEXT + 1)},
        {"journey": SI, "name": "Partner", "partner": "p\x00"},
        {"journey": SI, "name": "Cohort", "cohort": "c" * (MAX_TEXT + 1)},
        {"journey": SI, "name": "Tomorrow", "stage": "validation", "stage_entered_at": future},
        {"journey": SI, "name": "Coach", "assignments": {"coach": ["Ma\x00lee"]}},
        {"journey": SI, "name": "Flag", "flags": ["at\x00risk"]},
    ]
    for row in bad:  # each is refused by create_project too, where it applies
        if "stage_entered_at" not in row and "assignments" not in row and "flags" not in row:
            with pytest.raises(InvalidValue):
                seeded.create_project(SI, row["name"], partner=row.get("partner"),
                                      cohort=row.get("cohort"))
    good = {"journey": SI, "name": "Fine"}
    problems = _refused(seeded, [good, *bad, good])
    assert [n for n, _ in problems] == list(range(2, len(bad) + 2))
    messages = [m for _, m in problems]
    assert messages[0] == "the name 'Nul\\x00name' holds a NUL character; remove it"
    assert messages[1] == (f"the name is {MAX_TEXT + 1:,} characters long; at most "
                           f"{MAX_TEXT:,} are allowed")
    assert "NUL" in messages[2]
    assert "characters long" in messages[3]
    assert messages[4].startswith(f"stage_entered_at {future!r} is in the future")
    assert "NUL" in messages[5]
    assert "NUL" in messages[6]


def test_export_then_import_keeps_the_evidence(engine: Engine, clock: Any) -> None:
    p = engine.create_project(SI, "With evidence")
    engine.add_evidence(p.id, "stakeholder_map", url="https://example.org/map", note="v2")
    engine.add_evidence(p.id, "test_plan", note="แผนทดสอบ; with \"quotes\"")
    source = engine.get(p.id)
    for fmt in ("csv", "json"):
        clock.tick(days=1)
        text = write_rows(export_projects(engine, cohort=None), fmt)
        new_ids = import_projects(engine, [r for r in read_rows(text, fmt)
                                           if r["name"] == "With evidence"][:1])
        imported = engine.get(new_ids[0])
        assert imported.evidence == source.evidence, fmt
        assert replay(engine.history(imported.id)).evidence == source.evidence, fmt  # type: ignore[union-attr]
        assert engine.check(imported.id, "validate").criteria[1].met, "the gate sees it"


def test_evidence_that_the_journey_lacks_or_without_content_is_refused(engine: Engine) -> None:
    problems = _refused(engine, [
        {"journey": SI, "name": "A", "evidence": {"diary": {"note": "x"}}},
        {"journey": SI, "name": "B", "evidence": {"stakeholder_map": {}}},
        {"journey": SI, "name": "C", "evidence": "stakeholder_map;test_plan"}])
    assert problems[0][1].startswith("unknown evidence item 'diary' in journey "
                                     "social-incubator@2; evidence items: ")
    assert problems[1][1] == "evidence 'stakeholder_map' needs a url or a note"
    assert problems[2][1].startswith("evidence 'stakeholder_map;test_plan' lists names only")


def test_a_misspelt_column_is_refused_with_a_did_you_mean(engine: Engine) -> None:
    with pytest.raises(UsageError) as caught:
        read_rows("journey,name,stgae\nsocial-incubator@2,P,idea\n", "csv")
    assert str(caught.value).startswith("unknown column 'stgae' in the header row; did you "
                                        "mean 'stage'? columns: id, journey, version, name")
    with pytest.raises(UsageError, match=r"unknown column 'Name' .*did you mean 'name'\?"):
        read_rows("journey,Name\nsocial-incubator@2,P\n", "csv")
    with pytest.raises(UsageError, match=r"unknown column 'cohrot' in object 1; did you mean "
                                         r"'cohort'\?"):
        read_rows('[{"name": "P", "cohrot": "2026"}]', "json")
    problems = _refused(engine, read_rows(
        "journey,name,field.intervews_done\nsocial-incubator@2,P,3\n", "csv"))
    assert len(problems) == 1
    assert problems[0][1].startswith("unknown column 'field.intervews_done' (did you mean "
                                     "'field.interviews_done'? journey social-incubator@2 "
                                     "fields: ")


def test_blank_rows_are_skipped(engine: Engine) -> None:
    text = HEADER + ",,,\n\nsocial-incubator@2,One,,\n , , , \n,,,\nsocial-incubator@2,Two,,2\n"
    rows = read_rows(text, "csv")
    assert [r["name"] for r in rows] == ["One", "Two"]
    ids = import_projects(engine, rows)
    assert [engine.get(i).name for i in ids] == ["One", "Two"]
    assert read_rows('[{"name": "", "journey": ""}, {"name": "Solo"}]', "json") == [
        {"name": "Solo"}]


def test_a_carriage_return_inside_an_unquoted_cell_is_refused_as_not_csv() -> None:
    """Found by the CLI fuzz test: ``\\r`` in a bare cell made the csv module raise its
    own error, which came out as an internal error."""
    with pytest.raises(UsageError) as caught:
        read_rows(HEADER + "social-incubator@2,A\rB\x01,,3\n", "csv")
    message = str(caught.value)
    assert message.startswith("not CSV: new-line character seen in unquoted field"), message
    assert "save it as CSV UTF-8" in message


@pytest.mark.parametrize(("encoding", "says"), [
    ("utf-16", "is UTF-16 text, not UTF-8"),
    ("utf-16-le", "holds NUL bytes"),
    ("cp874", "is not UTF-8 (it looks like Thai text in Windows-874/TIS-620)"),
    ("latin-1", "is not UTF-8: byte 0xe9 on line 2"),
])
def test_a_file_that_is_not_utf8_is_refused(encoding: str, says: str) -> None:
    text = HEADER + ("social-incubator@2,โครงการน้ำ,,3\n" if encoding.startswith(("utf", "cp"))
                     else "social-incubator@2,Café,,3\n")
    with pytest.raises(UsageError) as caught:
        decode(text.encode(encoding), "cohort.csv")
    message = str(caught.value)
    assert message.startswith(f"'cohort.csv' {says}"), message
    assert "save it as CSV UTF-8" in message
    assert decode(("\ufeff" + text).encode("utf-8"), "cohort.csv") == text, "UTF-8 BOM is fine"


def test_the_cli_refuses_a_windows_874_file_and_writes_nothing(
        store_url: str, tmp_path: Path) -> None:
    engine = Engine.from_url(store_url)
    engine.init()
    before = _counts(engine)
    engine.close()
    path = tmp_path / "cohort.csv"
    path.write_bytes((HEADER + "social-incubator@2,โครงการน้ำ,,3\n").encode("cp874"))
    done = subprocess.run([sys.executable, "-m", "bompao.cli", "--db", store_url, "project",
                           "import", str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: {str(path)!r} is not UTF-8 (it looks like Thai text")
    assert "save it as CSV UTF-8" in lines[0]
    engine = Engine.from_url(store_url)
    try:
        assert _counts(engine) == before
    finally:
        engine.close()
