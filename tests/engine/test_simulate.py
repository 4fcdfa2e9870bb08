"""The cohort forecast: means converge to values computed analytically, history read
from a real database drives it, and the CLI gives table, JSON and HTML."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from bompao.definitions import compile_journey
from bompao.engine import Actor, Engine
from bompao.engine.forecast_views import forecast_table
from bompao.engine.simulate import Observed, forecast, observe
from bompao.errors import InvalidValue

BOMPAO = Path(sys.executable).with_name("bompao")
DAYS_PER_MONTH = 365.2425 / 12  # the journey language's month, as docs/journeys.md says

CHAIN = """\
journey: chain
version: 1
stages:
  s0: {initial: true, expected_duration: 2 months}
  s1: {expected_duration: 2 months}
  s2: {expected_duration: 2 months}
  s3: {expected_duration: 2 months}
  s4: {final: true}
transitions:
  - {trigger: n0, from: s0, to: s1}
  - {trigger: n1, from: s1, to: s2}
  - {trigger: n2, from: s2, to: s3}
  - {trigger: n3, from: s3, to: s4}
  - {trigger: quit, from: "*", to: gone}
"""


def _erlang_cdf(k: int, rate: float, t: float) -> float:
    """P(the sum of k exponential stays of rate ``rate`` is at most t): Poisson tail."""
    x = rate * t
    return 1.0 - sum(math.exp(-x) * x ** j / math.factorial(j) for j in range(k))


def _close(mean: float, n: int, p: float, runs: int) -> None:
    """``mean`` of ``runs`` Binomial(n, p) counts is within 4.5 standard errors of n p."""
    error = math.sqrt(n * p * (1 - p) / runs)
    assert abs(mean - n * p) <= 4.5 * error + 1e-9, (mean, n * p, error)


def test_means_converge_to_the_erlang_values() -> None:
    journey = compile_journey(CHAIN.replace("to: gone", "to: s4"))
    n, runs, months = 30, 4000, 10
    result = forecast(journey, projects=n, months=months, runs=runs, seed=11)
    rate = 1 / 2  # per month: every stay has a mean of 2 months
    for k in range(5):  # stages s0 .. s4
        for month in range(months + 1):
            p = _erlang_cdf(k, rate, month) if k else 1.0
            mean = float(result.reached[:, month, k].mean())
            if p in (0.0, 1.0):
                assert mean == n * p
            else:
                _close(mean, n, p, runs)
    data = result.as_dict()
    assert set(data) >= {"runs", "months", "stages"}
    assert data["runs"] == runs
    assert data["months"] == months
    s2 = data["stages"]["s2"]
    assert s2["p10"] <= s2["mean"] <= s2["p90"]
    # the 10% and 90% points of a Binomial(n, p) count, for p of stage s2 by month 10
    p = _erlang_cdf(2, rate, months)
    cdf = np.cumsum([math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(n + 1)])
    assert s2["p10"] == pytest.approx(int(np.searchsorted(cdf, 0.1)), abs=1)
    assert s2["p90"] == pytest.approx(int(np.searchsorted(cdf, 0.9)), abs=1)


MINIMUM = """\
journey: minimum
version: 1
stages:
  work:
    initial: true
    expected_duration: 4 months
    follow_ups:
      - {after: 5 months, action: transition, trigger: time_out}
  shown: {final: true}
  late: {final: true}
transitions:
  - trigger: show
    from: work
    to: shown
    gate: {all: [{min_time_in_stage: 3 months}]}
  - {trigger: time_out, from: work, to: late}
"""


def test_minimum_time_and_an_always_leaving_follow_up_shape_the_stay() -> None:
    """A stay is 3 months plus an exponential month, cut at 5 months by the follow-up."""
    journey = compile_journey(MINIMUM)
    n, runs = 20, 3000
    result = forecast(journey, projects=n, months=6, runs=runs, seed=5)
    shown, late = 1, 2
    assert result.reached[:, 3, shown].sum() == 0  # nobody before the minimum
    _close(float(result.reached[:, 4, shown].mean()), n, 1 - math.exp(-1), runs)
    _close(float(result.reached[:, 6, late].mean()), n, math.exp(-2), runs)
    assert (result.reached[:, 6, shown] + result.reached[:, 6, late] == n).all()
    assert result.models["work"].describe(result.stages)["leaves_to"] == "late"


def test_the_same_seed_gives_the_same_forecast() -> None:
    journey = compile_journey(CHAIN.replace("to: gone", "to: s4"))
    one = forecast(journey, projects=5, months=8, runs=50, seed=3).as_dict()
    assert one == forecast(journey, projects=5, months=8, runs=50, seed=3).as_dict()
    assert one != forecast(journey, projects=5, months=8, runs=50, seed=4).as_dict()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"runs": 0}, "--runs must be from 1 to 100,000; got 0"),
    ({"projects": -1}, "--projects must be from 1 to 100,000; got -1"),
    ({"months": 241}, "--months must be from 1 to 240; got 241"),
    ({"seed": -1}, "--seed must be from 0 to 2**63 - 1; got -1"),
    ({"projects": 100_000, "runs": 100_000},
     "--projects × --runs × 5 stages must be at most 20,000,000; got 50,000,000,000"),
    ({"runs": 100_000, "months": 240},
     "--runs × (--months + 2) × 5 stages must be at most 20,000,000; got 121,000,000"),
])
def test_out_of_range_counts_are_refused(kwargs: dict[str, int], message: str) -> None:
    journey = compile_journey(CHAIN.replace("to: gone", "to: s4"))
    with pytest.raises(InvalidValue) as caught:
        forecast(journey, **kwargs)
    assert str(caught.value) == message


BRANCHING = """\
journey: branching
version: 1
roles: [coach]
stages:
  a:
    initial: true
    expected_duration: 1 year
    follow_ups: [{every: 1 week, action: notify, to: [coach]}]
  b: {final: true}
  c: {final: true}
