"""The impact report over a big portfolio: 10,000 projects x 24 monthly periods.

Run from the repository root: ``python -m bench impact [--quick]``.

Each project of a journey with two monthly indicators has a ``created`` event two
years back and one ``measured`` event per month of ``people_reached`` (one in twenty
periods missing, one in fifty corrected by a second event): about 230,000
measurements; ``income`` is never reported (so its 240,000 due periods are missing).
They are bulk-inserted into bompao's own schema (created by its migrations).
Timed (median of 3): the library's
``impact_report`` (three bulk statements, then each project summarised as
``project indicators`` would: corrections, missing periods, progress, the per-project
and by-tag views), side by side with a baseline of a plain SQL aggregate over the
same rows (``SUM`` grouped by indicator, which ignores corrections and missing
periods: the least any report must pay to read them). On a SQLite file, and on
PostgreSQL in a fresh schema when ``BOMPAO_BENCH_POSTGRES_URL`` or
``BOMPAO_TEST_POSTGRES_URL`` is set. ``--quick``: 1,000 projects.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _table import Row, print_table

JOURNEY = """\
journey: impact-bench
version: 1
roles: [participant]
indicators:
  people_reached: {type: int, every: 1 month, target: 500, tags: ["sdg:1.4"]}
  income: {type: money, every: 1 month, target: 60000, tags: ["sdg:8.3"]}
stages:
  run: {initial: true}
  done: {final: true}
transitions:
  - {trigger: finish, from: run, to: done}
