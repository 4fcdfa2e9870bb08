"""Export and import projects (CSV and JSON), so a partner can bring a cohort in and out.

Export writes one row per project: its journey, stage, people, flags, evidence (each
item's link, note, who and when) and every field (``field.NAME`` columns in CSV). Import
validates every row first with the checks :meth:`Engine.create_project
<bompao.engine.engine.Engine.create_project>` makes — journey, stage, field types, roles,
names without NUL characters and within the length limit, a ``stage_entered_at`` with an
offset and not in the future, declared evidence — and writes nothing when any row is bad,
listing each bad row; otherwise it creates every project in one transaction, each at its
stage (with the stage's follow-ups planned) and a ``created`` event that says it was
imported. A misspelt column is refused with a did-you-mean, a blank row is skipped, and a
file that is not UTF-8 (UTF-16, Windows-874 Thai) is refused with "save it as CSV UTF-8".
After the commit, each imported project is announced to the ``created``,
``stage_entered`` and ``changed`` listeners.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bompao.definitions.extends import parse_ref
from bompao.definitions.intake import ApplicationsClosed
from bompao.definitions.values import MAX_TEXT
from bompao.engine.actor import Actor, clean_name
from bompao.errors import BompaoError, InvalidValue, UsageError

__all__ = ["COLUMNS", "FORMATS", "ImportRefused", "decode", "export_projects",
           "import_projects", "read_rows", "write_rows"]

FORMATS = ("csv", "json")
_BASE = ("id", "journey", "version", "name", "partner", "cohort", "stage",
         "stage_entered_at", "flags", "assignments", "evidence")
COLUMNS = _BASE
"""The columns (CSV) or keys (JSON, with ``fields``) an import understands; ``id`` is
ignored (a new project gets a new id)."""
_SAVE_AS = ("save it as CSV UTF-8 (in Excel: File > Save As > 'CSV UTF-8 (Comma "
            "delimited)'; in LibreOffice: character set 'Unicode (UTF-8)')")


class ImportRefused(InvalidValue):
    """Some rows are bad; nothing was imported. ``problems`` lists (row number, message)."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        self.problems = problems
        shown = "; ".join(f"row {n}: {m}" for n, m in problems[:20])
        more = f"; and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{len(problems)} bad row(s), nothing imported: {shown}{more}")


def decode(data: bytes, name: str) -> str:
    """The text of an import file, which must be UTF-8 (a UTF-8 BOM is dropped).

    Raises:
        UsageError: the file is UTF-16/UTF-32, Windows-874 (TIS-620) Thai or otherwise
            not UTF-8; the message says to save it as CSV UTF-8.
    """
    for bom, encoding in ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
                          (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16")):
        if data.startswith(bom):
            raise UsageError(f"{name!r} is {encoding} text, not UTF-8: {_SAVE_AS}")
    if b"\x00" in data[:4096]:
        raise UsageError(f"{name!r} holds NUL bytes (UTF-16 text without a byte order mark?), "
                         f"not UTF-8: {_SAVE_AS}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        where = data[:exc.start].count(b"\n") + 1
        thai = ""
        try:  # a guess: several Thai letters, as an isolated accent is not Thai text
            if sum("\u0e01" <= c <= "\u0e5b" for c in data.decode("cp874")) >= 3:
                thai = " (it looks like Thai text in Windows-874/TIS-620)"
        except UnicodeDecodeError:
            pass
        raise UsageError(f"{name!r} is not UTF-8{thai}: byte 0x{data[exc.start]:02x} on line "
                         f"{where}; {_SAVE_AS}") from None


def export_projects(engine: Any, *, journey: str | None = None, partner: str | None = None,
                    cohort: str | None = None, actor: Actor | None = None
                    ) -> list[dict[str, Any]]:
    """Every matching project as a flat mapping (fields under ``fields``; evidence as
    ``{NAME: {url, note, by, at}}``)."""
    return [{
        "id": project.id, "journey": project.journey, "version": project.version,
        "name": project.name, "partner": project.partner, "cohort": project.cohort,
        "stage": project.stage, "stage_entered_at": project.stage_entered_at.isoformat(),
        "flags": project.flags, "assignments": project.assignments,
        "evidence": {name: dict(item) for name, item in sorted(project.evidence.items())},
        "fields": project.fields}
        for project in engine.list_projects(journey=journey, partner=partner, cohort=cohort,
                                            actor=actor)]


def write_rows(rows: list[dict[str, Any]], fmt: str) -> str:
    """Exported rows as CSV or JSON text.

    Raises:
        UsageError: an unknown format.
    """
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2)
    if fmt != "csv":
        raise UsageError(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    names = sorted({name for row in rows for name in row["fields"]})
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*_BASE, *(f"field.{n}" for n in names)])
    for row in rows:
        writer.writerow([
            row["id"], row["journey"], row["version"], row["name"], row["partner"] or "",
            row["cohort"] or "", row["stage"], row["stage_entered_at"],
            ";".join(row["flags"]),
            _people(row["assignments"]),
            json.dumps(row["evidence"], ensure_ascii=False) if row["evidence"] else "",
            *(_cell(row["fields"].get(n)) for n in names)])
    return buffer.getvalue()


