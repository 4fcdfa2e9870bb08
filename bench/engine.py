"""Advance throughput and memory: bompao's engine against plain sqlite3 and the naive way.

Run from the repository root: ``python -m bench engine`` (or ``python bench/engine.py``).
Everything is measured side by side in one process on fresh SQLite files, so the
ratios hold on a noisy shared machine; absolute rates vary.

- minimal: plain sqlite3 doing the minimal work on a minimal two-table schema — read
  the row, versioned update, insert an event, commit: the floor of what SQLite costs
  (the baseline of the targets).
- plain: exactly the statements of bompao's advance, by hand on bompao's own schema
  (the full row read, the same columns updated, the event with its gate report and
  the stage visit it ends): what the schema itself costs.
- naive: one ``transitions.Machine`` per project plus the SQLAlchemy ORM.
- bompao: ``Engine.advance`` — gate evaluated (CEL), optimistic lock, event appended,
  stage visit kept, in its own transaction.
- transitions step: ``CompiledJourney.fire`` alone (the shared machine resolving the
  trigger, the gate as its condition, the exit/entry callbacks), per advance.
- PostgreSQL (when ``BOMPAO_BENCH_POSTGRES_URL`` or ``BOMPAO_TEST_POSTGRES_URL`` is
  set): ``Engine.advance`` beside plain psycopg doing the minimal work on the minimal
  schema, side by side on the same server.

``--profile`` adds a cProfile of ``Engine.advance`` on SQLite (calls and µs per
advance, by own time). The CPU time of an advance (``time.process_time``) moves less
with the machine's load than its rate does.

Every SQLite connection runs with bompao's settings (WAL, ``synchronous=NORMAL``), the
naive one included. The table's title line gives the machine's load average at the
start and the end of the run: the absolute rates move with it, the ratios much less.
"""

from __future__ import annotations

import gc
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _table import Row, print_table

JOURNEY = """
journey: bench
version: 1
roles: [coach]
fields: {n: {type: int, default: 5}}
stages:
  a: {initial: true}
  b: {}
transitions:
  - {trigger: go, from: a, to: b, gate: {expr: "n > 1"}}
  - {trigger: back, from: b, to: a, gate: {expr: "n > 1"}}
"""
TARGETS = {"vs_minimal": 0.2, "vs_naive": 4.0, "memory_mb": 50.0, "fire_us": 10.0}


def _rss_mb() -> float:
    with Path("/proc/self/statm").open() as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


_GATE = ('{"override":false,"gate":[{"kind":"expr","says":"n > 1","met":true,'
         '"seen":{"n":5}}]}')
"""The payload bompao's advance writes for :data:`JOURNEY`'s gate (its gate report)."""


def plain_rate(path: Path, n: int) -> float:
    """Advances per second by hand with sqlite3 on bompao's own schema and rows.

    Exactly the statements an ``Engine.advance`` runs (``bompao.storage.hotpath``):
    read the row, update the columns an advance changes under the version check,
    insert the event with its gate report and the stage visit it ends (the previous
    entry's time, read by the same subquery), commit; no gate, no JSON decoding, no
    checks.
    """
    engine = _engine(f"sqlite:///{path}")
    ids = _bulk_projects(engine, 200)
    engine.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    start = time.perf_counter()
    for i in range(n):
        pid = ids[i % 200]
        now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
        conn.execute("BEGIN IMMEDIATE")
        row = conn.execute(
            "SELECT id, journey_key, journey_version, partner, cohort, name, stage, visit, "
            "fields, flags, assignments, evidence, approvals, lock_version, "
            "stage_entered_at, created_at, updated_at FROM projects WHERE id = ?",
            (pid,)).fetchone()
        stage, visit, lock = row[6], row[7], row[13]
        dest = "b" if stage == "a" else "a"
        conn.execute("UPDATE projects SET stage = ?, visit = ?, approvals = ?, "
                     "stage_entered_at = ?, updated_at = ?, lock_version = ? "
                     "WHERE id = ? AND lock_version = ?",
                     (dest, visit + 1, "{}", now, now, lock + 1, pid, lock))
        conn.execute("INSERT INTO events (project_id, seq, kind, at, actor, role, from_stage, "
                     "to_stage, trigger, payload, from_entered_at) VALUES (?, ?, 'advanced', "
                     "?, NULL, NULL, ?, ?, ?, ?, CASE WHEN ? THEN (SELECT p.at FROM events p "
                     "WHERE p.project_id = ? AND p.seq < ? AND p.to_stage IS NOT NULL "
                     "AND p.kind IN ('created', 'advanced', 'migrated') "
                     "AND (p.kind <> 'migrated' OR p.from_stage IS NOT p.to_stage) "
                     "ORDER BY p.seq DESC LIMIT 1) END)",
                     (pid, lock + 1, now, stage, dest, "go" if dest == "b" else "back", _GATE,
                      True, pid, lock + 1))
        conn.execute("COMMIT")
    rate = n / (time.perf_counter() - start)
    conn.close()
    return rate


