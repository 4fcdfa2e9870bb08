"""Export and import of projects (CSV and JSON), on SQLite and PostgreSQL.

A round trip keeps what a partner brings in or takes out: name, partner, cohort,
stage (and when it was entered), every field, flags and assignments. Imported
projects get their stage's follow-ups planned, and their history replays to what is
stored. A file with bad rows is refused as a whole, every bad row listed with its
number, and nothing is written.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from reports.helpers import JOURNEY, MANAGER, MutableClock, prepare_and_advance

from bompao.engine import Engine, Project
from bompao.engine.history import replay
from bompao.engine.reports import Filters, Reports
from bompao.engine.transfer import (
    ImportRefused,
    export_projects,
    import_projects,
    read_rows,
    write_rows,
)
from bompao.storage.tables import events, follow_ups, projects

STATEMENT = 'Farmers in Mae Rim, "the valley", lose a third of their harvest\nปัญหาน้ำท่วม'
PATHS = {"idea": [], "validation": ["validate"],
         "test_run": ["validate", "start_test_run"],
         "showcase": ["validate", "start_test_run", "present"],
         "handoff": ["validate", "start_test_run", "present", "hand_off"],
         "stalled": ["validate", "start_test_run", "stall"],
         "withdrawn": ["withdraw"]}
KEPT = ("name", "partner", "cohort", "stage", "stage_entered_at", "fields", "flags",
        "assignments", "journey", "version")


def _counts(engine: Engine) -> list[int]:
    """Rows in projects, events and follow_ups."""
    with engine.db.begin(write=False) as conn:
        return [conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in (projects, events, follow_ups)]


def _kept(project: Project) -> dict[str, Any]:
    return {key: getattr(project, "journey" if key == "journey" else key) for key in KEPT}


@pytest.fixture
def cohort(engine: Engine, clock: MutableClock) -> list[Project]:
    """One project in every stage, with every kind of field, flags and people."""
    made = []
    for number, (stage, triggers) in enumerate(PATHS.items()):
        project = engine.create_project(
            journey=JOURNEY, name=f"Project {number}, \"{stage}\" / โครงการที่ {number}",
            partner=None if number % 3 == 0 else f"partner-{number % 2}",
            cohort=None if number == 1 else "2026",
            fields={"problem_statement": STATEMENT, "people_reached": number * 7},
            actor=MANAGER)
        clock.tick(days=3, minutes=number)
        for trigger in triggers:
            prepare_and_advance(engine, project.id, trigger)
            clock.tick(days=11, hours=5)
        engine.set_fields(project.id, {"demo_day": date(2026, 9, 1 + number),
                                       "partners_committed": ["อบต. แม่ริม", "Rotary, CM"]})
        engine.assign(project.id, role="coach", person="Malee")
        engine.assign(project.id, role="coach", person="Somchai")
        engine.assign(project.id, role="program_manager", person="Ploy")
        if number % 2:
            engine.flag(project.id, "at_risk")
        if number % 3 == 1:
            engine.flag(project.id, "needs_review")
        made.append(engine.get(project.id))
    assert {p.stage for p in made} == set(PATHS)
    return made


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_round_trip(engine: Engine, clock: MutableClock, cohort: list[Project],
                    fmt: str) -> None:
    text = write_rows(export_projects(engine, journey=JOURNEY), fmt)
    if fmt == "csv":
        parsed = list(csv.DictReader(io.StringIO(text)))
        assert len(parsed) == len(cohort)
        assert "field.problem_statement" in parsed[0]
    else:
        assert len(json.loads(text)) == len(cohort)
    clock.tick(days=30)
    before = _counts(engine)
    new_ids = import_projects(engine, read_rows(text, fmt), actor=MANAGER)
    assert len(new_ids) == len(cohort)
    assert _counts(engine)[0] == before[0] + len(cohort)
    assert _counts(engine)[1] == before[1] + len(cohort)  # one "created" event each
    for source, new_id in zip(cohort, new_ids, strict=True):
        imported = engine.get(new_id)
        assert _kept(imported) == _kept(source), source.name
        assert imported.id != source.id


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_imported_projects_replay_and_get_their_follow_ups(
        engine: Engine, clock: MutableClock, cohort: list[Project], fmt: str) -> None:
    text = write_rows(export_projects(engine, journey=JOURNEY), fmt)
    clock.tick(days=5)
    new_ids = import_projects(engine, read_rows(text, fmt))
    journey = engine.journey(JOURNEY)
    for new_id in new_ids:
        project = engine.get(new_id)
        history = engine.history(new_id)
        assert [e.kind for e in history] == ["created"]
        assert history[0].payload.get("imported") is True
        for state in (replay(history), engine.state_at(new_id, clock.now)):
            assert state is not None
            assert (state.name, state.partner, state.cohort, state.stage,
                    state.stage_entered_at, state.fields, list(state.flags),
                    state.assignments, state.journey, state.version) == (
                project.name, project.partner, project.cohort, project.stage,
                project.stage_entered_at, project.fields, project.flags,
                project.assignments, project.journey, project.version), project.name
        with engine.db.begin(write=False) as conn:
            planned = {(r.spec, r.occurrence): r.due_at for r in conn.execute(
                sa.select(follow_ups).where(follow_ups.c.project_id == new_id,
                                            follow_ups.c.status == "pending"))}
        wanted = {}
        for follow_up in journey.stages[project.stage].follow_ups:
            due = follow_up.due(project.stage_entered_at, project.fields, 0, journey)
            if due is not None:
                wanted[(follow_up.name, 0)] = due
        assert planned == wanted, f"{project.name} in {project.stage}"
    showcase = next(engine.get(i) for i in new_ids if engine.get(i).stage == "showcase")
    with engine.db.begin(write=False) as conn:
        specs = set(conn.execute(sa.select(follow_ups.c.spec).where(
            follow_ups.c.project_id == showcase.id)).scalars())
    assert specs == {"demo_day_reminder", "showcase_no_partner", "indicator:people_reached"}


def test_export_filters_and_import_with_a_default_journey(engine: Engine,
                                                          cohort: list[Project]) -> None:
    rows = export_projects(engine, partner="partner-1")
    assert {r["name"] for r in rows} == {p.name for p in cohort if p.partner == "partner-1"}
    assert export_projects(engine, cohort="nobody") == []
    bare = [{"name": "From a spreadsheet", "stage": "validation",
             "fields": {"interviews_done": "4"}}]
    (new_id,) = import_projects(engine, bare, journey=JOURNEY)
    project = engine.get(new_id)
    assert (project.journey, project.stage, project.fields["interviews_done"]) == (
        JOURNEY, "validation", 4)


# rows that name their stage: restores, not applications to the journey's call (an
# application, without a stage, is held to the form first: tests/test_cli_intake.py)
BAD_ROWS: list[tuple[dict[str, Any], str]] = [
    ({"journey": JOURNEY, "name": "   ", "stage": "idea"}, "name"),
    ({"journey": "no-such-journey", "name": "Lost"}, "no-such-journey"),
    ({"journey": JOURNEY, "name": "Nowhere", "stage": "orbit"}, "orbit"),
    ({"journey": JOURNEY, "name": "Counting", "stage": "idea",
      "fields": {"interviews_done": "many"}},
     "interviews_done"),
    ({"journey": JOURNEY, "name": "Strange field", "stage": "idea",
      "fields": {"colour": "red"}}, "colour"),
    ({"journey": JOURNEY, "name": "Who", "stage": "idea",
      "assignments": {"wizard": ["Merlin"]}}, "wizard"),
    ({"journey": JOURNEY, "name": "Naive", "stage": "idea",
      "stage_entered_at": "2026-01-05T09:00:00"}, "offset"),
    ({"journey": JOURNEY, "name": "Not a time", "stage": "idea",
      "stage_entered_at": "last spring"}, "last spring"),
]


def _good(n: int) -> dict[str, Any]:
    return {"journey": JOURNEY, "name": f"Good {n}", "stage": "validation",
            "stage_entered_at": "2026-01-05T09:00:00+07:00", "flags": ["at_risk"],
            "assignments": {"coach": ["Malee"]}, "fields": {"interviews_done": "3"}}


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_bad_rows_are_all_listed_and_nothing_is_written(
        engine: Engine, cohort: list[Project], fmt: str) -> None:
    rows: list[dict[str, Any]] = [_good(1)]
    for row, _ in BAD_ROWS:
        rows.extend([row, _good(len(rows))])
    if fmt == "csv":  # through the CSV text a partner would send
        rows = read_rows(_csv(rows), "csv")
    before = _counts(engine)
    with pytest.raises(ImportRefused) as refused:
        import_projects(engine, rows)
    problems = refused.value.problems
    assert [n for n, _ in problems] == [2 * i + 2 for i in range(len(BAD_ROWS))]
    for (number, message), (_, mentions) in zip(problems, BAD_ROWS, strict=True):
        assert mentions in message, (number, message)
    text = str(refused.value)
    assert text.startswith(f"{len(BAD_ROWS)} bad row(s), nothing imported: row 2: ")
    assert _counts(engine) == before
    assert [p.id for p in engine.list_projects()] == [p.id for p in cohort]


def _csv(rows: list[dict[str, Any]]) -> str:
    names = sorted({f for row in rows for f in row.get("fields", {})})
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["journey", "name", "stage", "stage_entered_at", "flags", "assignments",
                     *(f"field.{n}" for n in names)])
    for row in rows:
        writer.writerow([
            row.get("journey", ""), row.get("name", ""), row.get("stage", ""),
            row.get("stage_entered_at", ""), ";".join(row.get("flags", [])),
            ";".join(f"{role}:{p}" for role, people in row.get("assignments", {}).items()
                     for p in people),
            *(row.get("fields", {}).get(n, "") for n in names)])
    return buffer.getvalue()


def test_dry_run_writes_nothing(engine: Engine, cohort: list[Project]) -> None:
    text = write_rows(export_projects(engine), "json")
    before = _counts(engine)
    assert import_projects(engine, read_rows(text, "json"), dry_run=True) == []
    assert _counts(engine) == before
    with pytest.raises(ImportRefused):
        import_projects(engine, [{"name": ""}], journey=JOURNEY, dry_run=True)
    assert _counts(engine) == before


def test_time_in_stage_of_an_imported_project_counts_from_its_stage_entry(
        engine: Engine, clock: MutableClock) -> None:
    """A partner's project that entered validation 100 days before it was imported and
    leaves it 10 days after spent 110 days in validation — as its history says (replay
    and ``state_at`` take ``stage_entered_at`` from the import), not 10."""
    entered = clock.now - timedelta(days=100)
    (project_id,) = import_projects(engine, [{
        "name": "Brought in", "stage": "validation",
        "stage_entered_at": entered.astimezone(UTC).isoformat()}], journey=JOURNEY)
    assert engine.state_at(project_id, clock.now).stage_entered_at == entered
    clock.tick(days=10)
    prepare_and_advance(engine, project_id, "start_test_run")
    row = next(r for r in Reports(engine).stages(Filters(JOURNEY))
               if r["stage"] == "validation")
    assert row["visits"] == 1
    assert row["max_days"] == 110.0, row


def test_imported_rows_time_zone_is_kept_as_an_instant(engine: Engine) -> None:
    (project_id,) = import_projects(engine, [{
        "name": "Bangkok time", "stage": "idea",
        "stage_entered_at": "2026-01-05T09:00:00+07:00"}],
        journey=JOURNEY)
    assert engine.get(project_id).stage_entered_at == datetime(2026, 1, 5, 2, 0, tzinfo=UTC)


def test_csv_round_trip_keeps_a_person_whose_name_has_a_semicolon(engine: Engine) -> None:
    """``assign`` accepts any non-empty name; the CSV export joins assignments with ';'
    unquoted, so the import must not silently cut "Kanya; chair" down to "Kanya"."""
    project = engine.create_project(journey=JOURNEY, name="Committee-led")
    engine.assign(project.id, role="committee", person="Kanya; chair")
    engine.assign(project.id, role="coach", person="Ann")
    text = write_rows(export_projects(engine), "csv")
    (new_id,) = import_projects(engine, read_rows(text, "csv"))
    assert engine.get(new_id).assignments == {"committee": ["Kanya; chair"],
                                              "coach": ["Ann"]}
