"""SQLite writers of one file queue in the process, first come first served
(:class:`bompao.storage.database.WriterGate`), instead of sleeping in SQLite's busy
handler; a writer in another process still meets SQLite's own lock."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from bompao.errors import ConflictError
from bompao.storage import Database
from bompao.storage.database import WriterGate, _gate_for


def test_the_gate_hands_over_in_arrival_order() -> None:
    gate = WriterGate()
    assert gate.acquire(1)
    order: list[int] = []
    threads = []
    for n in range(5):
        def wait(n: int = n) -> None:
            assert gate.acquire(10)
            order.append(n)
            gate.release()
        thread = threading.Thread(target=wait)
        thread.start()
        threads.append(thread)
        while len(gate._waiters) < n + 1:  # this one queues before the next starts
            time.sleep(0.001)
    gate.release()
    for thread in threads:
        thread.join(10)
    assert order == [0, 1, 2, 3, 4]


def test_a_writer_that_waits_too_long_goes_on_without_the_gate() -> None:
    gate = WriterGate()
    assert gate.acquire(1)
    took: list[bool] = []
    thread = threading.Thread(target=lambda: took.append(gate.acquire(0.05)))
    thread.start()
    thread.join(5)
    assert took == [False]
    assert not gate._waiters  # it left the queue
    gate.release()
    assert gate.acquire(0)  # and the gate is free again


def _table(db: Database) -> None:
    with db.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")


def test_writers_of_one_file_commit_in_the_order_they_asked(tmp_path: Path) -> None:
    """Ten threads ask for the write lock while the first holds it; they commit first
    come first served (SQLite's busy handler, retrying at random, keeps no order)."""
    path = tmp_path / "g.db"
    db = Database.from_url(f"sqlite:///{path}", busy_timeout=20)
    _table(db)
    gate = _gate_for(str(path))
    holding = threading.Event()
    release = threading.Event()

    def write(n: int) -> None:
        with db.begin() as conn:
            if n == 0:
                holding.set()
                release.wait(10)
            conn.exec_driver_sql("INSERT INTO t VALUES (?)", (n,))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(11)]
    threads[0].start()
    assert holding.wait(10)
    for n, thread in enumerate(threads[1:], 1):
        thread.start()
        deadline = time.monotonic() + 10
        while len(gate._waiters) < n and time.monotonic() < deadline:
            time.sleep(0.001)  # queued before the next one starts
        assert len(gate._waiters) == n, "the writer did not queue at the gate"
    release.set()
    for thread in threads:
        thread.join(30)
    with db.begin(write=False) as conn:  # rows in the order the writers committed
        assert [r[0] for r in conn.exec_driver_sql("SELECT n FROM t ORDER BY rowid")] == (
            list(range(11)))
    db.dispose()


def test_a_nested_write_on_the_same_thread_meets_sqlites_lock_not_a_deadlock(
        tmp_path: Path) -> None:
    db = Database.from_url(f"sqlite:///{tmp_path / 'n.db'}", busy_timeout=0.2)
    _table(db)
    began = time.monotonic()
    with db.begin() as conn, pytest.raises(ConflictError):  # noqa: PT012
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        with db.begin() as inner:
            inner.exec_driver_sql("INSERT INTO t VALUES (2)")
    assert time.monotonic() - began < 5  # the busy timeout, not a hang
    db.dispose()


def test_a_writer_in_another_connection_outside_the_gate_still_waits_on_sqlite(
        tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    db = Database.from_url(f"sqlite:///{path}", busy_timeout=5)
    _table(db)
    # a connection of its own, outside the gate, as another process would have
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t VALUES (0)")
    threading.Timer(0.3, lambda: other.execute("COMMIT")).start()
    with db.begin() as conn:
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    with db.begin(write=False) as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 2
    other.close()
    db.dispose()
