"""The write path (``storage.hotpath``): projects, events and follow-ups, on both backends."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from bompao.errors import ConflictError, InvalidValue
from bompao.storage import Database
from bompao.storage.hotpath import EVENT_COLUMNS, FOLLOW_UP_COLUMNS, HotPath
from bompao.storage.records import PROJECT_COLUMNS, Project
from bompao.storage.tables import events, follow_ups, projects

T0 = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
BANGKOK = timezone(timedelta(hours=7))


def _project(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "journey_key": "social-incubator", "journey_version": 1, "partner": None,
        "cohort": None, "name": "Clean Water Mae Rim", "stage": "idea", "visit": 1,
        "fields": {}, "flags": [], "assignments": {}, "evidence": {}, "approvals": {},
        "lock_version": 0, "stage_entered_at": T0, "created_at": T0, "updated_at": T0,
    }
    return values | overrides


def _follow_up(project_id: int, key: str, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "project_id": project_id, "stage": "idea", "visit": 1, "spec": "check-in",
        "occurrence": 1, "action": "notify", "due_at": T0, "idempotency_key": key,
        "created_at": T0,
    }
    return values | overrides


@pytest.fixture
def hot(db: Database) -> HotPath:
    """The write path on ``db``."""
    return HotPath(db)


def test_column_lists_come_from_the_tables() -> None:
    assert tuple(c.name for c in projects.c) == PROJECT_COLUMNS
    assert Project._fields == PROJECT_COLUMNS
    # from_entered_at is the write path's own (the stage visit an entry ends)
    assert tuple(c.name for c in events.c if c.name not in {"id", "from_entered_at"}) \
        == EVENT_COLUMNS
    assert set(FOLLOW_UP_COLUMNS) == {c.name for c in follow_ups.c if not c.nullable} - {"id"}


def test_a_project_round_trips_every_column(hot: HotPath) -> None:
    values = _project(
        partner="cmu", cohort="2026a", visit=3, lock_version=7,
        fields={"interviews_done": 12, "partners_committed": ["มูลนิธิ", "CMU"], "x": None,
                "score": 0.1},
        flags=["at_risk"], assignments={"coach": ["Malee"]},
        evidence={"stakeholder_map": {"url": "https://e.example/m", "note": None,
                                      "by": "Malee", "at": "2026-01-05T09:30:00+00:00"}},
        approvals={"coach": [{"by": "Malee", "at": "2026-01-05T09:30:00+00:00"}]},
        stage_entered_at=T0.astimezone(BANGKOK))
    with hot.transaction() as cursor:
        project_id = hot.insert_project(cursor, values)
    with hot.transaction(write=False) as cursor:
        row = hot.read(cursor, project_id)
        assert hot.read(cursor, project_id + 1) is None
    assert row == Project(project_id, **values)
    assert row is not None
    assert row.stage_entered_at.tzinfo is UTC


def test_list_projects_filters(hot: HotPath) -> None:
    with hot.transaction() as cursor:
        ids = [hot.insert_project(cursor, _project(partner="cmu", cohort="2026a")),
               hot.insert_project(cursor, _project(partner="cmu", stage="validation")),
               hot.insert_project(cursor, _project(journey_key="other", cohort="2026a")),
               hot.insert_project(cursor, _project())]

    def listed(**filters: Any) -> list[int]:
        with hot.transaction(write=False) as cursor:
            return [row.id for row in hot.list_projects(cursor, **filters)]

    assert listed() == ids
    assert listed(partner="cmu") == ids[:2]
    assert listed(cohort="2026a") == [ids[0], ids[2]]
    assert listed(stage="idea", journey="social-incubator") == [ids[0], ids[3]]
    assert listed(limit=2) == ids[:2]
    assert listed(partner="cmu", stage="idea") == [ids[0]]
    with hot.transaction(write=False) as cursor:
        assert hot.project_ids(cursor) == ids
        assert list(hot.read_many(cursor, [ids[3], ids[1]])) == [ids[1], ids[3]]


def test_update_is_optimistic(hot: HotPath) -> None:
    with hot.transaction() as cursor:
        project_id = hot.insert_project(cursor, _project())
    later = T0 + timedelta(days=1)
    with hot.transaction() as cursor:
        assert hot.update(cursor, project_id, 0, {"stage": "validation", "visit": 2,
                                                  "updated_at": later})
    with hot.transaction() as cursor:
        before = hot.read(cursor, project_id)
        assert not hot.update(cursor, project_id, 0, {"stage": "withdrawn"})
        assert not hot.update(cursor, project_id + 99, 1, {"stage": "withdrawn"})
        after = hot.read(cursor, project_id)
    assert before is not None
    assert (before.stage, before.visit, before.lock_version, before.updated_at) == (
        "validation", 2, 1, later)
    assert after == before


@pytest.mark.parametrize("column", ["id", "lock_version", "nmae"])
def test_update_refuses_columns_it_may_not_set(hot: HotPath, column: str) -> None:
    with hot.transaction() as cursor:
        project_id = hot.insert_project(cursor, _project())
        with pytest.raises(ValueError, match="not updatable project columns") as info:
            hot.update(cursor, project_id, 0, {column: 5, "stage": "x"})
    assert str(info.value) == f"not updatable project columns: [{column!r}]"


def test_events_project_and_seq_are_unique(hot: HotPath) -> None:
    with hot.transaction() as cursor:
        project_id = hot.insert_project(cursor, _project())
        hot.append_event(cursor, {"project_id": project_id, "seq": 1, "kind": "created",
                                  "at": T0, "to_stage": "idea"})
    with pytest.raises(ConflictError, match="try again"), hot.transaction() as cursor:
        hot.append_event(cursor, {"project_id": project_id, "seq": 1, "kind": "advanced",
                                  "at": T0})
    with hot.transaction(write=False) as cursor:
        assert [row[2] for row in hot.list_events(cursor, project_id)] == ["created"]


def test_list_events_until_compares_instants(hot: HotPath) -> None:
    with hot.transaction() as cursor:
        project_id = hot.insert_project(cursor, _project())
        hot.append_events(cursor, [
            {"project_id": project_id, "seq": hours + 1, "kind": "k",
             "at": T0 + timedelta(hours=hours), "actor": "Malee", "role": "coach",
             "from_stage": "idea", "to_stage": "validation", "trigger": "validate",
             "payload": {"n": hours}} for hours in (0, 1, 2)])
        # 17:30 in Bangkok is 10:30 UTC: the first two events.
        rows = hot.list_events(cursor, project_id, until=datetime(2026, 1, 5, 17, 30,
                                                                  tzinfo=BANGKOK))
    named = [dict(zip(EVENT_COLUMNS, row, strict=True)) for row in rows]
    assert [row["payload"] for row in named] == [{"n": 0}, {"n": 1}]
    assert named[1]["at"] == T0 + timedelta(hours=1)
    assert (named[0]["actor"], named[0]["role"], named[0]["trigger"]) == (
        "Malee", "coach", "validate")


def test_follow_up_idempotency_keys_are_unique(hot: HotPath) -> None:
    with hot.transaction() as cursor:
        project_id = hot.insert_project(cursor, _project())
        hot.plan(cursor, [_follow_up(project_id, "p1:idea:1:a:1")])
        listed = hot.list_follow_ups(cursor)
    assert [(r["status"], r["attempts"], r["lease_owner"]) for r in listed] == [
        ("pending", 0, None)]
    with pytest.raises(ConflictError), hot.transaction() as cursor:
        hot.plan(cursor, [_follow_up(project_id, "p1:idea:1:a:1")])


def test_a_nan_in_a_payload_is_refused_naming_its_place(hot: HotPath) -> None:
    with hot.transaction() as cursor:
        project_id = hot.insert_project(cursor, _project())
    with pytest.raises(InvalidValue) as info, hot.transaction() as cursor:
        hot.append_event(cursor, {"project_id": project_id, "seq": 1, "kind": "k", "at": T0,
                                  "payload": {"gate": [{"seen": {"n": float("nan")}}]}})
    assert str(info.value) == ("the event payload['gate'][0]['seen']['n'] holds nan, which "
                               "a database cannot store; give a finite number")
    with pytest.raises(InvalidValue, match=r"'fields'\['x'\] holds inf"), \
            hot.transaction() as cursor:
        hot.update(cursor, project_id, 0, {"fields": {"x": float("inf")}})
    with hot.transaction(write=False) as cursor:
        assert hot.list_events(cursor, project_id) == []
        assert hot.read(cursor, project_id) == Project(project_id, **_project())


def test_concurrent_writers_serialise_without_losing_updates(hot: HotPath) -> None:
    with hot.transaction() as cursor:
        project_id = hot.insert_project(cursor, _project())
    workers, rounds = 4, 15

    def work() -> None:
        for _ in range(rounds):
            while True:  # retry on a stale lock, as the engine does
                with hot.transaction() as cursor:
                    row = hot.read(cursor, project_id)
                    assert row is not None
                    if hot.update(cursor, project_id, row.lock_version, {}):
                        hot.append_event(cursor, {"project_id": project_id, "kind": "touched",
                                                  "seq": row.lock_version + 1, "at": T0})
                        break

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with hot.transaction(write=False) as cursor:
        row = hot.read(cursor, project_id)
        seqs = [event[1] for event in hot.list_events(cursor, project_id)]
    assert row is not None
    assert row.lock_version == workers * rounds
    assert seqs == list(range(1, workers * rounds + 1))


def test_id_lists_longer_than_a_statement_may_bind_are_read_in_chunks(hot: HotPath) -> None:
    """260,000 ids (a large cohort's advance_many, a large batch): more parameters than one
    statement may bind on either backend (PostgreSQL 65,535; SQLite 32,766 by default,
    250,000 in Debian's build); each read still answers for all of them."""
    with hot.transaction() as cursor:
        made = [hot.insert_project(cursor, _project(name=f"p{n}")) for n in range(3)]
    ids = [*range(10_000_000, 10_260_000), *reversed(made)]
    with hot.transaction() as cursor:
        assert sorted(hot.read_many(cursor, ids, lock=True)) == sorted(made)
        assert sorted(hot.locks(cursor, ids)) == sorted(made)
        assert hot.owned(cursor, ids, "nobody") == set()
