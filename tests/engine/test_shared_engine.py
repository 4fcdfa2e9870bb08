"""One Engine shared by many threads, as a web server uses it: a connection per transaction.

Nothing is held per thread: each transaction checks a connection out of the database's
connections (SQLAlchemy's pool on PostgreSQL; on SQLite a list of connections opened
through it, with the same limit, 5 + 10) and gives it back, so 200 short-lived threads
never wait for one (with connections kept per thread, the 16th timed out).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa
from checkouts import count_checkouts

from bompao.engine import Engine
from bompao.storage import Database

THREADS = 200


def _all_returned(pool: Any) -> bool:
    """Every connection is back in the pool, within 5 s: on PostgreSQL the notifier
    thread sends the commits' NOTIFY on a pooled connection just after them."""
    deadline = time.monotonic() + 5
    while pool.checkedout() and time.monotonic() < deadline:
        time.sleep(0.01)
    return bool(pool.checkedout() == 0)


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
    assert _all_returned(pool)  # every connection went back
    assert engine.db.connections.checked_out() == 0


# a cold engine: the first changes compile the journeys ------------------------------------

COLD = """\
journey: cold{n}
version: {v}
title: {{en: Cold {n}}}
fields:
  n: {{type: int, default: {v}}}
stages:
  a: {{initial: true}}
  b: {{final: true}}
transitions:
  - {{trigger: go, from: a, to: b, gate: {{expr: "n >= {v}"}}}}
"""
"""Three journeys in two versions each, every gate an expression to compile."""


@pytest.mark.parametrize("threads", [20, 200])
def test_threads_advancing_through_a_cold_engine_never_hold_two_connections(
        store_url: str, clock: Any, threads: int) -> None:
    """A fresh Engine compiles each journey version on its first change. Compiling read
    the published journey through a second pooled connection while the change's
    transaction held the first: with every thread holding one and waiting for another,
    20 threads stalled until the pool timeout. Now no thread ever holds two."""
    warm = Engine.from_url(store_url, clock=clock)
    refs = [warm.publish(COLD.format(n=n, v=v)) for n in range(3) for v in (1, 2)]
    ids = [warm.create_project(f"{key}@{version}", f"P{i}").id
           for i, (key, version) in enumerate(refs * (threads // len(refs) + 1))][:threads]
    warm.close()
    cold = Engine(Database.from_url(store_url), clock=clock)  # nothing compiled yet
    assert cold._journeys == {}
    pool = cold.db.engine.pool
    assert isinstance(pool, sa.pool.QueuePool)
    assert pool.size() + pool._max_overflow < threads or threads == 20
    pool._timeout = 10  # a stall fails in seconds, not after the default 30 s
    held: dict[int, int] = {}
    most: dict[int, int] = {}
    lock = threading.Lock()

    def checkout(*_: Any) -> None:
        me = threading.get_ident()
        with lock:
            held[me] = held.get(me, 0) + 1
            most[me] = max(most.get(me, 0), held[me])

    def checkin(*_: Any) -> None:
        me = threading.get_ident()
        with lock:
            held[me] = held.get(me, 0) - 1

    count_checkouts(cold.db, checkout, checkin)  # the pool's and the write path's own
    connections = cold.db.connections
    start = threading.Barrier(threads, timeout=60)
    errors: list[BaseException] = []
    moved: dict[int, Any] = {}

    def advance(project_id: int) -> None:
        try:
            start.wait()
            moved[project_id] = cold.advance(project_id, "go")
        except BaseException as exc:
            errors.append(exc)

    began = time.monotonic()
    workers = [threading.Thread(target=advance, args=(i,)) for i in ids]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    took = time.monotonic() - began
    try:
        assert errors == []
        assert sorted(moved) == sorted(ids)
        assert all(p.stage == "b" and p.lock_version == 2 for p in moved.values())
        assert max(most.values()) == 1  # no thread ever held two connections
        assert took < 10  # nobody waited out a pool timeout
        assert {(k, v) for k, v in cold._journeys} == set(refs)
        assert _all_returned(pool)
        assert connections.checked_out() == 0
    finally:
        cold.close()


def test_a_journey_compiled_inside_a_transaction_reads_through_its_connection(
        store_url: str, clock: Any) -> None:
    """Whatever calls :meth:`Engine.journey` inside a transaction it holds (the
    selection's cohort advance does) reads the journey through that transaction's
    connection: the pool sees one checkout, not two."""
    warm = Engine.from_url(store_url, clock=clock)
    key, version = warm.publish(COLD.format(n=7, v=2))
    warm.close()
    cold = Engine(Database.from_url(store_url), clock=clock)
    checkouts: list[int] = []
    sa.event.listen(cold.db.engine.pool, "checkout", lambda *_: checkouts.append(1))
    try:
        with cold.hot.transaction() as _cursor:
            compiled = cold.journey(key, version)
            latest = cold.journey(key)
        assert (compiled.ref, latest.ref) == ("cold7@2", "cold7@2")
        assert len(checkouts) == 1
        assert cold.journey(key, version) is compiled  # kept for later changes
    finally:
        cold.close()
