"""The journey repository functions, on a real SQLite file and a real PostgreSQL schema.

Projects, events and follow-ups are written through the write path: see
``test_write_path.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bompao.errors import ConflictError
from bompao.storage import Database, repository

T0 = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


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
    same_key = r"journeys\.key, journeys\.version|uq_journeys_key_version"
    with pytest.raises(ConflictError, match=same_key), db.begin() as conn:
        repository.insert_journey(conn, _journey(1, source="changed"))
