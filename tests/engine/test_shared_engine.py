"""One Engine shared by many threads, as a web server uses it: a connection per transaction.

Nothing is held per thread: each transaction checks a connection out of SQLAlchemy's
pool (default size, 5 + 10 overflow) and gives it back, so 200 short-lived threads
never wait for one (with connections kept per thread, the 16th timed out).
"""

from __future__ import annotations

import threading
from typing import Any

import sqlalchemy as sa

from bompao.engine import Engine

THREADS = 200


def test_two_hundred_short_lived_threads_each_advance_their_project(
        engine: Engine, toggle: str) -> None:
    ids = [engine.create_project(toggle, f"P{i}").id for i in range(THREADS)]
    pool = engine.db.engine.pool
    assert isinstance(pool, sa.pool.QueuePool)
    assert pool.size() + pool._max_overflow < THREADS  # the default pool: 5 + 10
    start = threading.Barrier(THREADS, timeout=60)
    errors: list[BaseException] = []
    moved: dict[int, Any] = {}

    def advance(project_id: int) -> None:
        try:
            start.wait()
            moved[project_id] = engine.advance(project_id, "go")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=advance, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(moved) == ids
    assert all(project.stage == "b" and project.lock_version == 2
               for project in moved.values())
    assert [engine.get(i).stage for i in ids] == ["b"] * THREADS
    assert pool.checkedout() == 0  # every connection went back