def plain_minimal_rate(path: Path, n: int) -> float:
    """The same loop on a minimal two-table schema with no secondary indexes (reference)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE p (id INTEGER PRIMARY KEY, stage TEXT, lock INT)")
    conn.execute("CREATE TABLE e (id INTEGER PRIMARY KEY, p INT, seq INT, frm TEXT, too TEXT)")
    conn.executemany("INSERT INTO p VALUES (?, 'a', 1)", [(i,) for i in range(200)])
    start = time.perf_counter()
    for i in range(n):
        pid = i % 200
        conn.execute("BEGIN IMMEDIATE")
        stage, lock = conn.execute("SELECT stage, lock FROM p WHERE id = ?", (pid,)).fetchone()
        dest = "b" if stage == "a" else "a"
        conn.execute("UPDATE p SET stage = ?, lock = ? WHERE id = ? AND lock = ?",
                     (dest, lock + 1, pid, lock))
        conn.execute("INSERT INTO e (p, seq, frm, too) VALUES (?, ?, ?, ?)",
                     (pid, lock + 1, stage, dest))
        conn.execute("COMMIT")
    rate = n / (time.perf_counter() - start)
    conn.close()
    return rate


def naive_rate(path: Path, n: int) -> float:
    """Advances per second with a Machine per project and the SQLAlchemy ORM."""
    import sqlalchemy as sa  # noqa: PLC0415
    from sqlalchemy.orm import DeclarativeBase, Session  # noqa: PLC0415
    from transitions import Machine  # noqa: PLC0415

    class Base(DeclarativeBase):
        pass

    class Proj(Base):
        __tablename__ = "p"
        id = sa.Column(sa.Integer, primary_key=True)
        stage = sa.Column(sa.String, nullable=False)
        n = sa.Column(sa.Integer, nullable=False)

    class Ev(Base):
        __tablename__ = "e"
        id = sa.Column(sa.Integer, primary_key=True)
        p = sa.Column(sa.Integer, nullable=False)
        kind = sa.Column(sa.String, nullable=False)
        frm = sa.Column(sa.String, nullable=False)
        too = sa.Column(sa.String, nullable=False)

    engine = sa.create_engine(f"sqlite:///{path}")

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi: Any, _record: Any) -> None:  # the same SQLite settings as bompao's
        dbapi.execute("PRAGMA journal_mode=WAL")
        dbapi.execute("PRAGMA synchronous=NORMAL")

    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([Proj(id=i, stage="a", n=5) for i in range(200)])
        session.commit()
    start = time.perf_counter()
    for i in range(n):
        with Session(engine) as session:
            proj = session.get(Proj, i % 200)
            assert proj is not None
            machine = Machine(model=proj, states=["a", "b"], initial=proj.stage,
                              model_attribute="fsm_state", auto_transitions=False,
                              transitions=[
                                  {"trigger": "go", "source": "a", "dest": "b",
                                   "conditions": [lambda p=proj: p.n > 1]},
                                  {"trigger": "back", "source": "b", "dest": "a",
                                   "conditions": [lambda p=proj: p.n > 1]}])
            before = proj.stage
            proj.trigger("go" if before == "a" else "back")  # type: ignore[attr-defined]
            proj.stage = proj.fsm_state  # type: ignore[attr-defined]
            session.add(Ev(p=proj.id, kind="advanced", frm=before, too=proj.stage))
            session.commit()
            del machine
    rate = n / (time.perf_counter() - start)
    engine.dispose()
    return rate


def _engine(url: str) -> Any:
    from bompao.engine import Engine  # noqa: PLC0415

    engine = Engine.from_url(url)
    engine.publish(JOURNEY)
    return engine


def _bulk_projects(engine: Any, count: int) -> list[int]:
    """Create ``count`` projects in one transaction, through the engine's write path."""
    now = datetime.now(UTC)
    journey = engine.journey("bench", 1)
    with engine.hot.transaction() as cursor:
        return [engine._insert_project(cursor, journey, {
            "journey_key": "bench", "journey_version": 1, "partner": None, "cohort": None,
            "name": f"p{i}", "stage": "a", "visit": 1, "fields": {"n": 5}, "flags": [],
            "assignments": {}, "evidence": {}, "approvals": {}, "lock_version": 1,
            "stage_entered_at": now, "created_at": now, "updated_at": now},
            now=now, actor=None).id for i in range(count)]


