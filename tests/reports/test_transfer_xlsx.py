"""Export and import of projects as xlsx (issue 13): read back with openpyxl (Thai text,
numbers as numbers), round-tripped through ``project import FILE.xlsx``, which goes
through the CSV import's checks: a file with bad rows imports nothing."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from reports.helpers import JOURNEY, MANAGER, MutableClock
from reports.test_transfer import BAD_ROWS, _counts, _csv, _good, _kept, cohort

from bompao.engine import Engine, Project
from bompao.engine.transfer import ImportRefused, export_projects, import_projects
from bompao.engine.xlsx import import_rows, projects_workbook

__all__ = ["cohort"]  # the fixture, shared with test_transfer


def test_xlsx_round_trip(engine: Engine, clock: MutableClock, cohort: list[Project]) -> None:
    data = projects_workbook(export_projects(engine, journey=JOURNEY))
    sheet = load_workbook(io.BytesIO(data))["projects"]
    rows = list(sheet.iter_rows(values_only=True))
    headers = rows[0]
    assert len(rows) == len(cohort) + 1
    named = [dict(zip(headers, row, strict=True)) for row in rows[1:]]
    assert {r["name"] for r in named} == {p.name for p in cohort}  # Thai kept
    assert all(isinstance(r["id"], int) and isinstance(r["field.people_reached"], int)
               for r in named)
    assert sheet["A2"].data_type == "n"
    clock.tick(days=30)
    new_ids = import_projects(engine, import_rows(data, "p.xlsx"), actor=MANAGER)
    assert len(new_ids) == len(cohort)
    for source, new_id in zip(cohort, new_ids, strict=True):
        assert _kept(engine.get(new_id)) == _kept(source), source.name


def _as_xlsx(text: str) -> bytes:
    import csv  # noqa: PLC0415

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in csv.reader(io.StringIO(text)):
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_bad_rows_in_xlsx_are_all_listed_and_nothing_is_written(
        engine: Engine, cohort: list[Project]) -> None:
    rows: list[dict[str, Any]] = [_good(1)]
    for row, _ in BAD_ROWS:
        rows.extend([row, _good(len(rows))])
    before = _counts(engine)
    with pytest.raises(ImportRefused) as refused:
        import_projects(engine, import_rows(_as_xlsx(_csv(rows)), "bad.xlsx"))
    assert [n for n, _ in refused.value.problems] == [2 * i + 2 for i in range(len(BAD_ROWS))]
    assert _counts(engine) == before


def test_the_cli_exports_and_imports_xlsx(engine: Engine, cohort: list[Project],
                                          store_url: str, cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "p.xlsx"
    code, _, err = cli("--db", store_url, "project", "export", "--journey", JOURNEY,
                       "--format", "xlsx", "-o", str(out))
    assert code == 0, err
    assert load_workbook(out)["projects"].max_row == len(cohort) + 1
    code, out_text, err = cli("--db", store_url, "--json", "project", "import", str(out),
                              "--dry-run")
    assert (code, err) == (0, "")
    assert f'"count": {len(cohort)}' in out_text
    # not an xlsx file: one error line, exit 2
    fake = tmp_path / "fake.xlsx"
    fake.write_text("name\nx\n", encoding="utf-8")
    code, _, err = cli("--db", store_url, "project", "import", str(fake))
    assert code == 2
    assert err.splitlines() == [f"error: {fake}: not an xlsx file (BadZipFile)"]
    # a BOM for Excel on CSV; xlsx needs a file
    code, text, _ = cli("--db", store_url, "project", "export", "--journey", JOURNEY, "--bom")
    assert code == 0
    assert text.startswith("\ufeff")
    assert cli("--db", store_url, "project", "export", "--format", "xlsx")[0] == 2
