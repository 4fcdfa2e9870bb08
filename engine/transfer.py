"""Export and import projects (CSV and JSON), so a partner can bring a cohort in and out.

Export writes one row per project: its journey, stage, people, flags and every field
(``field.NAME`` columns in CSV). Import validates every row first — journey, stage,
field types, roles, dates — and writes nothing when any row is bad, listing each bad
row; otherwise it creates every project in one transaction, each at its stage (with
the stage's follow-ups planned) and a ``created`` event that says it was imported.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bompao.definitions.extends import parse_ref
from bompao.engine.actor import Actor
from bompao.errors import BompaoError, InvalidValue, UsageError

__all__ = ["FORMATS", "ImportRefused", "export_projects", "import_projects", "read_rows",
           "write_rows"]

FORMATS = ("csv", "json")
_BASE = ("id", "journey", "version", "name", "partner", "cohort", "stage",
         "stage_entered_at", "flags", "assignments", "evidence")


class ImportRefused(InvalidValue):
    """Some rows are bad; nothing was imported. ``problems`` lists (row number, message)."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        self.problems = problems
        shown = "; ".join(f"row {n}: {m}" for n, m in problems[:20])
        more = f"; and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{len(problems)} bad row(s), nothing imported: {shown}{more}")


def export_projects(engine: Any, *, journey: str | None = None, partner: str | None = None,
                    cohort: str | None = None, actor: Actor | None = None
                    ) -> list[dict[str, Any]]:
    """Every matching project as a flat mapping (fields under ``fields``)."""
    return [{
        "id": project.id, "journey": project.journey, "version": project.version,
        "name": project.name, "partner": project.partner, "cohort": project.cohort,
        "stage": project.stage, "stage_entered_at": project.stage_entered_at.isoformat(),
        "flags": project.flags, "assignments": project.assignments,
        "evidence": sorted(project.evidence), "fields": project.fields}
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
            ";".join(row["evidence"]),
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


def read_rows(text: str, fmt: str) -> list[dict[str, Any]]:
    """Rows from CSV or JSON text (JSON: a list of objects, as export writes them).

    Raises:
        UsageError: not CSV/JSON of the expected shape.
    """
    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"not JSON: {exc.msg} at line {exc.lineno}") from None
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise UsageError("JSON import needs a list of project objects")
        return data
    if fmt != "csv":
        raise UsageError(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "name" not in reader.fieldnames:
        raise UsageError("CSV import needs a header row with at least a 'name' column")
    rows = []
    for raw in reader:
        row: dict[str, Any] = {"fields": {}}
        for key, value in raw.items():
            if key is None:
                raise UsageError(f"CSV row {reader.line_num - 1} has more cells than headers")
            if key.startswith("field."):
                if value not in ("", None):
                    row["fields"][key[6:]] = value
            elif value not in ("", None):
                row[key] = value
        rows.append(row)
    return rows


@dataclass
class _Prepared:
    values: dict[str, Any]
    journey: Any
    stage: str
    entered: datetime


def _prepare(engine: Any, row: Mapping[str, Any], default_journey: str | None,
             actor: Actor | None, now: datetime) -> _Prepared:
    name = str(row.get("name") or "").strip()
    if not name:
        raise InvalidValue("a name is required")
    ref = row.get("journey") or default_journey
    if not ref:
        raise InvalidValue("no journey (give a 'journey' column or --journey)")
    key, version = parse_ref(str(ref))
    if row.get("version") not in (None, ""):
        version = int(row["version"])
    journey = engine.journey(key, version)
    stage = str(row.get("stage") or journey.initial)
    if stage not in journey.stages:
        raise InvalidValue(f"unknown stage {stage!r} in {journey.ref}; stages: "
                           f"{', '.join(journey.stages)}")
    values = {**journey.defaults(),
              **journey.fields_from_text(dict(row.get("fields") or {}))}
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
    partner = row.get("partner") or None
    if actor is not None and actor.partner is not None:
        if partner not in (None, actor.partner):
            raise InvalidValue(f"partner {partner!r}: you act for {actor.partner!r}")
        partner = actor.partner
    flags = row.get("flags") or []
    if isinstance(flags, str):
        flags = [f for f in flags.split(";") if f]
    return _Prepared({
        "journey_key": journey.key, "journey_version": journey.version, "name": name,
        "partner": partner, "cohort": row.get("cohort") or None, "stage": stage, "visit": 1,
        "fields": values, "flags": sorted(set(flags)), "assignments": assignments,
        "evidence": {}, "approvals": {}, "lock_version": 1, "stage_entered_at": entered,
        "created_at": now, "updated_at": now}, journey, stage, entered)


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
        result.setdefault(role, []).append(person)
    return result


def import_projects(engine: Any, rows: Sequence[Mapping[str, Any]], *, journey: str | None = None,
                    actor: Actor | None = None, dry_run: bool = False) -> list[int]:
    """Validate every row, then create all projects in one transaction (or none).

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
        except (BompaoError, ValueError, TypeError) as exc:
            problems.append((number, str(exc)))
    if problems:
        raise ImportRefused(problems)
    if dry_run or not prepared:
        return []
    with engine.hot.transaction() as cursor:  # the write path create_project uses
        return [engine._insert_project(cursor, item.journey, item.values, now=now,
                                       actor=actor, imported=True).id
                for item in prepared]
