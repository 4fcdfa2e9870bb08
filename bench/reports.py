"""Reports over a big program: funnel and time in stage on 100,000 projects and 1,000,000 events.

Run from the repository root: ``python -m bench reports [--quick] [--explain] [--keep]``.

The data is bulk-loaded (the raw ``sqlite3`` driver's ``executemany``; psycopg's
``COPY`` on PostgreSQL) straight into bompao's own schema, created by its migrations:
``social-incubator`` projects with consistent histories — a ``created`` event, then
``advanced`` events along the journey (some stall, resume, withdraw or hand off),
with fields set, evidence, approvals, assignments and follow-up runs in between,
``seq`` increasing per project and times increasing over 2024-2026. Then the
library's own ``Reports(engine).funnel`` and ``.stages`` are timed (median of 5 runs)
on a SQLite file and, when ``BOMPAO_BENCH_POSTGRES_URL`` or ``BOMPAO_TEST_POSTGRES_URL``
is set, on PostgreSQL in a fresh schema that is dropped afterwards. ``at_risk`` and
``coaches`` and filtered variants are shown for information.

``--quick`` is ten times smaller. ``--explain`` prints each report statement's plan
(``EXPLAIN QUERY PLAN`` / ``EXPLAIN (ANALYZE, BUFFERS)``). ``--keep`` keeps a copy
of the SQLite file in a new temporary directory and prints its path. ``--analyze``
runs SQLite's ``ANALYZE`` after loading (PostgreSQL is always analysed, as
autovacuum would do after a bulk load).
"""

from __future__ import annotations

import json
import logging
import os
import random
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _table import Row, print_table

