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


CALL = """\
journey: call-impact
version: 1
roles: [participant]
indicators:
  reached: {type: int, every: 1 month, target: 100, during: [run]}
stages:
  apply: {initial: true}
  run: {}
  declined: {final: true}
  done: {final: true}
transitions:
  - {trigger: admit, from: apply, to: run}
  - {trigger: decline, from: apply, to: declined}
  - {trigger: finish, from: run, to: done}
"""


def test_a_project_that_never_reached_the_indicators_stages_is_not_counted(
        tmp_path: Path) -> None:
    clock = [datetime(2027, 1, 1, 3, tzinfo=UTC)]
    engine = Engine.from_url(f"sqlite:///{tmp_path / 'b.db'}", clock=lambda: clock[0])
    try:
        engine.publish(CALL)
        admitted = [engine.create_project("call-impact", f"A{i}").id for i in range(3)]
        declined = [engine.create_project("call-impact", f"D{i}").id for i in range(5)]
        waiting = engine.create_project("call-impact", "W").id
        for project in admitted:
            engine.advance(project, "admit")
        for project in declined:
            engine.advance(project, "decline")
        engine.advance(admitted[2], "finish")  # was in run: still counted after it
        clock[0] = datetime(2027, 4, 15, 3, tzinfo=UTC)
        engine.measure(admitted[0], "reached", "2027-02", 30)
        whole = impact_report(engine, journey="call-impact")
        row = whole["indicators"]["reached"]
        assert row["projects"] == 3
        assert row["target"] == 300
        assert row["total"] == 30
        assert row["reported"] == 1
        # every project is still listed, the declined and the waiting with nothing due
        listed = {p["id"]: p["indicators"]["reached"] for p in whole["projects"]}
        assert sorted(listed) == sorted([*admitted, *declined, waiting])
        assert all(listed[p]["missing"] == 0 for p in [*declined, waiting])
    finally:
        engine.close()