def bompao_rate(url: str, n: int) -> float:
    """Gate-checked, persisted advances per second through ``Engine.advance``."""
    return bompao_run(url, n)[0]


def bompao_run(url: str, n: int, profile: bool = False) -> tuple[float, float]:
    """(advances a second, CPU µs an advance) through ``Engine.advance``; with
    ``profile``, print where the time goes (cProfile, by own time, per advance)."""
    engine = _engine(url)
    ids = _bulk_projects(engine, 200)
    profiler = None
    if profile:
        import cProfile  # noqa: PLC0415

        profiler = cProfile.Profile()
        profiler.enable()
    cpu, start = time.process_time(), time.perf_counter()
    for i in range(n):
        engine.advance(ids[i % 200], "go" if (i // 200) % 2 == 0 else "back")
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    if profiler is not None:
        profiler.disable()
        _print_profile(profiler, n)
    engine.close()
    return n / wall, cpu / n * 1e6


def _print_profile(profiler: Any, n: int, top: int = 30) -> None:
    """The ``top`` functions by own time: calls and µs per advance (cProfile's figures,
    inflated by its own cost per call; the ranking is what they are for)."""
    import pstats  # noqa: PLC0415

    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    rows = sorted(((tottime, calls, cumtime, f"{Path(f).name}:{line}({name})")
                   for (f, line, name), (_, calls, tottime, cumtime, _) in stats.items()),
                  reverse=True)
    total = sum(calls for _, calls, _, _ in rows) / n
    print(f"profile of Engine.advance: {total:.0f} Python calls an advance")
    print(f"{'calls':>6} {'own µs':>7} {'cum µs':>7}  function")
    for tottime, calls, cumtime, where in rows[:top]:
        print(f"{calls / n:6.1f} {tottime / n * 1e6:7.2f} {cumtime / n * 1e6:7.1f}  {where}")


def fire_us(n: int) -> float:
    """Microseconds of the transitions step of one advance: ``CompiledJourney.fire`` on
    the journey's shared machine, the gate evaluated as the branch's condition."""
    from bompao.definitions import GateContext, compile_journey  # noqa: PLC0415

    journey = compile_journey(JOURNEY)
    now = datetime.now(UTC)
    context = GateContext(fields={"n": 5}, evidence={}, approvals={}, entered_at=now,
                          now=now)
    journey.fire("a", "go", context)  # the machine is built on first use
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            journey.fire("a", "go", context)
        best = min(best, (time.perf_counter() - start) / n * 1e6)
    return best


def batch_seconds(url: str, count: int) -> float:
    """Seconds to advance a ``count``-project cohort with one ``advance_many`` call."""
    engine = _engine(url)
    ids = _bulk_projects(engine, count)
    start = time.perf_counter()
    engine.advance_many(ids, "go")
    seconds = time.perf_counter() - start
    engine.close()
    return seconds


def memory_growth(url: str, count: int) -> tuple[float, int]:
    """RSS growth (MB) while advancing ``count`` distinct projects once each."""
    engine = _engine(url)
    ids = _bulk_projects(engine, count)
    for pid in ids[:1000]:  # warm caches and pools before the baseline
        engine.advance(pid, "go")
    gc.collect()
    before = _rss_mb()
    for pid in ids[1000:]:
        engine.advance(pid, "go")
    gc.collect()
    growth = _rss_mb() - before
    machines = len({id(j.machine) for j in engine._journeys.values()})
    engine.close()
    return growth, machines


def main(argv: list[str] | None = None) -> list[Row]:
    """Run the engine benchmarks; print and return the rows."""
    args = sys.argv[1:] if argv is None else argv
    quick = "--quick" in args
    n = 2000 if quick else 10_000
    postgres = os.environ.get("BOMPAO_BENCH_POSTGRES_URL") or os.environ.get(
        "BOMPAO_TEST_POSTGRES_URL")
    rows: list[Row] = []
    started = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        # Five rounds, each running all four side by side, so that a burst of load on
        # this shared machine falls on every contender rather than on one of them.
        rounds: dict[str, list[float]] = {"minimal": [], "plain": [], "naive": [], "ours": [],
                                          "cpu": []}
        for i in range(5):
            rounds["minimal"].append(plain_minimal_rate(base / f"minimal{i}.db", n))
            rounds["plain"].append(plain_rate(base / f"plain{i}.db", n))
            rounds["naive"].append(naive_rate(base / f"naive{i}.db", n // 4))
            rate, cpu = bompao_run(f"sqlite:///{base / f'bompao{i}.db'}", n)
            rounds["ours"].append(rate)
            rounds["cpu"].append(cpu)
        minimal, plain, naive, ours = (statistics.median(rounds[k])
                                       for k in ("minimal", "plain", "naive", "ours"))
        rows += [
            Row("advances/s, plain sqlite3, minimal 2-table schema (reference)", minimal, "/s",
                digits=0),
            Row("advances/s, plain sqlite3 on bompao's schema (baseline)", plain, "/s",
                digits=0),
            Row("advances/s, naive Machine per project + ORM (baseline)", naive, "/s", digits=0),
            Row("advances/s, bompao Engine.advance (SQLite)", ours, "/s", digits=0),
            Row("CPU µs an advance, bompao Engine.advance (SQLite)",
                statistics.median(rounds["cpu"]), "µs", digits=1),
            Row("advances: bompao / plain sqlite3 minimal", ours / minimal, "x",
                TARGETS["vs_minimal"], ">=", 2),
            Row("advances: bompao / plain sqlite3 on bompao's schema", ours / plain, "x",
                digits=2),
            Row("schema cost: plain on bompao's schema / plain minimal", plain / minimal, "x",
                digits=2),
            Row("advances: bompao / naive", ours / naive, "x", TARGETS["vs_naive"], ">="),
        ]
        cohort = 2000 if quick else 10_000
        seconds = batch_seconds(f"sqlite:///{base / 'batch.db'}", cohort)
        rows.append(Row(f"advance_many of a {cohort:,}-project cohort (one transaction)",
                        seconds, "s", digits=2))
        count = 10_000 if quick else 100_000
        growth, machines = memory_growth(f"sqlite:///{base / 'memory.db'}", count)
        rows.append(Row(f"RSS growth advancing {count:,} projects", growth, "MB",
                        TARGETS["memory_mb"]))
        rows.append(Row("transitions machines for one journey version", machines, "", 1, "<=",
                        0))
    rows.append(Row("transitions step (CompiledJourney.fire) per advance",
                    fire_us(5000 if quick else 20_000), "µs", TARGETS["fire_us"], digits=1))
    if postgres:
        pg_minimal, pg_ours = _postgres_rates(postgres, n // 4)
        rows += [
            Row("advances/s, plain psycopg, minimal 2-table schema (PostgreSQL)", pg_minimal,
                "/s", digits=0),
            Row("advances/s, bompao Engine.advance (PostgreSQL)", pg_ours, "/s", digits=0),
            Row("advances: bompao / plain psycopg minimal (PostgreSQL)", pg_ours / pg_minimal,
                "x", digits=2),
        ]
    if "--profile" in args:
        with tempfile.TemporaryDirectory() as tmp:
            bompao_run(f"sqlite:///{Path(tmp) / 'profile.db'}", n, profile=True)
    load = os.getloadavg()[0]
    print_table(rows, f"engine (load average {started:.1f} at the start, {load:.1f} at the "
                      "end, on 2 cores)")
    return rows


def _pg_minimal_rate(url: str, n: int) -> float:
    """The minimal loop of :func:`plain_minimal_rate` with plain psycopg on PostgreSQL."""
    import psycopg  # noqa: PLC0415

    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE p (id INTEGER PRIMARY KEY, stage TEXT, lock INT)")
        conn.execute("CREATE TABLE e (id SERIAL PRIMARY KEY, p INT, seq INT, frm TEXT, "
                     "too TEXT)")
        with conn.cursor() as cursor:
            cursor.executemany("INSERT INTO p VALUES (%s, 'a', 1)", [(i,) for i in range(200)])
        conn.commit()
        start = time.perf_counter()
        for i in range(n):
            pid = i % 200
            with conn.cursor() as cursor:  # psycopg opens the transaction itself
                cursor.execute("SELECT stage, lock FROM p WHERE id = %s", (pid,))
                stage, lock = cursor.fetchone() or ("a", 1)
                dest = "b" if stage == "a" else "a"
                cursor.execute("UPDATE p SET stage = %s, lock = %s WHERE id = %s AND lock = %s",
                               (dest, lock + 1, pid, lock))
                cursor.execute("INSERT INTO e (p, seq, frm, too) VALUES (%s, %s, %s, %s)",
                               (pid, lock + 1, stage, dest))
            conn.commit()
        return n / (time.perf_counter() - start)


def _postgres_rates(url: str, n: int) -> tuple[float, float]:
    """(plain psycopg minimal, bompao) advances a second, each in a fresh schema, three
    rounds side by side; the medians."""
    import secrets  # noqa: PLC0415

    import sqlalchemy as sa  # noqa: PLC0415

    url = url.replace("postgresql://", "postgresql+psycopg://")
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    minimal: list[float] = []
    ours: list[float] = []
    sep = "&" if "?" in url else "?"
    try:
        for _ in range(3):
            for which in ("minimal", "ours"):
                schema = f"bench_{secrets.token_hex(4)}"
                with admin.connect() as conn:
                    conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
                try:
                    if which == "minimal":
                        plain = url.replace("postgresql+psycopg://", "postgresql://")
                        minimal.append(_pg_minimal_rate(
                            f"{plain}{sep}options=-csearch_path%3D{schema}", n))
                    else:
                        ours.append(bompao_rate(
                            f"{url}{sep}options=-csearch_path%3D{schema}", n))
                finally:
                    with admin.connect() as conn:
                        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    finally:
        admin.dispose()
    return statistics.median(minimal), statistics.median(ours)


if __name__ == "__main__":
    main()
