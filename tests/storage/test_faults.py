"""Database faults, injected for real, reach callers as bompao errors.

A write lock held by another ``sqlite3`` connection, a read-only database (opened
read-only, and on a read-only bind mount), a full disk (a tiny tmpfs, and a file-size
limit set with ``setrlimit`` in a CLI subprocess) and a PostgreSQL connection killed
with ``pg_terminate_backend``: the library raises ``ConflictError`` or
``DatabaseError`` saying what failed, the CLI prints one ``error:`` line and exits 1
(conflict) or 2 (database error), and nothing is half-written.
"""

from __future__ import annotations

import contextlib
import os
import resource
import secrets
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bompao.engine import Engine
from bompao.errors import ConflictError, DatabaseError
from bompao.storage import Database

JOURNEY = """\
journey: faults
version: 1
title: {en: Faults}
fields:
  s: {type: string, default: ""}
stages:
  a: {initial: true}
  b: {}
  done: {final: true}
transitions:
  - {trigger: go, from: a, to: b}
  - {trigger: finish, from: b, to: done}
"""
BOMPAO = Path(sys.executable).with_name("bompao")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("BOMPAO_DATABASE_URL", "BOMPAO_JOURNEYS", "BOMPAO_DEBUG")}
    env["LC_ALL"] = "C.UTF-8"
    return env


def _cli(url: str, *args: str, limit: int | None = None) -> subprocess.CompletedProcess[str]:
    def limited() -> None:  # in the child: files may not grow past ``limit`` bytes
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))  # type: ignore[arg-type]

    return subprocess.run([str(BOMPAO), "--db", url, *args], capture_output=True, text=True,
                          env=_env(), timeout=120, check=False,
                          preexec_fn=limited if limit is not None else None)


def _error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


def _setup(url: str) -> tuple[str, int]:
    engine = Engine.from_url(url)
    try:
        key = engine.publish(JOURNEY)[0]
        return key, engine.create_project(key, "P").id
    finally:
        engine.close()


@contextlib.contextmanager
def _mounted(target: Path, *options: str) -> Iterator[Path]:
    target.mkdir(exist_ok=True)
    done = subprocess.run(["mount", *options, str(target)], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here: {done.stderr.strip()}")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


# a lock held by another connection -------------------------------------------------------

def test_a_write_lock_held_elsewhere_is_a_conflict_after_the_busy_timeout(
        tmp_path: Path) -> None:
    path = tmp_path / "bompao.db"
    _, project_id = _setup(f"sqlite:///{path}")
    engine = Engine.from_url(f"sqlite:///{path}?busy_timeout=0.3")
    assert engine.db.busy_timeout == pytest.approx(0.3)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        with pytest.raises(ConflictError) as info:
            engine.advance(project_id, "go")
        waited = time.monotonic() - started
        result = _cli(f"sqlite:///{path}?busy_timeout=0.3", "project", "advance",
                      str(project_id), "go")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert 0.25 < waited < 10
    assert str(info.value) == (
        f"the database at sqlite:///{path}?busy_timeout=0.3 is busy: another connection "
        "held its write lock for 0.3 s; nothing was written: try again")
    assert result.returncode == 1
    assert "is busy" in _error_line(result)
    assert engine.advance(project_id, "go").stage == "b"  # free again: it works
    engine.close()


def test_a_busy_timeout_that_is_not_a_number_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match=r"busy_timeout='soon' .* is not a number of "
                                            r"seconds; give e\.g\. \?busy_timeout=5"):
        Database.from_url(f"sqlite:///{tmp_path / 'x.db'}?busy_timeout=soon")


def test_postgres_row_locks_time_out_as_a_conflict(postgres_url: str) -> None:
    store_url = postgres_url
    _, project_id = _setup(store_url)
    holder = Database.from_url(store_url)
    engine = Engine.from_url(store_url)
    engine.db.busy_timeout = 0.3
    with holder.begin() as conn:
        conn.execute(sa.text("SELECT id FROM projects WHERE id = :id FOR UPDATE"),
                     {"id": project_id})
        fast = Database.from_url(store_url, busy_timeout=0.3)
        quick = Engine(fast)
        with pytest.raises(ConflictError, match=r"lock timeout.*try again"):
            quick.advance(project_id, "go")
    assert quick.advance(project_id, "go").stage == "b"
    for opened in (quick, engine):
        opened.close()
    holder.dispose()


# read-only ----------------------------------------------------------------------------

def test_a_database_opened_read_only_refuses_writes_saying_so(tmp_path: Path) -> None:
    path = tmp_path / "bompao.db"
    _, project_id = _setup(f"sqlite:///{path}")
    url = f"sqlite:///file:{path}?mode=ro&uri=true"
    engine = Engine.from_url(url, create=False)
    assert engine.get(project_id).stage == "a"  # reading works
    with pytest.raises(DatabaseError) as info:
        engine.advance(project_id, "go")
    assert "is read-only" in str(info.value)
    assert str(info.value).startswith("cannot write to the database at ")
    result = _cli(url, "project", "advance", str(project_id), "go")
    assert result.returncode == 2
    assert "is read-only" in _error_line(result)
    engine.close()
    assert Engine.from_url(f"sqlite:///{path}").get(project_id).stage == "a"