def _people(assignments: dict[str, list[str]]) -> str:
    """``role:person;role:person``, or JSON when a name holds ``;`` or ``:``."""
    pairs = [(role, person) for role, people in assignments.items() for person in people]
    if any(";" in text or ":" in text for pair in pairs for text in pair):
        return json.dumps(assignments, ensure_ascii=False)
    return ";".join(f"{role}:{person}" for role, person in pairs)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _check_columns(columns: Iterable[str], where: str) -> None:
    """Refuse a column (or JSON key) an import does not know, suggesting the closest.

    Raises:
        UsageError: naming the column, the closest known one and every known one.
    """
    known = (*_BASE, "fields")
    for column in columns:
        if column in known or column.startswith("field."):
            continue
        close = difflib.get_close_matches(column.strip().lower(), [*known, "field.NAME"], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise UsageError(f"unknown column {column!r} in {where}{hint} columns: "
                         f"{', '.join(_BASE)} and field.NAME for each field")


def read_rows(text: str, fmt: str) -> list[dict[str, Any]]:
    """Rows from CSV or JSON text (JSON: a list of objects, as export writes them).

    A blank row (every cell empty) is skipped; it keeps its place in the numbering
    only in the file, not in the result.

    Raises:
        UsageError: not CSV/JSON of the expected shape, or an unknown column.
    """
    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"not JSON: {exc.msg} at line {exc.lineno}") from None
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise UsageError("JSON import needs a list of project objects")
        for number, item in enumerate(data, start=1):
            _check_columns(item, f"object {number}")
        return [item for item in data if any(v not in (None, "", [], {}) for v in
                                             item.values())]
    if fmt != "csv":
        raise UsageError(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    try:
        return _csv_rows(text)
    except csv.Error as exc:  # e.g. a bare carriage return inside an unquoted cell
        raise UsageError(f"not CSV: {exc}; save it as CSV UTF-8 (comma-separated) "
                         "and import it again") from None


def _csv_rows(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "name" not in reader.fieldnames:
        _check_columns(reader.fieldnames or [], "the header row")
        raise UsageError("CSV import needs a header row with at least a 'name' column")
    _check_columns(reader.fieldnames, "the header row")
    rows = []
    for raw in reader:
        row: dict[str, Any] = {"fields": {}}
        for key, value in raw.items():
            if key is None:
                raise UsageError(f"CSV row {reader.line_num - 1} has more cells than headers")
            if value is None or not value.strip():  # an empty cell, or spaces only
                continue
            if key.startswith("field."):
                row["fields"][key[6:]] = value
            else:
                row[key] = value
        if len(row) > 1 or row["fields"]:
            rows.append(row)
    return rows


@dataclass
class _Prepared:
    values: dict[str, Any]
    journey: Any
    stage: str
    entered: datetime


def _text(what: str, value: Any) -> str | None:
    """A name-like value as create_project accepts it: text without NUL characters,
    at most MAX_TEXT characters (None when empty).

    Raises:
        InvalidValue: naming the value.
    """
    if value is None or value == "":
        return None
    text = str(value)
    if "\x00" in text:
        raise InvalidValue(f"the {what} {text!r} holds a NUL character; remove it")
    if len(text) > MAX_TEXT:
        raise InvalidValue(f"the {what} is {len(text):,} characters long; at most "
                           f"{MAX_TEXT:,} are allowed")
    return text


def _prepare(engine: Any, row: Mapping[str, Any], default_journey: str | None,
             actor: Actor | None, now: datetime) -> _Prepared:
    name = (_text("name", row.get("name")) or "").strip()
    if not name:
        raise InvalidValue("a name is required")
    partner = _text("partner", row.get("partner"))
    cohort = _text("cohort", row.get("cohort"))
    ref = row.get("journey") or default_journey
    if not ref:
        raise InvalidValue("no journey (give a 'journey' column or --journey)")
    key, version = parse_ref(str(ref))
    if row.get("version") not in (None, ""):
        version = int(row["version"])
    journey = engine.journey(key, version, publish=False)
    stage = str(row.get("stage") or journey.initial)
    if stage not in journey.stages:
        raise InvalidValue(f"unknown stage {stage!r} in {journey.ref}; stages: "
                           f"{', '.join(journey.stages)}")
    given = dict(row.get("fields") or {})
    for field in given:
        if field not in journey.fields:
            close = difflib.get_close_matches(field, list(journey.fields), n=1)
            hint = f"did you mean 'field.{close[0]}'? " if close else ""
            raise InvalidValue(f"unknown column 'field.{field}' ({hint}journey {journey.ref} "
                               f"fields: {', '.join(sorted(journey.fields)) or 'none'})")
    # an application: a row landing in the initial stage without naming it (a row that
    # names its stage, as an export does, is a restore and keeps every field)
    if journey.doc.application is not None and stage == journey.initial \
            and not row.get("stage"):
        from bompao.definitions.intake import check_application  # noqa: PLC0415

        check_application(journey.ref, journey.doc.application, given,
                          now.astimezone(ZoneInfo(journey.timezone)).date())
    values = {**journey.defaults(), **journey.fields_from_text(given)}
    assignments = _assignments(row.get("assignments"), journey)
    entered = now
    if row.get("stage_entered_at"):
        try:
            entered = datetime.fromisoformat(str(row["stage_entered_at"]))
        except ValueError:
            raise InvalidValue(f"stage_entered_at {row['stage_entered_at']!r} is not an ISO "
                               "8601 time") from None
        if entered.tzinfo is None:
            raise InvalidValue("stage_entered_at needs a UTC offset, e.g. +07:00")
        if entered > now:
            raise InvalidValue(f"stage_entered_at {row['stage_entered_at']!r} is in the "
                               f"future (now is {now.isoformat(timespec='seconds')}); a "
                               "project can only have entered its stage already")
    if actor is not None and actor.partner is not None:
        if partner not in (None, actor.partner):
            raise InvalidValue(f"partner {partner!r}: you act for {actor.partner!r}")
        partner = actor.partner
    flags = row.get("flags") or []
    if isinstance(flags, str):
        flags = [f for f in flags.split(";") if f]
    flags = [_text("flag", str(f).strip()) for f in flags]
    evidence = _evidence(row.get("evidence"), journey, entered)
    return _Prepared({
        "journey_key": journey.key, "journey_version": journey.version, "name": name,
        "partner": partner, "cohort": cohort, "stage": stage, "visit": 1,
        "fields": values, "flags": sorted({f for f in flags if f}), "assignments": assignments,
        "evidence": evidence, "approvals": {}, "lock_version": 1, "stage_entered_at": entered,
        "created_at": now, "updated_at": now}, journey, stage, entered)


def _evidence(value: Any, journey: Any, entered: datetime) -> dict[str, Any]:
    """Evidence as exported: ``{NAME: {url, note, by, at}}`` (a JSON cell in CSV).

    Raises:
        InvalidValue: an undeclared item, one with neither url nor note, or a names-only
            list (an export of an older bompao, which did not keep the links and notes).
    """
    if value in (None, "", {}, []):
        return {}
    if isinstance(value, str):
        if not value.lstrip().startswith("{"):
            raise InvalidValue(f"evidence {value!r} lists names only; give each item's url "
                               "or note as exported: {\"NAME\": {\"url\": ..., \"note\": ...}}")
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise InvalidValue(f"evidence {value!r} is not a JSON object") from None
    if not isinstance(value, dict):
        raise InvalidValue("evidence must map each item's name to its url and note")
    result: dict[str, Any] = {}
    for name, item in value.items():
        if name not in journey.evidence:
            raise InvalidValue(f"unknown evidence item {name!r} in journey {journey.ref}; "
                               f"evidence items: {', '.join(sorted(journey.evidence)) or 'none'}")
        if not isinstance(item, dict):
            raise InvalidValue(f"evidence {name!r} must be an object with url and/or note")
        url, note = _text("url", item.get("url")), _text("note", item.get("note"))
        if url is None and note is None:
            raise InvalidValue(f"evidence {name!r} needs a url or a note")
        by = _text("evidence's 'by'", item.get("by"))
        result[name] = {"url": url, "note": note, "by": by,
                        "at": str(item.get("at") or entered.isoformat())}
    return result


def _assignments(value: Any, journey: Any) -> dict[str, list[str]]:
    if not value:
        return {}
    pairs: Iterable[tuple[str, str]]
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise InvalidValue(f"assignments {value!r} is neither role:person;... nor a "
                               "JSON object") from None
    if isinstance(value, dict):
        pairs = [(role, person) for role, people in value.items() for person in people]
    else:
        pairs = [tuple(item.split(":", 1)) for item in str(value).split(";")  # type: ignore[misc]
                 if ":" in item]
    result: dict[str, list[str]] = {}
    for role, person in pairs:
        if role not in journey.roles:
            raise InvalidValue(f"unknown role {role!r}; roles: {', '.join(journey.roles)}")
        who = clean_name(_text("person", person) or "")
        if not who:
            raise InvalidValue(f"an empty person in role {role!r}")
        if who not in result.setdefault(role, []):
            result[role].append(who)
    return result


def import_projects(engine: Any, rows: Sequence[Mapping[str, Any]], *, journey: str | None = None,
                    actor: Actor | None = None, dry_run: bool = False,
                    within: Callable[[Any, list[int]], None] | None = None) -> list[int]:
    """Validate every row, then create all projects in one transaction (or none).

    Journeys the rows name are compiled first; for a real import the ones not yet
    published are published before the transaction opens; a dry run writes nothing.
    ``within(cursor, ids)``, when given, runs in the import's transaction after the
    projects are inserted (the intake doors record their receipts there); whatever it
    raises rolls the whole import back and is raised again.

    Returns:
        The new project ids (empty for a dry run).

    Raises:
        ImportRefused: any row is bad; the exception lists every bad row.
    """
    now = engine.now()
    prepared: list[_Prepared] = []
    problems: list[tuple[int, str]] = []
    for number, row in enumerate(rows, start=1):
        try:
            prepared.append(_prepare(engine, row, journey, actor, now))
        except ApplicationsClosed:
            raise  # outside the opening dates: one line for the whole import
        except (BompaoError, ValueError, TypeError) as exc:
            problems.append((number, str(exc)))
    if problems:
        raise ImportRefused(problems)
    if dry_run or not prepared:
        return []
    for ref in sorted({(item.journey.key, item.journey.version) for item in prepared}):
        engine.journey(*ref)  # publish outside the import's transaction
    with engine.hot.transaction() as cursor:  # the write path create_project uses
        projects = [engine._insert_project(cursor, item.journey, item.values, now=now,
                                           actor=actor, imported=True)
                    for item in prepared]
        if within is not None:
            within(cursor, [project.id for project in projects])
    for project, item in zip(projects, prepared, strict=True):
        engine._emit("created", project=project, imported=True, actor=actor)
        engine._emit("stage_entered", project=project, stage=item.stage,
                     trigger=None, actor=actor)
        engine._emit("changed", project=project, kind="created", actor=actor)
    return [project.id for project in projects]
