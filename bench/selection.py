"""How fast a call is ranked and its projects matched to coaches.

Run from the repository root: ``python -m bench selection``. Options: ``--runs N``
(repetitions, default 5), ``--quick`` (a tenth of the size, fewer repetitions).

Targets (issue 14): ranking 2,000 applications (three reviewers each, 100 reviewers,
z-scores per reviewer; read from a SQLite file as ``bompao cohort rank`` does) and
matching 2,000 projects to 100 coaches, each in under 1 s.
Each sits beside a baseline run in the same process on the same data: the ranking beside
the same z-score ranking written with NumPy arrays (what an analyst would write in a
notebook), the optimal match beside a greedy loop (each project in turn takes the free
coach covering most of its needs) — faster, and the table says how many needs it leaves
uncovered that the optimal match covers.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from _table import Row, print_table

TARGET_S = 1.0
TOPICS = ["idea_development", "model_and_plan", "project_management", "impact_measurement"]


def median_s(run: Callable[[], Any], runs: int) -> float:
    """The median wall time of ``run`` in seconds, after one warm-up run."""
    run()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def numpy_ranking(sets: list[Any], weights: dict[str, float]) -> list[int]:
    """The z-score ranking with NumPy: weighted score per set, z per reviewer, mean per
    project, order by (-score, -count, id)."""
    import numpy as np  # noqa: PLC0415

    names = list(weights)
    w = np.array([weights[n] for n in names])
    values = np.array([[s.scores[n] for n in names] for s in sets], dtype=float)
    x = values @ w / w.sum()
    _reviewers, r = np.unique([s.reviewer for s in sets], return_inverse=True)
    projects, p = np.unique([s.project for s in sets], return_inverse=True)
    mean = np.bincount(r, x) / np.bincount(r)
    sd = np.sqrt(np.bincount(r, (x - mean[r]) ** 2) / np.bincount(r))
    z = np.where(sd[r] > 1e-12, (x - mean[r]) / np.where(sd[r] > 0, sd[r], 1), 0.0)
    count = np.bincount(p)
    score = np.bincount(p, z) / count
    order = np.lexsort((projects, -count, -score))
    return [int(v) for v in projects[order]]


def greedy_match(needs: list[list[str]], skills: list[list[str]], free: list[int]
                 ) -> list[int | None]:
    """Each project in turn takes the free coach covering most of its needs."""
    left = list(free)
    result: list[int | None] = []
    for wanted in needs:
        best, best_cover = None, 0
        for j, have in enumerate(skills):
            cover = len(set(wanted) & set(have))
            if left[j] > 0 and cover > best_cover:
                best, best_cover = j, cover
        if best is not None:
            left[best] -= 1
        result.append(best)
    return result


def covered(needs: list[list[str]], skills: list[list[str]], chosen: list[int | None]) -> int:
    """Needs covered by an assignment."""
    return sum(len(set(n) & set(skills[c])) for n, c in zip(needs, chosen, strict=True)
               if c is not None)


JOURNEY = """\
journey: bench-call
version: 1
roles: [reviewer]
fields: {problem_statement: string}
scoring:
  role: reviewer
  reviewers: 3
  rubric:
    need: {weight: 2, scale: 1..5}
    team: {weight: 1, scale: 1..5}
    impact: {weight: 3, scale: 0..10}
  normalise: zscore
stages:
  applied: {initial: true}
  selected: {final: true}
  declined: {final: true}
transitions:
  - {trigger: select, from: applied, to: selected, gate: {expr: "rank <= 200"}}
  - {trigger: decline, from: applied, to: declined}