"""
START = datetime(2025, 1, 1, 0, 0, tzinfo=UTC)  # 07:00 on 1 January in Bangkok
NOW = datetime(2027, 1, 2, 3, 0, tzinfo=UTC)  # 24 months have ended
TARGET_S = 1.0
INDICATORS = ("people_reached",)
"""One value per project and period: 10,000 x 24 = 240,000 periods (the issue's size);
the journey's second indicator stays unreported."""
RUNS = 3


def _engine(url: str) -> Any:
    from bompao.definitions import JourneyCatalog  # noqa: PLC0415
    from bompao.engine import Engine  # noqa: PLC0415

    return Engine.from_url(url, clock=lambda: NOW, catalog=JourneyCatalog(bundled=False))


def load(url: str, count: int, seed: int = 1) -> int:
    """Create the schema, publish the journey and insert the portfolio; return the
    number of measured events."""
    from bompao.storage.tables import events, projects  # noqa: PLC0415

    engine = _engine(url)
    engine.db.upgrade()
    engine.publish(JOURNEY)
    rng = random.Random(seed)
    project_rows, event_rows = [], []
    measured = 0
    for pid in range(1, count + 1):
        seq = 1
        project_rows.append({
            "id": pid, "journey_key": "impact-bench", "journey_version": 1,
            "partner": f"partner-{pid % 20:02d}", "cohort": str(2025 + pid % 2),
            "name": f"Project {pid}", "stage": "run", "visit": 1, "fields": {}, "flags": [],
            "assignments": {}, "evidence": {}, "approvals": {}, "lock_version": 0,
            "stage_entered_at": START, "created_at": START, "updated_at": START})
        event_rows.append({"project_id": pid, "seq": seq, "kind": "created", "at": START,
                           "actor": None, "role": None, "from_stage": None,
                           "to_stage": "run", "trigger": None, "payload": {
                               "journey": "impact-bench", "version": 1,
                               "name": f"Project {pid}"}})
        for month in range(24):
            year, index = 2025 + month // 12, month % 12 + 1
            at = datetime(year, index, 1, tzinfo=UTC) + timedelta(days=33)
            for name in INDICATORS:
                if rng.random() < 0.05:
                    continue
                for _ in range(2 if rng.random() < 0.02 else 1):
                    value: Any = rng.randint(0, 90) if name == "people_reached" else \
                        round(rng.uniform(0, 5000), 2)
                    seq += 1
                    measured += 1
                    event_rows.append({"project_id": pid, "seq": seq, "kind": "measured",
                                       "at": at, "actor": "bench", "role": None,
                                       "from_stage": None, "to_stage": None,
                                       "trigger": None, "payload": {
                                           "indicator": name, "period": f"{year}-{index:02d}",
                                           "value": value, "note": None}})
        project_rows[-1]["lock_version"] = seq
    with engine.db.begin() as conn:
        for start in range(0, len(project_rows), 5000):
            conn.execute(projects.insert(), project_rows[start:start + 5000])
        for start in range(0, len(event_rows), 20000):
            conn.execute(events.insert(), event_rows[start:start + 20000])
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE")
    engine.close()
    return measured


def baseline(engine: Any) -> Any:
    """A plain SQL aggregate over the same rows: SUM of each indicator's values."""
    import sqlalchemy as sa  # noqa: PLC0415

    from bompao.storage.tables import events, projects  # noqa: PLC0415

    indicator = events.c.payload["indicator"].as_string()
    value = events.c.payload["value"].as_float()
    query = (sa.select(indicator, sa.func.sum(value), sa.func.count())
             .join(projects, projects.c.id == events.c.project_id)
             .where(projects.c.journey_key == "impact-bench", events.c.kind == "measured")
             .group_by(indicator))
    with engine.db.begin(write=False) as conn:
        return conn.execute(query).all()


def _median(function: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(RUNS):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _postgres_schema(base: str) -> tuple[str, Callable[[], None]]:
    import sqlalchemy as sa  # noqa: PLC0415
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    url = make_url(base).set(drivername="postgresql+psycopg")
    schema = f"bench_impact_{secrets.token_hex(4)}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()

    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False), drop


def measure(url: str, label: str, count: int) -> list[Row]:
    """Load ``count`` projects at ``url`` and time the report against the baseline."""
    from bompao.engine.impact_report import impact_report  # noqa: PLC0415

    started = time.perf_counter()
    measured = load(url, count)
    loaded = time.perf_counter() - started
    engine = _engine(url)
    try:
        report_s, report = _median(lambda: impact_report(engine, journey="impact-bench"))
        base_s, sums = _median(lambda: baseline(engine))
    finally:
        engine.close()
    assert report["indicators"]["people_reached"]["projects"] == count
    assert len(report["projects"]) == count
    raw = {name: total for name, total, _ in sums}
    # the baseline counts corrections twice; the report counts the last value only
    assert report["indicators"]["people_reached"]["total"] <= raw["people_reached"]
    print(f"{label}: {count:,} projects, {measured:,} measurements, loaded in {loaded:.1f} s")
    target = TARGET_S if count >= 10_000 else None
    return [
        Row(f"impact report, {label}, {count:,} projects x 24 periods", report_s, "s",
            target, digits=2),
        Row(f"baseline: SQL SUM over the same rows, {label}", base_s, "s", digits=2),
        Row(f"impact report / baseline, {label}", report_s / base_s, "x", digits=1),
    ]


def main(argv: list[str] | None = None) -> list[Row]:
    """Build the data, time the report on SQLite (and PostgreSQL); print and return rows."""
    args = sys.argv[1:] if argv is None else argv
    count = 1_000 if "--quick" in args else 10_000
    logging.getLogger("bompao").setLevel(logging.WARNING)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as where:
        rows += measure(f"sqlite:///{Path(where) / 'impact.db'}", "SQLite", count)
    base = os.environ.get("BOMPAO_BENCH_POSTGRES_URL") or os.environ.get(
        "BOMPAO_TEST_POSTGRES_URL")
    if base:
        url, drop = _postgres_schema(base)
        try:
            rows += measure(url, "PostgreSQL", count)
        finally:
            drop()
    print_table(rows, "impact report")
    return rows


if __name__ == "__main__":
    main()