transitions:
  - {trigger: to_b, from: a, to: b}
  - {trigger: to_c, from: a, to: c}
"""


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 2, 2, 3, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_history_in_the_database_drives_the_forecast(store_url: str) -> None:
    """7 of 10 projects left 'a' for 'b' after 10 days, 3 for 'c' after 20 days."""
    clock = _Clock()
    engine = Engine.from_url(store_url, clock=clock)
    try:
        engine.publish(BRANCHING)
        ids = [engine.create_project("branching", f"p{i}").id for i in range(10)]
        for number, project in enumerate(ids[:4]):
            engine.assign(project, "coach", f"coach{number}")
            engine.assign(project, "coach", f"second{number}")
        clock.now += timedelta(days=10)
        for project in ids[:7]:
            engine.advance(project, "to_b", Actor("x"))
        clock.now += timedelta(days=10)
        for project in ids[7:]:
            engine.advance(project, "to_c", Actor("x"))
        observed = observe(engine, "branching")
        journey = engine.journey("branching")
    finally:
        engine.close()
    assert sorted(observed.visits["a"]) == [(10.0, "b")] * 7 + [(20.0, "c")] * 3
    assert observed.coaches_per_project == 2.0
    n, runs = 40, 2000
    result = forecast(journey, observed, projects=n, months=2, runs=runs, seed=2)
    assert result.models["a"].source == "history"
    _close(float(result.reached[:, 1, 1].mean()), n, 0.7, runs)
    assert (result.reached[:, 1, 1] + result.reached[:, 1, 2] == n).all()
    # by the end of month 1 everyone has left 'a', the only coached stage
    assert result.coached == ["a"]
    assert (result.coach_load[:, 0] == n * 2.0).all()
    assert (result.coach_load[:, 1] == 0).all()
    without = forecast(journey, Observed(), projects=n, months=2, runs=200, seed=2)
    assert without.models["a"].source == "expected_duration"
    assert without.reached[:, 2, 2].sum() == 0  # no history: only the main way, to 'b'


def test_zero_day_cycles_are_cut_and_said() -> None:
    """A history where projects bounce between two stages in no time at all."""
    journey = compile_journey(CHAIN.replace("to: gone", "to: s4"))
    bounce = Observed({"s0": [(0.0, "s1")] * 5, "s1": [(0.0, "s0")] * 5})
    result = forecast(journey, bounce, projects=3, months=2, runs=4, seed=1)
    assert result.truncated == 12
    assert result.as_dict()["truncated"] == 12
    assert (result.reached[:, 2, :2] == 3).all()
    assert forecast_table(result).splitlines()[-1] == (
        "Note: 12 projects were still moving after 1,000 stage changes and were held where "
        "they were.")


def _cli(db: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(BOMPAO), "--db", db, *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120, check=False)
    assert "Traceback" not in done.stderr
    return done


@pytest.mark.slow
def test_cli_simulate(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'b.db'}"
    assert _cli(db, "init", cwd=tmp_path).returncode == 0
    base = ("simulate", "--journey", "social-incubator", "--projects", "10", "--months", "15",
            "--runs", "300", "--seed", "4")
    done = _cli(db, *base, "--format", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert (data["runs"], data["months"], data["projects"]) == (300, 15, 10)
    assert list(data["stages"]) == ["idea", "validation", "test_run", "showcase", "handoff",
                                    "stalled", "withdrawn", "declined"]
    assert data["stages"]["idea"] == {"mean": 10.0, "p10": 10.0, "p90": 10.0}
    assert len(data["coach_load"]) == 15
    table = _cli(db, *base, cwd=tmp_path)
    assert table.returncode == 0
    assert table.stdout.splitlines()[0] == ("social-incubator@3: 10 projects, 15 months, "
                                            "300 runs (seed 4)")
    assert "Handoff" in table.stdout
    html = _cli(db, *base, "--format", "html", "-o", "f.html", cwd=tmp_path)
    assert html.returncode == 0
    page = (tmp_path / "f.html").read_text()
    assert page.count("<svg") == 2
    assert "Test run" in page
    bad = _cli(db, "simulate", "--journey", "social-incubator", "--months", "0", cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr == "error: --months must be from 1 to 240; got 0\n"
