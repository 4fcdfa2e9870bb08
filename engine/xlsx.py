"""xlsx files with openpyxl: one sheet per table, numbers as numbers, text as text.

Used by ``report impact --format xlsx``, ``project export --format xlsx`` and
``project import FILE.xlsx`` (which reads the first sheet into the same rows a CSV
gives, so both go through one validation path).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from bompao.errors import InvalidValue

__all__ = ["MAX_ROWS", "import_rows", "projects_workbook", "read_rows", "workbook"]

MAX_ROWS = 1_000_000
"""Excel's row limit (1,048,576), rounded down."""

Sheet = tuple[str, Sequence[str], Iterable[Sequence[Any]]]


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    # a text that Excel would run as a formula stays text
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _numeric(text) else text


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def workbook(sheets: Iterable[Sheet]) -> bytes:
    """An xlsx file with one sheet per ``(title, headers, rows)``, headers bold and frozen."""
    from openpyxl import Workbook  # noqa: PLC0415 - only xlsx output needs it
    from openpyxl.styles import Font  # noqa: PLC0415

    book = Workbook()
    first = True
    for title, headers, rows in sheets:
        sheet = book.active if first else book.create_sheet()
        first = False
        assert sheet is not None
        sheet.title = title[:31]
        sheet.append(list(headers))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for row in rows:
            sheet.append([_cell(v) for v in row])
        for column in sheet.columns:
            width = max(len(str(c.value or "")) for c in column)
            sheet.column_dimensions[column[0].column_letter].width = min(60, width + 2)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def read_rows(data: bytes, source: str) -> list[dict[str, str]]:
    """The first sheet's rows as text, keyed by the first row's headers (like CSV).

    Raises:
        InvalidValue: not an xlsx file, or a sheet without a header row.
    """
    from zipfile import BadZipFile  # noqa: PLC0415

    from openpyxl import load_workbook  # noqa: PLC0415

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InvalidValue(f"{source}: not an xlsx file ({type(exc).__name__})") from None
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if not header or not any(header):
        raise InvalidValue(f"{source}: the first sheet has no header row")
    names = [str(h).strip() if h is not None else "" for h in header]
    found = []
    for index, row in enumerate(rows, start=2):
        if index > MAX_ROWS:
            raise InvalidValue(f"{source}: more than {MAX_ROWS:,} rows")
        if row is None or all(v is None for v in row):
            continue
        found.append({name: _text(value) for name, value in zip(names, row, strict=False)
                      if name})
    book.close()
    return found


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def projects_workbook(rows: list[dict[str, Any]]) -> bytes:
    """``project export --format xlsx``: the CSV export's columns on one sheet, with the
    id, version and numeric field values as numbers."""
    import csv  # noqa: PLC0415

    from bompao.engine.transfer import write_rows  # noqa: PLC0415

    table = list(csv.reader(io.StringIO(write_rows(rows, "csv"))))
    headers, cells = table[0], table[1:]
    for row, project in zip(cells, rows, strict=True):
        for index, name in enumerate(headers):
            if name in ("id", "version"):
                row[index] = int(row[index])  # type: ignore[call-overload]
            elif name.startswith("field."):
                value = project["fields"].get(name.removeprefix("field."))
                if isinstance(value, int | float) and not isinstance(value, bool):
                    row[index] = value  # type: ignore[call-overload]
    return workbook([("projects", headers, cells)])


def import_rows(data: bytes, source: str) -> list[dict[str, Any]]:
    """``project import FILE.xlsx``: the first sheet read as the CSV import reads a file
    (the same columns, the same checks, the same rows).

    Raises:
        InvalidValue: not an xlsx file.
        UsageError: an unknown column (as for CSV).
    """
    import csv  # noqa: PLC0415

    from bompao.engine.transfer import read_rows as read_csv  # noqa: PLC0415

    found = read_rows(data, source)
    names = list(dict.fromkeys(name for row in found for name in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=names)
    writer.writeheader()
    writer.writerows(found)
    return read_csv(buffer.getvalue(), "csv")
