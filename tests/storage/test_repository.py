"""The repository functions, on a real SQLite file and a real PostgreSQL schema."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from bompao.storage import Database, repository
from bompao.storage.tables import follow_ups

T0 = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
BANGKOK = timezone(timedelta(hours=7))


def _project(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "journey_key": "social-incubator",
        "journey_version": 1,
        "name": "Clean Water Mae Rim",
        "stage": "idea",
        "stage_entered_at": T0,
        "created_at": T0,
        "updated_at": T0,
    }
    return values | overrides


def _journey(version: int, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "key": "social-incubator",
        "version": version,
        "title": {"en": "Social Incubator", "th": "ระบบบ่มเพาะโครงการ"},
        "source": f"journey: social-incubator\nversion: {version}\n",
        "sha256": f"{version:064x}",
        "published_at": T0,
    }
    return values | overrides


def test_journeys_by_version_and_latest(db: Database) -> None:
    with db.begin() as conn:
        repository.insert_journey(conn, _journey(1))
        repository.insert_journey(conn, _journey(2, partner="cmu", extends="base@1"))
        repository.insert_journey(conn, _journey(1, key="another"))
    with db.begin(write=False) as conn:
        latest = repository.get_journey(conn, "social-incubator")
        first = repository.get_journey(conn, "social-incubator", 1)
        assert repository.get_journey(conn, "social-incubator", 3) is None
        assert repository.get_journey(conn, "nope") is None
        listed = [(row.key, row.version) for row in repository.list_journeys(conn)]
        only = [row.version for row in repository.list_journeys(conn, "social-incubator")]
    assert latest is not None
    assert (latest.version, latest.partner, latest.extends) == (2, "cmu", "base@1")
    assert first is not None
    assert first.title == {"en": "Social Incubator", "th": "ระบบบ่มเพาะโครงการ"}
    assert first.published_at == T0
    assert listed == [("another", 1), ("social-incubator", 1), ("social-incubator", 2)]
    assert only == [1, 2]


def test_a_published_version_cannot_be_inserted_twice(db: Database) -> None:
    with db.begin() as conn:
        repository.insert_journey(conn, _journey(1))
    with pytest.raises(sa.exc.IntegrityError), db.begin() as conn:
        repository.insert_journey(conn, _journey(1, source="changed"))


def test_a_new_project_has_defaults(db: Database) -> None:
    with db.begin() as conn:
        project_id = repository.insert_project(conn, _project())
        row = repository.get_project(conn, project_id)
        assert repository.get_project(conn, project_id + 1) is None
    assert row is not None
    assert (row.visit, row.lock_version) == (1, 0)
    assert (row.fields, row.flags, row.assignments, row.evidence, row.approvals) == (
        {}, [], {}, {}, {}
    )
    assert row.stage_entered_at == T0
    assert row.stage_entered_at.tzinfo is UTC


def test_json_columns_round_trip(db: Database) -> None:
    values = _project(
        fields={"interviews_done": 12, "partners_committed": ["มูลนิธิ", "CMU"], "x": None},
        flags=["at_risk"],
        assignments={"coach": ["Malee"]},
        evidence={"stakeholder_map": {"url": "https://e.example/m", "note": None, "by": "Malee",
                                      "at": "2026-01-05T09:30:00+00:00"}},
        approvals={"coach": [{"by": "Malee", "at": "2026-01-05T09:30:00+00:00"}]},
    )
    with db.begin() as conn:
        row = repository.get_project(conn, repository.insert_project(conn, values))
    assert row is not None
    assert {key: getattr(row, key) for key in values} == values


def test_list_projects_filters(db: Database) -> None:
    with db.begin() as conn:
        ids = [
            repository.insert_project(conn, _project(partner="cmu", cohort="2026a")),
            repository.insert_project(conn, _project(partner="cmu", stage="validation")),
            repository.insert_project(conn, _project(journey_key="other", cohort="2026a")),
            repository.insert_project(conn, _project()),
        ]

    def listed(**filters: Any) -> list[int]:
        with db.begin(write=False) as conn:
            return [row.id for row in repository.list_projects(conn, **filters)]

    assert listed() == ids
    assert listed(partner="cmu") == ids[:2]
    assert listed(cohort="2026a") == [ids[0], ids[2]]
    assert listed(stage="idea", journey="social-incubator") == [ids[0], ids[3]]
    assert listed(ids=[ids[3], ids[1]]) == [ids[1], ids[3]]
    assert listed(ids=[]) == []
    assert listed(limit=2) == ids[:2]
    assert listed(partner="cmu", stage="idea") == [ids[0]]


def test_update_project_is_optimistic(db: Database) -> None:
    with db.begin() as conn:
        project_id = repository.insert_project(conn, _project())
    later = T0 + timedelta(days=1)
    with db.begin() as conn:
        assert repository.update_project(
            conn, project_id, 0, {"stage": "validation", "visit": 2, "updated_at": later}
        )
    with db.begin() as conn:
        before = repository.get_project(conn, project_id)
        assert not repository.update_project(conn, project_id, 0, {"stage": "withdrawn"})
        assert not repository.update_project(conn, project_id + 99, 1, {"stage": "withdrawn"})
        after = repository.get_project(conn, project_id)
    assert before is not None
    assert (before.stage, before.visit, before.lock_version, before.updated_at) == (
        "validation", 2, 1, later
    )
    assert after == before


@pytest.mark.parametrize("column", ["id", "lock_version"])
def test_update_project_refuses_protected_columns(db: Database, column: str) -> None:
    with db.begin() as conn:
        project_id = repository.insert_project(conn, _project())
        with pytest.raises(ValueError, match="update_project cannot set") as info:
            repository.update_project(conn, project_id, 0, {column: 5, "stage": "x"})
    assert str(info.value) == f"update_project cannot set [{column!r}]"


def test_events_get_a_gap_free_sequence_per_project(db: Database) -> None:
    with db.begin() as conn:
        first = repository.insert_project(conn, _project())
        second = repository.insert_project(conn, _project())
        seqs = [
            repository.append_event(conn, {"project_id": project, "kind": "created", "at": T0})
            for project in (first, first, second, first)
        ]
        assert seqs == [1, 2, 1, 3]
        listed = [(row.seq, row.project_id) for row in repository.list_events(conn, first)]
    assert listed == [(1, first), (2, first), (3, first)]


def test_events_project_and_seq_are_unique(db: Database) -> None:
    with db.begin() as conn:
        project_id = repository.insert_project(conn, _project())
        repository.append_event(conn, {"project_id": project_id, "kind": "created", "at": T0})
    with pytest.raises(sa.exc.IntegrityError), db.begin() as conn:
        repository.append_event(
            conn, {"project_id": project_id, "seq": 1, "kind": "advanced", "at": T0}
        )
    with db.begin(write=False) as conn:
        assert [row.kind for row in repository.list_events(conn, project_id)] == ["created"]


def test_events_need_an_existing_project(db: Database) -> None:
    with pytest.raises(sa.exc.IntegrityError), db.begin() as conn:
        repository.append_event(conn, {"project_id": 404, "seq": 1, "kind": "x", "at": T0})


def test_list_events_until_compares_instants(db: Database) -> None:
    with db.begin() as conn:
        project_id = repository.insert_project(conn, _project())
        for hours in (0, 1, 2):
            repository.append_event(
                conn,
                {"project_id": project_id, "kind": "k", "at": T0 + timedelta(hours=hours),
                 "actor": "Malee", "role": "coach", "from_stage": "idea",
                 "to_stage": "validation", "trigger": "validate", "payload": {"n": hours}},
            )
        # 17:30 in Bangkok is 10:30 UTC: the first two events.
        until = datetime(2026, 1, 5, 17, 30, tzinfo=BANGKOK)
        rows = repository.list_events(conn, project_id, until=until)
    assert [row.payload for row in rows] == [{"n": 0}, {"n": 1}]
    assert rows[1].at == T0 + timedelta(hours=1)
    assert (rows[0].actor, rows[0].role, rows[0].trigger) == ("Malee", "coach", "validate")


def _follow_up(project_id: int, key: str, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "project_id": project_id, "stage": "idea", "visit": 1, "spec": "check-in",
        "occurrence": 1, "action": "notify", "due_at": T0, "idempotency_key": key,
        "created_at": T0,
    }
    return values | overrides


def test_follow_up_idempotency_keys_are_unique(db: Database) -> None:
    with db.begin() as conn:
        project_id = repository.insert_project(conn, _project())
        conn.execute(sa.insert(follow_ups).values(_follow_up(project_id, "p1:idea:1:a:1")))
        row = conn.execute(sa.select(follow_ups)).one()
    assert (row.status, row.attempts, row.lease_owner) == ("pending", 0, None)
    with pytest.raises(sa.exc.IntegrityError), db.begin() as conn:
        conn.execute(sa.insert(follow_ups).values(_follow_up(project_id, "p1:idea:1:a:1")))


def test_follow_up_status_is_checked(db: Database) -> None:
    with db.begin() as conn:
        project_id = repository.insert_project(conn, _project())
    with pytest.raises(sa.exc.IntegrityError), db.begin() as conn:
        conn.execute(
            sa.insert(follow_ups).values(_follow_up(project_id, "k", status="forgotten"))
        )


def test_concurrent_writers_serialise_without_losing_updates(db: Database) -> None:
    with db.begin() as conn:
        project_id = repository.insert_project(conn, _project())
    workers, rounds = 4, 15

    def work() -> None:
        for _ in range(rounds):
            while True:  # retry on a stale lock, as the engine does
                with db.begin() as conn:
                    row = repository.get_project(conn, project_id)
                    assert row is not None
                    if repository.update_project(conn, project_id, row.lock_version, {}):
                        repository.append_event(
                            conn, {"project_id": project_id, "kind": "touched", "at": T0}
                        )
                        break

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with db.begin(write=False) as conn:
        row = repository.get_project(conn, project_id)
        seqs = [event.seq for event in repository.list_events(conn, project_id)]
    assert row is not None
    assert row.lock_version == workers * rounds
    assert seqs == list(range(1, workers * rounds + 1))
