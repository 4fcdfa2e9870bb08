"""Migration to a journey version not yet published: no self-deadlock, and a dry run
that writes nothing at all (no project change, no event, no publish), on SQLite and
PostgreSQL.

Before the fix the migration published the target version from inside its own write
transaction: on SQLite the publish waited 30 s for the lock its own transaction held,
then failed with "database is locked"; on PostgreSQL a dry run published the version.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bompao.definitions import JourneyCatalog
from bompao.engine import Engine
from bompao.storage.tables import events, follow_ups, journeys, projects

V1 = """\
journey: growing
version: 1
title: {en: Growing}
fields:
  n: {type: int, default: 0}
  legacy: {type: string, default: old}
stages:
  start:
    initial: true
    follow_ups:
      - {after: 3 days, action: flag, flag: slow}
  done: {final: true}
transitions:
  - {trigger: finish, from: start, to: done}
"""
V2 = """\
journey: growing
version: 2
title: {en: Growing}
fields:
  n: {type: int, default: 0}
stages:
  intake:
    initial: true
    follow_ups:
      - {after: 5 days, action: flag, flag: slower}
  done: {final: true}
transitions:
  - {trigger: finish, from: intake, to: done}
"""


@pytest.fixture
def staged(store_url: str, tmp_path: Path) -> Iterator[Engine]:
    """An engine whose catalog holds growing@1 and @2; only @1 gets published (by the
    project created on it)."""
    folder = tmp_path / "journeys"
    folder.mkdir()
    (folder / "growing-1.yaml").write_text(V1, encoding="utf-8")
    (folder / "growing-2.yaml").write_text(V2, encoding="utf-8")
    engine = Engine.from_url(store_url, catalog=JourneyCatalog([folder], bundled=False))
    yield engine
    engine.close()


def _counts(engine: Engine) -> dict[str, int]:
    with engine.db.begin(write=False) as conn:
        return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in (journeys, projects, events, follow_ups)}


def _files(url: str) -> dict[str, tuple[int, int]]:
    """(mtime in ns, size) of a SQLite database's files; empty on PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return {}
    found = {}
    for suffix in ("", "-wal"):
        path = Path(f"{parsed.database}{suffix}")
        if path.exists():
            found[suffix] = (path.stat().st_mtime_ns, path.stat().st_size)
    return found


def test_a_dry_run_to_an_unpublished_version_writes_nothing_at_all(
        staged: Engine, store_url: str) -> None:
    p = staged.create_project("growing@1", "P", fields={"n": 3})
    before, files = _counts(staged), _files(store_url)
    time.sleep(0.05)  # a write now would show in the files' mtimes
    plan = staged.migrate(p.id, 2, {"start": "intake"}, dry_run=True)
    assert plan == {"project": p.id, "from_version": 1, "to_version": 2,
                    "from_stage": "start", "to_stage": "intake",
                    "dropped_fields": ["legacy"], "fields": {"n": 3}, "dry_run": True}
    assert _counts(staged) == before
    assert _files(store_url) == files
    assert [(j["journey"], j["version"]) for j in staged.list_journeys()] == [("growing", 1)]


def test_migrating_to_an_unpublished_version_publishes_it_first_without_waiting(
        staged: Engine) -> None:
    p = staged.create_project("growing@1", "P", fields={"n": 3})
    started = time.monotonic()
    plan = staged.migrate(p.id, 2, {"start": "intake"})
    took = time.monotonic() - started
    assert took < 5, f"the migration waited {took:.1f} s (on a lock it held itself?)"
    assert (plan["to_stage"], plan["dry_run"]) == ("intake", False)
    stored = staged.get(p.id)
    assert (stored.version, stored.stage, stored.fields) == (2, "intake", {"n": 3})
    assert sorted((j["journey"], j["version"]) for j in staged.list_journeys()) == [
        ("growing", 1), ("growing", 2)]
    pending = staged.list_follow_ups(project=p.id, status="pending")
    assert [(f["stage"], f["action"]) for f in pending] == [("intake", "flag")]


def test_a_dry_run_then_the_real_migration_agree(staged: Engine) -> None:
    p = staged.create_project("growing@1", "P")
    dry = staged.migrate(p.id, 2, {"start": "intake"}, dry_run=True)
    real = staged.migrate(p.id, 2, {"start": "intake"})
    assert {**dry, "dry_run": False} == real