def test_a_database_on_a_read_only_mount_refuses_writes_saying_so(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    _, project_id = _setup(f"sqlite:///{source / 'bompao.db'}")
    with _mounted(tmp_path / "ro", "--bind", "-o", "ro", str(source)) as mount:
        with pytest.raises(OSError, match="Read-only file system"):
            (mount / "probe").write_text("x")
        url = f"sqlite:///{mount / 'bompao.db'}"
        result = _cli(url, "project", "advance", str(project_id), "go")
        engine = Engine(Database.from_url(url))
        with pytest.raises(DatabaseError) as info:
            engine.advance(project_id, "go")
        engine.close()
    assert result.returncode == 2, result.stderr
    line = _error_line(result)
    assert "refused" not in line
    assert "read-only" in line, line
    assert "read-only" in str(info.value)


# disk full ----------------------------------------------------------------------------

def test_a_full_tmpfs_is_a_database_error_and_keeps_the_last_change(tmp_path: Path) -> None:
    with _mounted(tmp_path / "small", "-t", "tmpfs", "-o", "size=1m", "tmpfs") as mount:
        url = f"sqlite:///{mount / 'bompao.db'}"
        _, project_id = _setup(url)
        engine = Engine.from_url(url)
        with contextlib.suppress(OSError), (mount / "filler").open("wb") as filler:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        last = engine.get(project_id)
        failure: DatabaseError | None = None
        for n in range(400):
            try:
                last = engine.set_fields(project_id, {"s": f"{n:05d}" * 1800})
            except DatabaseError as exc:
                failure = exc
                break
        assert failure is not None, "the disk never filled"
        info = pytest.ExceptionInfo.from_exception(failure)
        assert "the disk is full" in str(info.value) or "disk I/O error" in str(info.value)
        (mount / "filler").unlink()
        engine.close()
        engine = Engine.from_url(url)
        assert engine.get(project_id).fields == last.fields  # nothing half-written
        assert engine.history(project_id)[-1].seq == engine.get(project_id).lock_version
        engine.close()


def test_a_file_size_limit_fails_the_cli_with_one_database_error(tmp_path: Path) -> None:
    path = tmp_path / "bompao.db"
    url = f"sqlite:///{path}"
    _, project_id = _setup(url)
    before = Engine.from_url(url).get(project_id)
    with contextlib.closing(sqlite3.connect(path)) as conn:  # an empty WAL to grow
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    limit = 8192  # the WAL may not grow past two pages: the change needs three
    result = _cli(url, "project", "set", str(project_id), "s=" + "x" * 9000, limit=limit)
    assert result.returncode == 2, result.stderr
    line = _error_line(result)
    assert line.startswith(f"error: cannot write to the database at {url}: "), line
    assert "the disk is full" in line or "disk I/O error" in line, line
    assert Engine.from_url(url).get(project_id) == before


# a PostgreSQL connection killed ----------------------------------------------------------

def test_a_killed_postgres_connection_is_a_database_error(postgres_url: str) -> None:
    store_url = postgres_url
    _, project_id = _setup(store_url)
    name = f"bompao_fault_{secrets.token_hex(4)}"
    separator = "&" if "?" in store_url else "?"
    engine = Engine.from_url(f"{store_url}{separator}application_name={name}")
    holder = Database.from_url(store_url)
    errors: list[BaseException] = []

    def advance() -> None:
        try:
            engine.advance(project_id, "go")
        except BaseException as exc:
            errors.append(exc)

    with holder.begin() as conn:
        conn.execute(sa.text("SELECT id FROM projects WHERE id = :id FOR UPDATE"),
                     {"id": project_id})
        worker = threading.Thread(target=advance)
        worker.start()
        waiting = 0
        for _ in range(200):  # until the engine's UPDATE waits for the row lock
            with holder.engine.connect() as spy:
                waiting = spy.execute(sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = :n "
                    "AND wait_event_type = 'Lock'"), {"n": name}).scalar_one()
                if waiting:
                    spy.execute(sa.text("SELECT pg_terminate_backend(pid) FROM "
                                        "pg_stat_activity WHERE application_name = :n"),
                                {"n": name})
                    spy.commit()
                    break
            time.sleep(0.05)
        worker.join(timeout=60)
    assert waiting, "the engine never waited for the lock"
    assert len(errors) == 1
    assert isinstance(errors[0], DatabaseError), repr(errors[0])
    assert str(errors[0]).startswith("lost the connection to the database at "), errors[0]
    assert engine.get(project_id).stage == "a"  # nothing written; the pool reconnects
    assert engine.advance(project_id, "go").stage == "b"
    engine.close()
    holder.dispose()


def test_a_server_that_is_not_there_is_a_database_error_in_the_cli() -> None:
    result = _cli("postgresql://nobody@127.0.0.1:1/none", "project", "list")
    assert result.returncode == 2
    assert "cannot open the database at postgresql" in _error_line(result)