"""


def database_figures(sets: list[Any], applications: int) -> tuple[float, float]:
    """(``rank`` from a SQLite file, ``select`` of the top tenth moving everyone), with the
    applications imported and their score sets written as ``scored`` events."""
    import tempfile  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    from bompao.engine import Engine  # noqa: PLC0415
    from bompao.engine.engine import _Change  # noqa: PLC0415
    from bompao.engine.selection import rank, select  # noqa: PLC0415
    from bompao.engine.transfer import import_projects  # noqa: PLC0415

    folder = Path(tempfile.mkdtemp(prefix="bompao-bench-selection-"))
    engine = Engine.from_url(f"sqlite:///{folder / 'b.db'}")
    engine.publish(JOURNEY)
    ids = import_projects(engine, [{"name": f"P{i}", "journey": "bench-call", "cohort": "c",
                                    "fields": {"problem_statement": "x"}}
                                   for i in range(1, applications + 1)])
    now = engine.now()
    with engine.hot.transaction() as cursor:  # the score sets, as score() writes them
        for item in sets:
            row = engine._hot_row(cursor, ids[item.project - 1], None)
            engine._write(cursor, row, _Change({}, {
                "kind": "scored", "actor": item.reviewer, "role": "reviewer",
                "payload": {"reviewer": item.reviewer, "scores": dict(item.scores),
                            "note": None}}), now)
    rank_s = median_s(lambda: rank(engine, "bench-call", "c"), 3)
    start = time.perf_counter()
    select(engine, "bench-call", "c", top=applications // 10, trigger="select",
           others="decline")
    select_s = time.perf_counter() - start
    engine.close()
    return rank_s, select_s


def main(argv: list[str] | None = None) -> list[Row]:
    """Measure, print the table, and return its rows."""
    parser = argparse.ArgumentParser(prog="python -m bench selection")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    options, _ = parser.parse_known_args(argv or [])
    runs = 2 if options.quick else options.runs
    applications, people = (200, 10) if options.quick else (2000, 100)

    from bompao.definitions.intake import ScoringSpec  # noqa: PLC0415
    from bompao.engine.coaching import plan_match  # noqa: PLC0415
    from bompao.engine.selection import ScoreSet, ranking  # noqa: PLC0415

    rng = random.Random(14)
    spec = ScoringSpec.model_validate({
        "role": "reviewer", "reviewers": 3, "normalise": "zscore",
        "rubric": {"need": {"weight": 2, "scale": "1..5"}, "team": {"weight": 1},
                   "impact": {"weight": 3, "scale": "0..10"}}})
    reviewers = [f"r{i}" for i in range(people)]
    sets = [ScoreSet(project, name, {"need": rng.randint(1, 5), "team": rng.randint(1, 5),
                                     "impact": rng.randint(0, 10)})
            for project in range(1, applications + 1)
            for name in rng.sample(reviewers, 3)]
    names = {project: f"P{project}" for project in range(1, applications + 1)}
    ours = [e["id"] for e in ranking(spec, sets, names)]
    theirs = numpy_ranking(sets, {n: c.weight for n, c in spec.rubric.items()})
    agree = sum(a == b for a, b in zip(ours, theirs, strict=True)) / len(ours)
    rank_s = median_s(lambda: ranking(spec, sets, names), runs)
    numpy_s = median_s(lambda: numpy_ranking(sets, {n: c.weight for n, c in
                                                    spec.rubric.items()}), runs)

    needs = [rng.sample(TOPICS, rng.randint(1, 3)) for _ in range(applications)]
    skills = [rng.sample(TOPICS, rng.randint(1, 2)) for _ in range(people)]
    free = [rng.randint(15, 25) for _ in range(people)]
    optimal = plan_match(needs, skills, free)
    greedy = greedy_match(needs, skills, free)
    match_s = median_s(lambda: plan_match(needs, skills, free), runs)
    greedy_s = median_s(lambda: greedy_match(needs, skills, free), runs)
    rows = [
        Row(f"rank {applications:,} applications, {len(sets):,} score sets, z-scores: "
            "the computation", rank_s, "s", digits=3),
        Row("  baseline: the same ranking with NumPy arrays", numpy_s, "s", digits=3),
        Row("  bompao / NumPy", rank_s / numpy_s, "x", digits=1),
        Row("  same order as the baseline", agree * 100, "%", digits=1),
        Row(f"match {applications:,} projects to {people} coaches ({sum(free):,} slots)",
            match_s, "s", TARGET_S if not options.quick else None, digits=3),
        Row("  baseline: greedy loop", greedy_s, "s", digits=3),
        Row("  needs covered: optimal", covered(needs, skills, optimal), "", digits=0),
        Row("  needs covered: greedy", covered(needs, skills, greedy), "", digits=0),
    ]
    db_rank_s, select_s = database_figures(sets, applications)
    rows.insert(0, Row(f"rank {applications:,} applications from SQLite (cohort rank: read "
                       "and compute)", db_rank_s, "s", TARGET_S if not options.quick else None,
                       digits=3))
    rows.append(Row(f"cohort select: {applications:,} advances in one transaction "
                    "(SQLite, gates reading rank)", select_s, "s", digits=3))
    print_table(rows, "Selection and coaching")
    return rows


if __name__ == "__main__":
    main()
