"""``stage_visits``: one row per stage entry, kept by the write path with its entry event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import command

from bompao import Engine
from bompao.storage import Database
from bompao.storage.schema import alembic_config
from bompao.storage.tables import stage_visits

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


def _visits(db: Database) -> list[tuple[Any, ...]]:
    with db.begin(write=False) as conn:
        rows = conn.execute(sa.select(
            stage_visits.c.project_id, stage_visits.c.seq, stage_visits.c.journey_key,
            stage_visits.c.stage, stage_visits.c.entered_at, stage_visits.c.left_at,
            stage_visits.c.days).order_by(stage_visits.c.project_id, stage_visits.c.seq)).all()
    return [(*row[:6], round(row[6], 6) if row[6] is not None else None) for row in rows]


def test_every_entry_opens_a_visit_and_closes_the_previous_one(
        engine: Engine, toggle: str, clock: Any) -> None:
    project = engine.create_project(toggle, "P")
    t0 = clock.now
    t1 = clock.tick(days=3)
    engine.advance(project.id, "go")
    clock.tick(hours=1)
    engine.set_fields(project.id, {"n": 4})  # not an entry: no visit
    t2 = clock.tick(days=1, hours=11)
    engine.advance(project.id, "back")
    assert _visits(engine.db) == [
        (project.id, 1, "toggle", "a", t0, t1, 3.0),
        (project.id, 2, "toggle", "b", t1, t2, 1.5),
        (project.id, 4, "toggle", "a", t2, None, None),
    ]


def test_a_migration_that_moves_the_stage_is_an_entry_and_one_that_keeps_it_is_not(
        engine: Engine, toggle: str, clock: Any) -> None:
    stays = engine.create_project(toggle, "stays")
    moves = engine.create_project(toggle, "moves")
    engine.advance(moves.id, "go")
    engine.publish(TOGGLE_2)
    clock.tick(days=2)
    engine.migrate(stays.id, 2)
    engine.migrate(moves.id, 2, {"b": "b2"})
    by_project: dict[int, list[str]] = {}
    for row in _visits(engine.db):
        by_project.setdefault(row[0], []).append(row[3])
    assert by_project == {stays.id: ["a"], moves.id: ["a", "b", "b2"]}


def test_upgrading_from_schema_1_backfills_visits_equal_to_the_trigger(
        store_url: str, clock: Any) -> None:
    live = Engine.from_url(store_url, clock=clock)
    key = live.publish(TOGGLE_2.replace("version: 2", "version: 1"))[0]
    ids = [live.create_project(key, f"P{i}").id for i in range(3)]
    for step, (trigger, moved) in enumerate((("go", ids), ("back", ids), ("go", ids[:2]),
                                             ("finish", ids[:1]))):
        clock.tick(days=step + 1, minutes=7)
        live.advance_many(moved, trigger)
    expected = _visits(live.db)
    assert len(expected) == 3 + 3 + 3 + 2 + 1
    live.close()

    old = Database.from_url(store_url)
    with old.begin() as conn:
        command.downgrade(alembic_config(conn), "0001")
        assert not sa.inspect(conn).has_table("stage_visits")
        conn.exec_driver_sql("UPDATE bompao_meta SET value = '1'")
    assert old.schema_status() == "outdated"
    old.upgrade()
    assert old.schema_status() == "current"
    assert _visits(old) == expected
    old.dispose()


def test_days_match_the_event_times(engine: Engine, toggle: str, clock: Any) -> None:
    project = engine.create_project(toggle, "P")
    clock.tick(days=200, seconds=1)
    engine.advance(project.id, "go")
    row = _visits(engine.db)[0]
    entered, left = row[4], row[5]
    assert isinstance(entered, datetime)
    assert isinstance(left, datetime)
    assert row[6] == round((left - entered).total_seconds() / 86400, 6)


def test_schema_6_keeps_the_visits_in_one_btree_and_every_row(
        store_url: str, clock: Any) -> None:
    """Migration 0006 rebuilds ``stage_visits`` without a rowid (SQLite) and drops its
    secondary indexes; the rows come through unchanged, and a downgrade gives them back."""
    live = Engine.from_url(store_url, clock=clock)
    key = live.publish(TOGGLE_2)[0]
    ids = [live.create_project(key, f"P{i}").id for i in range(4)]
    clock.tick(days=3)
    live.advance_many(ids, "go")
    clock.tick(days=2)
    live.advance_many(ids[:2], "back")
    expected = _visits(live.db)
    assert len(expected) == 4 + 4 + 2
    live.close()

    db = Database.from_url(store_url)
    sqlite = store_url.startswith("sqlite")

    def shape() -> tuple[set[str], str]:
        with db.begin(write=False) as conn:
            indexes = {ix["name"] for ix in sa.inspect(conn).get_indexes("stage_visits")}
            sql = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'stage_visits'").scalar_one() \
                if sqlite else ""
        return indexes, sql

    indexes, sql = shape()
    assert indexes == set()
    assert ("WITHOUT ROWID" in sql) is sqlite
    with db.begin() as conn:
        command.downgrade(alembic_config(conn), "0005")
    indexes, sql = shape()
    assert indexes == {"ix_stage_visits_journey_key_stage_days",
                       "ix_stage_visits_journey_key_stage_project_id"}
    assert "WITHOUT ROWID" not in sql
    assert _visits(db) == expected
    with db.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    assert shape()[0] == set()
    assert _visits(db) == expected
    db.dispose()