JOURNEY = "social-incubator"
START = datetime(2024, 1, 8, 2, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
TARGET_S = 1.0
RUNS = 5
PARTNERS = [f"partner-{i:02d}" for i in range(20)]
COHORTS = ["2024", "2025", "2026"]
COACHES = [f"coach-{i:03d}" for i in range(150)]
# (weight, stages visited in order, the triggers between them)
FATES: list[tuple[float, list[str], list[str]]] = [
    (0.14, ["idea"], []),
    (0.14, ["idea", "validation"], ["validate"]),
    (0.18, ["idea", "validation", "test_run"], ["validate", "start_test_run"]),
    (0.09, ["idea", "validation", "test_run", "showcase"],
     ["validate", "start_test_run", "present"]),
    (0.14, ["idea", "validation", "test_run", "showcase", "handoff"],
     ["validate", "start_test_run", "present", "hand_off"]),
    (0.07, ["idea", "validation", "test_run", "stalled"], ["validate", "start_test_run", "stall"]),
    (0.04, ["idea", "validation", "test_run", "stalled", "test_run", "showcase"],
     ["validate", "start_test_run", "stall", "resume", "present"]),
    (0.05, ["idea", "withdrawn"], ["withdraw"]),
    (0.08, ["idea", "validation", "withdrawn"], ["validate", "withdraw"]),
    (0.07, ["idea", "validation", "test_run", "withdrawn"],
     ["validate", "start_test_run", "withdraw"]),
]
DAYS_IN = {"idea": (7, 60), "validation": (20, 140), "test_run": (150, 380),
           "showcase": (20, 100), "stalled": (30, 240)}
FILLERS = ("fields_set", "evidence_added", "approved", "follow_up", "follow_up", "assigned")
EVENT_COLUMNS = ("project_id", "seq", "kind", "at", "actor", "role", "from_stage", "to_stage",
                 "trigger", "payload")
PROJECT_COLUMNS = ("id", "journey_key", "journey_version", "partner", "cohort", "name", "stage",
                   "visit", "fields", "flags", "assignments", "evidence", "approvals",
                   "lock_version", "stage_entered_at", "created_at", "updated_at")


# data ---------------------------------------------------------------------------------


def _payload(kind: str, rng: random.Random, stage: str, name: str) -> str:
    if kind == "created":
        return json.dumps({"journey": JOURNEY, "version": 1, "name": name, "partner": None,
                           "cohort": None, "fields": {"problem_statement": "",
                                                      "interviews_done": 0}})
    if kind == "advanced":
        return json.dumps({"override": False, "gate": [
            {"says": "A problem statement of at least 20 characters", "met": True},
            {"says": "The coach approves", "met": True}]})
    if kind == "fields_set":
        return json.dumps({"fields": {"interviews_done": rng.randint(0, 30)}})
    if kind == "evidence_added":
        return json.dumps({"name": "stakeholder_map", "url": "https://example.org/m",
                           "note": None})
    if kind == "approved":
        return json.dumps({"role": "coach", "by": rng.choice(COACHES)})
    if kind == "assigned":
        return json.dumps({"role": "coach", "person": rng.choice(COACHES)})
    return json.dumps({"spec": f"{stage}_check_in", "occurrence": rng.randint(0, 9),
                       "action": "notify", "outcome": "done",
                       "detail": "notified coach-001 via log"})


def generate(count: int, events_per_project: float, seed: int = 1) -> Iterator[
        tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    """Yield (project row, its event rows) for ``count`` projects; times are aware UTC."""
    rng = random.Random(seed)
    weights = [f[0] for f in FATES]
    span = (NOW - START).total_seconds() - 400 * 86400  # created early enough to move on
    for pid in range(1, count + 1):
        _, stages, triggers = rng.choices(FATES, weights)[0]
        created = START + timedelta(seconds=rng.uniform(0, span))
        entries = [created]
        for stage in stages[:-1]:
            low, high = DAYS_IN[stage]
            entries.append(entries[-1] + timedelta(days=rng.uniform(low, high),
                                                   seconds=rng.randint(0, 86399)))
        end = entries[-1] + timedelta(days=rng.uniform(1, 60))
        name = f"Project {pid} / โครงการ {pid}"
        timeline: list[tuple[datetime, int, str, str | None, str | None, str | None]] = [
            (created, 0, "created", None, stages[0], None)]
        for i, trigger in enumerate(triggers):
            timeline.append((entries[i + 1], 1, "advanced", stages[i], stages[i + 1], trigger))
        fillers = max(0, round(rng.gauss(events_per_project, 2.5)) - len(timeline))
        for _ in range(fillers):
            at = created + timedelta(seconds=rng.uniform(0, (end - created).total_seconds()))
            timeline.append((at, 2, rng.choice(FILLERS), None, None, None))
        timeline.sort(key=lambda e: (e[0], e[1]))
        rows = []
        stage_now = stages[0]
        for seq, (at, _, kind, src, dest, trigger) in enumerate(timeline, start=1):
            if kind in ("created", "advanced"):
                stage_now = str(dest)
            actor = "system" if kind == "follow_up" or trigger == "stall" else rng.choice(
                COACHES)
            rows.append((pid, seq, kind, at, actor, "coach" if kind == "approved" else None,
                         src if kind == "advanced" else (stage_now if kind == "follow_up"
                                                         else None),
                         dest, trigger, _payload(kind, rng, stage_now, name)))
        coach = rng.choice(COACHES)
        flags = '["at_risk"]' if rng.random() < 0.08 else "[]"
        project = (pid, JOURNEY, 1, rng.choice(PARTNERS), rng.choice(COHORTS), name, stages[-1],
                   len(stages), json.dumps({"problem_statement": "Families lack safe water",
                                            "interviews_done": rng.randint(0, 30),
                                            "people_reached": rng.randint(0, 900)}),
                   flags, json.dumps({"coach": [coach], "program_manager": ["Ploy"]}), "{}",
                   "{}", len(rows), entries[-1], created, timeline[-1][0])
        yield project, rows


# loading ------------------------------------------------------------------------------


def _sqlite_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def load_sqlite(path: Path, data: Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]],
                analyze: bool) -> tuple[int, int]:
    """Bulk-insert into the SQLite file (schema already created); return the counts."""
    from bompao.storage.visits import rebuild_stage_visits  # noqa: PLC0415

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    projects_sql = (f"INSERT INTO projects ({', '.join(PROJECT_COLUMNS)}) VALUES "
                    f"({', '.join('?' * len(PROJECT_COLUMNS))})")
    events_sql = (f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES "
                  f"({', '.join('?' * len(EVENT_COLUMNS))})")
    n_projects = n_events = 0
    batch_p: list[tuple[Any, ...]] = []
    batch_e: list[tuple[Any, ...]] = []
    for project, rows in data:
        batch_p.append((*project[:14], *(_sqlite_time(t) for t in project[14:])))
        batch_e.extend((*r[:3], _sqlite_time(r[3]), *r[4:]) for r in rows)
        if len(batch_e) >= 100_000:
            conn.executemany(projects_sql, batch_p)
            conn.executemany(events_sql, batch_e)
            n_projects, n_events = n_projects + len(batch_p), n_events + len(batch_e)
            batch_p, batch_e = [], []
    conn.executemany(projects_sql, batch_p)
    conn.executemany(events_sql, batch_e)
    n_projects, n_events = n_projects + len(batch_p), n_events + len(batch_e)
    rebuild_stage_visits(conn.cursor(), "sqlite")  # loaded around the write path: the
    # events' from_entered_at (the stage visits) from the log
    conn.execute("COMMIT")
    if analyze:
        conn.execute("ANALYZE")
    conn.close()
    return n_projects, n_events


