"""Stage visits: each completed one held by the event that ends it (``from_entered_at``),
written by the write path in the event's own row (schema 10); the reports read them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from bompao import Engine
from bompao.storage import Database
from bompao.storage.insight import Filters, funnel_counts, visit_days
from bompao.storage.schema import alembic_config
from bompao.storage.tables import events, projects
from bompao.storage.types import UTCDateTime

TOGGLE_2 = """\
journey: toggle
version: 2
title: {en: Toggle}
roles: [boss, coach]
fields:
  n: {type: int, default: 0}
stages:
  a: {initial: true}
  b2: {}
  done: {final: true}
transitions:
  - {trigger: go, from: a, to: b2}
  - {trigger: back, from: b2, to: a}
  - {trigger: finish, from: b2, to: done}
"""


def _stored(db: Database) -> list[tuple[Any, ...]]:
    """(project, seq, kind, from_entered_at) of every event, as stored."""
    with db.begin(write=False) as conn:
        return [tuple(row) for row in conn.execute(sa.select(
            events.c.project_id, events.c.seq, events.c.kind, events.c.from_entered_at)
            .order_by(events.c.project_id, events.c.seq))]


def test_every_entry_holds_the_visit_it_ends(engine: Engine, toggle: str, clock: Any) -> None:
    project = engine.create_project(toggle, "P")
    t0 = clock.now
    t1 = clock.tick(days=3)
    engine.advance(project.id, "go")
    clock.tick(hours=1)
    engine.set_fields(project.id, {"n": 4})  # not an entry: ends no visit
    clock.tick(days=1, hours=11)
    engine.advance(project.id, "back")
    assert _stored(engine.db) == [
        (project.id, 1, "created", None),
        (project.id, 2, "advanced", t0),
        (project.id, 3, "fields_set", None),
        (project.id, 4, "advanced", t1),
    ]
    found = visit_days(engine.db, Filters(toggle))
    assert {stage: (n, round(median, 9)) for stage, (n, median, *_) in found.items()} == {
        "a": (1, 3.0), "b": (1, 1.5)}


def test_a_migration_that_moves_the_stage_ends_a_visit_and_one_that_keeps_it_does_not(
        engine: Engine, toggle: str, clock: Any) -> None:
    stays = engine.create_project(toggle, "stays")
    moves = engine.create_project(toggle, "moves")
    t0 = clock.now
    t1 = clock.tick(hours=5)
    engine.advance(moves.id, "go")
    engine.publish(TOGGLE_2)
    clock.tick(days=2)
    engine.migrate(stays.id, 2)
    engine.migrate(moves.id, 2, {"b": "b2"})
    assert [row for row in _stored(engine.db) if row[2] == "migrated"] == [
        (stays.id, 2, "migrated", None), (moves.id, 3, "migrated", t1)]
    assert [row for row in _stored(engine.db) if row[0] == moves.id][1] == (
        moves.id, 2, "advanced", t0)


def test_two_entries_of_one_project_in_one_batch(engine: Engine, toggle: str,
                                                 clock: Any) -> None:
    """The dispatcher appends a batch of events at once: the second entry of a project
    reads the first, written by the same call."""
    project = engine.create_project(toggle, "P")
    t0 = clock.now
    t1, t2 = t0 + timedelta(days=1), t0 + timedelta(days=3)
    with engine.hot.transaction() as cursor:
        engine.hot.append_events(cursor, [
            {"project_id": project.id, "seq": 2, "kind": "advanced", "at": t1,
             "from_stage": "a", "to_stage": "b", "trigger": "go"},
            {"project_id": project.id, "seq": 3, "kind": "note", "at": t1,
             "payload": {"text": "x"}},
            {"project_id": project.id, "seq": 4, "kind": "advanced", "at": t2,
             "from_stage": "b", "to_stage": "a", "trigger": "back"}])
    assert _stored(engine.db) == [(project.id, 1, "created", None),
                                  (project.id, 2, "advanced", t0),
                                  (project.id, 3, "note", None),
                                  (project.id, 4, "advanced", t1)]
    with engine.db.begin(write=False) as conn:
        ids = conn.execute(sa.select(events.c.id).order_by(events.c.seq)).scalars().all()
    assert ids == sorted(ids)  # in order: a change feed reads events by id


def test_rebuilding_after_a_bulk_load_gives_what_the_write_path_wrote(
        engine: Engine, toggle: str, clock: Any) -> None:
    from bompao.storage.visits import rebuild_stage_visits  # noqa: PLC0415

    ids = [engine.create_project(toggle, f"P{i}").id for i in range(3)]
    for trigger, moved in (("go", ids), ("back", ids[:2]), ("go", ids[:1])):
        clock.tick(days=2, minutes=13)
        engine.advance_many(moved, trigger)
    written = _stored(engine.db)
    with engine.db.begin() as conn:
        conn.execute(sa.update(events).values(from_entered_at=clock.now))  # all wrong
    with engine.hot.transaction() as cursor:
        rebuild_stage_visits(cursor, engine.db.dialect)
    assert _stored(engine.db) == written
    assert sum(row[3] is not None for row in written) == 3 + 2 + 1


# upgrading a schema-9 database ---------------------------------------------------------

_V9_VISITS = sa.Table(
    "stage_visits", sa.MetaData(),
    sa.Column("project_id", sa.Integer, primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("journey_key", sa.String), sa.Column("stage", sa.String),
    sa.Column("entered_at", UTCDateTime), sa.Column("left_at", UTCDateTime),
    sa.Column("days", sa.Float))
"""``stage_visits`` as schema 9 had it (written here, not taken from the code)."""


def _v9_database(url: str, clock: Any) -> tuple[Database, dict[tuple[int, int], Any],
                                                list[tuple[Any, ...]]]:
    """A database at schema 9 with projects, events and their stage visits written by
    hand the way schema 9's write path did; returns it, the visit start each ending
    event must get, and the schema-9 visit rows."""
    db = Database.from_url(url)
    t = [clock.now + timedelta(days=d, seconds=s) for d, s in
         ((0, 0), (3, 1), (3, 3600), (4.5, 7), (6, 0), (9, 59), (12.25, 0))]
    with db.begin() as conn:
        command.upgrade(alembic_config(conn), "0009")
        conn.execute(sa.text("INSERT INTO bompao_meta (key, value) "
                             "VALUES ('schema_version', '9')"))
    # (project, seq, kind, at, from, to); project 1 moves a->b->a, with a field change in
    # between; 2 migrates keeping its stage, advances, then migrates to another stage;
    # 3 never moves
    log = [(1, 1, "created", 0, None, "a"), (1, 2, "advanced", 1, "a", "b"),
           (1, 3, "fields_set", 2, None, None), (1, 4, "advanced", 3, "b", "a"),
           (2, 1, "created", 0, None, "a"), (2, 2, "migrated", 4, "a", "a"),
           (2, 3, "advanced", 5, "a", "b"), (2, 4, "migrated", 6, "b", "b2"),
           (3, 1, "created", 0, None, "a")]
    final = {1: ("a", 3), 2: ("b2", 6), 3: ("a", 0)}
    entries = [e for e in log if e[2] in ("created", "advanced")
               or (e[2] == "migrated" and e[4] != e[5])]
    visits = []
    for i, (pid, seq, _, at, _, stage) in enumerate(entries):
        following = entries[i + 1] if i + 1 < len(entries) else None
        left = t[following[3]] if following and following[0] == pid else None
        visits.append((pid, seq, "toggle", stage, t[at], left,
                       None if left is None else (left - t[at]).total_seconds() / 86400))
    with db.begin() as conn:
        for pid, (stage, at) in final.items():
            conn.execute(sa.insert(projects).values(
                id=pid, journey_key="toggle", journey_version=1, partner=None, cohort=None,
                name=f"P{pid}", stage=stage, visit=1, fields={}, flags=[], assignments={},
                evidence={}, approvals={}, lock_version=4, stage_entered_at=t[at],
                created_at=t[0], updated_at=t[at]))
        for pid, seq, kind, at, src, dest in log:
            conn.execute(sa.insert(events).values(
                project_id=pid, seq=seq, kind=kind, at=t[at], from_stage=src, to_stage=dest,
                payload={}))
        conn.execute(sa.insert(_V9_VISITS), [dict(zip(
            ("project_id", "seq", "journey_key", "stage", "entered_at", "left_at", "days"),
            row, strict=True)) for row in visits])
    ends = {(1, 2): t[0], (1, 4): t[1], (2, 3): t[0], (2, 4): t[5]}
    return db, ends, visits


def _v9_rows(db: Database) -> list[tuple[Any, ...]]:
    with db.begin(write=False) as conn:
        rows = conn.execute(sa.select(_V9_VISITS).order_by(
            _V9_VISITS.c.project_id, _V9_VISITS.c.seq)).all()
    # julianday() differences are exact to about a millisecond
    return [(*row[:6], None if row[6] is None else round(row[6], 6)) for row in rows]


def test_upgrading_schema_9_moves_every_visit_into_the_event_that_ends_it(
        store_url: str, clock: Any) -> None:
    db, ends, visits = _v9_database(store_url, clock)
    assert db.schema_status() == "outdated"
    db.upgrade()
    assert db.schema_status() == "current"
    with db.begin(write=False) as conn:
        assert not sa.inspect(conn).has_table("stage_visits")
        indexes = {ix["name"] for ix in sa.inspect(conn).get_indexes("projects")}
    assert "ix_projects_journey_key" in indexes
    assert "ix_projects_journey_key_stage" not in indexes
    stored = {(pid, seq): began for pid, seq, _, began in _stored(db)}
    assert {k: v for k, v in stored.items() if v is not None} == ends

    # the reports read the same completed visits, with the same days, as schema 9 had
    days: dict[str, list[float]] = {}
    for _, _, _, stage, _, _, spent in visits:
        if spent is not None:
            days.setdefault(stage, []).append(spent)
    found = visit_days(db, Filters("toggle"))
    assert {stage: row[0] for stage, row in found.items()} == {
        stage: len(spent) for stage, spent in days.items()}
    for stage, spent in days.items():
        assert found[stage][3] == pytest.approx(max(spent), abs=1e-7)
        assert found[stage][1] == pytest.approx(sorted(spent)[(len(spent) - 1) // 2],
                                                abs=1e-7)
    reached, now = funnel_counts(db, Filters("toggle"))
    assert (reached, now) == ({"a": 3, "b": 2, "b2": 1}, {"a": 2, "b2": 1})

    # and a downgrade gives schema 9's rows back
    with db.begin() as conn:
        command.downgrade(alembic_config(conn), "0009")
    expected = [(*row[:6], None if row[6] is None else round(row[6], 6)) for row in visits]
    assert _v9_rows(db) == expected
    db.dispose()
