"""The impact report's totals equal a brute-force sum over the event log (issue 13)."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from strategies import measurement_plans

from bompao.engine import Engine
from bompao.engine.indicators import impact_report

JOURNEY = """\
journey: impact
version: 1
roles: [participant]
indicators:
  reached: {type: int, every: 1 month, target: 100, tags: ["sdg:4.4"]}
  peak: {type: int, aggregate: max, every: 1 month, tags: ["sdg:4.4", "iris:PI4060"]}
stages:
  run: {initial: true}
  done: {final: true}
transitions:
  - {trigger: finish, from: run, to: done}
"""
NOW = datetime(2027, 7, 15, 3, tzinfo=UTC)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=measurement_plans())
def test_impact_totals_equal_a_brute_force_sum_over_the_event_log(
        plan: list[tuple[int, int, int]]) -> None:
    with tempfile.TemporaryDirectory() as where:
        clock = [datetime(2027, 1, 1, 3, tzinfo=UTC)]  # 10:00 on 1 January in Bangkok
        engine = Engine.from_url(f"sqlite:///{Path(where) / 'b.db'}", clock=lambda: clock[0])
        try:
            engine.publish(JOURNEY)
            ids = [engine.create_project("impact", f"P{i}", cohort="c1").id for i in range(4)]
            engine.create_project("impact", "Elsewhere", cohort="c2")  # not in the report
            clock[0] = NOW
            for index, month, value in plan:
                indicator = "peak" if value % 3 == 0 else "reached"
                engine.measure(ids[index], indicator, f"2027-{month:02d}", value)
            whole = impact_report(engine, journey="impact", cohort="c1")
            report = whole["indicators"]
            # the oracle: every event, the last per (project, indicator, period) counting
            last: dict[tuple[int, str, str], int] = {}
            for project in ids:
                for event in engine.history(project):
                    if event.kind == "measured":
                        key = (project, event.payload["indicator"], event.payload["period"])
                        last[key] = event.payload["value"]
            reached = sum(v for (_, name, _), v in last.items() if name == "reached")
            peaks = [max([v for (p, name, _), v in last.items() if p == project
                          and name == "peak"], default=None) for project in ids]
            assert report["reached"]["total"] == reached
            assert report["peak"]["total"] == sum(p for p in peaks if p is not None)
            assert report["reached"]["reported"] == len({p for (p, name, _) in last
                                                         if name == "reached"})
            assert report["reached"]["projects"] == 4
            assert report["reached"]["target"] == 400
            # six months have ended (January to June) in every project's only stage
            months = {(p, period) for (p, name, period) in last
                      if name == "reached" and period < "2027-07"}
            assert report["reached"]["missing"] == 4 * 6 - len(months)
            # per project: each project's own sum, peak and missing months
            rows = {row["id"]: row["indicators"] for row in whole["projects"]}
            assert sorted(rows) == ids
            for project, peak in zip(ids, peaks, strict=True):
                own = [v for (p, name, _), v in last.items() if p == project
                       and name == "reached"]
                assert rows[project]["reached"]["total"] == sum(own)
                assert rows[project]["reached"]["progress"] == sum(own) / 100
                assert rows[project]["peak"]["total"] == peak
                assert rows[project]["reached"]["missing"] == 6 - len(
                    {period for (p, period) in months if p == project})
            # by tag: sdg:4.4 carries both, iris:PI4060 only the peak
            tags = whole["tags"]
            assert tags["sdg:4.4"]["indicators"]["reached"]["total"] == reached
            assert set(tags["iris:PI4060"]["indicators"]) == {"peak"}
            assert tags["sdg:4.4"]["projects"] == len({p for (p, _, _) in last})
        finally:
            engine.close()