def load_postgres(url: str, data: Callable[[], Iterator[tuple[tuple[Any, ...],
                                                             list[tuple[Any, ...]]]]]
                  ) -> tuple[int, int]:
    """COPY into the PostgreSQL schema named by ``url``'s search_path; then ANALYZE.

    ``data`` is called twice (projects first, for the foreign key; then events), so
    a million events are never held in memory.
    """
    import psycopg  # noqa: PLC0415
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    from bompao.storage.visits import rebuild_stage_visits  # noqa: PLC0415

    parsed = make_url(url)
    conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    n_projects = n_events = 0
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY projects ({', '.join(PROJECT_COLUMNS)}) FROM STDIN") as copy:
            for project, _ in data():
                copy.write_row(project)
                n_projects += 1
        with cur.copy(f"COPY events ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
            for _, rows in data():
                for row in rows:
                    copy.write_row(row)
                n_events += len(rows)
        cur.execute("SELECT setval(pg_get_serial_sequence('projects', 'id'), %s)",
                    (n_projects,))
        rebuild_stage_visits(cur, "postgresql")  # loaded around the write path
        conn.commit()
        conn.autocommit = True
        cur.execute("ANALYZE projects")
        cur.execute("ANALYZE events")
    return n_projects, n_events


# timing -------------------------------------------------------------------------------


def _engine(url: str) -> Any:
    from bompao.engine import Engine  # noqa: PLC0415

    return Engine.from_url(url, clock=lambda: NOW)


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    """Median seconds over :data:`RUNS` runs, and the last result."""
    times, result = [], None
    for _ in range(RUNS):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


@contextmanager
def captured(engine: Any) -> Iterator[list[tuple[str, Any]]]:
    """Statements the engine's database runs inside the block."""
    import sqlalchemy as sa  # noqa: PLC0415

    seen: list[tuple[str, Any]] = []

    def listen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((statement, parameters))

    sa.event.listen(engine.db.engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        sa.event.remove(engine.db.engine, "before_cursor_execute", listen)


def explain(engine: Any, name: str, run: Callable[[], Any]) -> None:
    """Print the plan of every statement ``run`` executes."""
    with captured(engine) as seen:
        run()
    sqlite = engine.db.dialect == "sqlite"
    prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, BUFFERS) "
    for statement, parameters in seen:
        if "journeys" in statement and "events" not in statement:
            continue
        print(f"--- {name} ({engine.db.dialect}):\n{statement.strip()}")
        with engine.db.begin(write=False) as conn:
            plan = conn.exec_driver_sql(prefix + statement, parameters).all()
        for row in plan:
            print("   ", row[-1] if sqlite else row[0])


def measure(url: str, label: str, count: int, events_total: int,
            show_plans: bool) -> list[Row]:
    """Time the reports on a loaded database."""
    from bompao.engine.reports import Filters, Reports  # noqa: PLC0415

    engine = _engine(url)
    try:
        reports = Reports(engine)
        everything = Filters(JOURNEY)
        runs: list[tuple[str, Callable[[], Any], bool]] = [
            ("funnel", lambda: reports.funnel(everything), True),
            ("stages", lambda: reports.stages(everything), True),
            ("funnel, one partner", lambda: reports.funnel(Filters(JOURNEY, partner="partner-03")),
             False),
            ("stages, one cohort since 2025", lambda: reports.stages(Filters(
                JOURNEY, cohort="2025", since=datetime(2025, 1, 1, tzinfo=UTC))), False),
            ("at-risk", lambda: reports.at_risk(everything, now=NOW), False),
            ("coaches", lambda: reports.coaches(everything, now=NOW), False),
        ]
        rows = []
        size = f"{count:,} projects, {events_total:,} events"
        for name, run, targeted in runs:
            seconds, result = timed(run)
            what = f"{name} ({label}, {size})"
            rows.append(Row(f"{what}" if targeted else f"{what}: {len(result)} rows", seconds,
                            "s", TARGET_S if targeted else None, "<", 3))
            if show_plans and targeted:
                explain(engine, name, run)
        funnel = reports.funnel(everything)
        print(f"{label}: reached " + ", ".join(f"{r['stage']} {r['reached']:,}" for r in funnel))
        return rows
    finally:
        engine.close()


def _postgres_schema(base: str) -> tuple[str, Callable[[], None]]:
    import sqlalchemy as sa  # noqa: PLC0415
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    url = make_url(base).set(drivername="postgresql+psycopg")
    schema = f"bench_reports_{secrets.token_hex(4)}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()

    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False), drop


def prepare(url: str) -> None:
    """Create bompao's schema with its migrations and publish the journey."""
    engine = _engine(url)
    try:
        engine.journey(JOURNEY)
    finally:
        engine.close()


def main(argv: list[str] | None = None) -> list[Row]:
    """Build the data, time the reports; print and return the rows."""
    args = sys.argv[1:] if argv is None else argv
    quick = "--quick" in args
    logging.getLogger("bompao").setLevel(logging.WARNING)
    count = 10_000 if quick else 100_000
    per_project = 10.0
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "reports.db"
        url = f"sqlite:///{path}"
        prepare(url)
        start = time.perf_counter()
        n_projects, n_events = load_sqlite(path, generate(count, per_project),
                                           "--analyze" in args)
        loaded = time.perf_counter() - start
        rows.append(Row(f"load SQLite ({n_projects:,} projects, {n_events:,} events)", loaded,
                        "s"))
        rows.extend(measure(url, "SQLite", n_projects, n_events, "--explain" in args))
        if "--keep" in args:
            kept = Path(tempfile.mkdtemp(prefix="bompao-bench-")) / "reports.db"
            kept.write_bytes(path.read_bytes())
            print(f"kept {kept}")
    postgres = os.environ.get("BOMPAO_BENCH_POSTGRES_URL") or os.environ.get(
        "BOMPAO_TEST_POSTGRES_URL")
    if postgres:
        url, drop = _postgres_schema(postgres)
        try:
            prepare(url)
            start = time.perf_counter()
            n_projects, n_events = load_postgres(url, lambda: generate(count, per_project))
            loaded = time.perf_counter() - start
            rows.append(Row(f"load PostgreSQL ({n_projects:,} projects, {n_events:,} events)",
                            loaded, "s"))
            rows.extend(measure(url, "PostgreSQL", n_projects, n_events,
                                "--explain" in args))
        finally:
            drop()
    else:
        print("PostgreSQL skipped: set BOMPAO_BENCH_POSTGRES_URL or BOMPAO_TEST_POSTGRES_URL")
    print_table(rows, "reports")
    return rows


if __name__ == "__main__":
    main()
