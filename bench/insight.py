"""How fast the authors' insight tools run: ``validate --deep`` and ``simulate``.

Run from the repository root: ``python -m bench insight``. Options: ``--runs N``
(repetitions, default 5), ``--processes N`` (process repetitions, default 3),
``--quick`` (fewer repetitions).

Targets (issue 15): the deep checks of the bundled journeys in under 1 s, and a
forecast of 1,000 runs × 100 projects × 24 months in under 5 s. Each sits beside a
baseline measured in the same run: plain validation of the same files (in process
and as ``bompao validate`` processes, alternating with ``bompao validate --deep``),
and the same forecast model as a pure-Python loop (``random``, one project at a time,
timed on 100 runs and scaled to 1,000).
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _table import Row, print_table

REPO = Path(__file__).resolve().parents[1]
BOMPAO = Path(sys.executable).with_name("bompao")
TARGET_DEEP_S = 1.0
TARGET_SIMULATE_S = 5.0
RUNS, PROJECTS, MONTHS = 1000, 100, 24


def median_s(run: Callable[[], Any], runs: int) -> float:
    """The median wall time of ``run`` in seconds, after one warm-up run."""
    run()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def python_loop_forecast(journey: Any, runs: int, projects: int, months: int,
                         seed: int = 1) -> list[list[list[int]]]:
    """The forecast model of ``bompao.engine.simulate`` written as a plain loop: per run,
    month (0..months) and stage, the projects that reached the stage by then."""
    from bompao.engine.simulate import MONTH_DAYS, Observed, stage_models  # noqa: PLC0415

    names = list(journey.stages)
    models = [stage_models(journey, Observed())[n] for n in names]
    rng = random.Random(seed)
    horizon = months * MONTH_DAYS
    result = []
    for _ in range(runs):
        counts = [[0] * len(names) for _ in range(months + 1)]
        for _ in range(projects):
            stage, now = names.index(journey.initial), 0.0
            first = {stage: 0.0}
            while now <= horizon:
                model = models[stage]
                if model.source in ("final", "stays"):
                    break
                if model.source == "history":
                    pick = rng.randrange(len(model.days))
                    stay, nxt = float(model.days[pick]), int(model.next_stage[pick])
                else:
                    extra = model.mean - model.minimum
                    stay = model.minimum + (rng.expovariate(1 / extra) if extra > 0 else 0.0)
                    nxt = model.main
                    if stay >= model.cut:
                        stay, nxt = model.cut, model.cut_to
                now += stay
                if now > horizon:
                    break
                stage = nxt
                first.setdefault(stage, now)
            for index, at in first.items():
                for month in range(math.ceil(at / MONTH_DAYS - 1e-12), months + 1):
                    counts[month][index] += 1
        result.append(counts)
    return result


def _bench_definitions() -> Any:
    """``bench/definitions.py``, loaded by path (``definitions`` is also a package here)."""
    spec = importlib.util.spec_from_file_location("bompao_bench_definitions",
                                                  REPO / "bench" / "definitions.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def process_pair(deep: list[str], plain: list[str], processes: int) -> tuple[float, float]:
    """Median seconds of the two commands, run alternately (the first pair warms up)."""
    measured: dict[int, list[float]] = {0: [], 1: []}
    for _ in range(processes + 1):
        for which, command in enumerate((deep, plain)):
            start = time.perf_counter()
            done = subprocess.run(command, cwd=REPO, capture_output=True, check=False)
            measured[which].append(time.perf_counter() - start)
            if done.returncode != 0:
                raise RuntimeError(f"{command} failed: {done.stderr.decode()[:500]}")
    return statistics.median(measured[0][1:]), statistics.median(measured[1][1:])


def main(argv: list[str] | None = None) -> list[Row]:
    """Measure, print the table, and return its rows."""
    parser = argparse.ArgumentParser(prog="python -m bench insight")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    options, _ = parser.parse_known_args(argv or [])
    runs = 2 if options.quick else options.runs
    processes = 1 if options.quick else options.processes

    from bompao.definitions import JourneyCatalog, compile_journey, load_path  # noqa: PLC0415
    from bompao.definitions.deep import deep_check  # noqa: PLC0415
    from bompao.engine.simulate import forecast  # noqa: PLC0415

    catalog = JourneyCatalog()
    files = sorted((REPO / "journeys").glob("*.yaml"))
    texts = [(str(p.relative_to(REPO)), p.read_text()) for p in files]

    def deep_all() -> None:
        for name, text in texts:
            deep_check(text, file=name, resolve=catalog.resolve)

    def plain_all() -> None:
        for name, text in texts:
            compile_journey(text, file=name, resolve=catalog.resolve)

    deep = median_s(deep_all, runs)
    plain = median_s(plain_all, runs)
    rows = [
        Row(f"validate --deep of the {len(files)} bundled journeys (in process)", deep, "s",
            TARGET_DEEP_S, digits=3),
        Row("  baseline: plain validate of the same (in process)", plain, "s", digits=3),
        Row("  deep / plain", deep / plain, "x", digits=1),
    ]
    generated = _bench_definitions().generate_journey(200)
    rows += [Row("validate --deep of the 200-stage generated journey (in process)",
                 median_s(lambda: deep_check(generated, file="generated.yaml"), runs), "s",
                 digits=3),
             Row("  baseline: plain validate of the same (in process)",
                 median_s(lambda: compile_journey(generated, file="generated.yaml"), runs), "s",
                 digits=3)]
    names = [name for name, _ in texts]
    deep_p, plain_p = process_pair([str(BOMPAO), "validate", "--deep", *names],
                                   [str(BOMPAO), "validate", *names], processes)
    rows += [Row("process: bompao validate --deep journeys/*.yaml", deep_p, "s", digits=3),
             Row("  baseline: bompao validate journeys/*.yaml (alternating)", plain_p, "s",
                 digits=3),
             Row("  deep minus plain", deep_p - plain_p, "s", digits=3)]

    journey = load_path(REPO / "journeys" / "social-incubator.yaml")
    vectorised = median_s(lambda: forecast(journey, projects=PROJECTS, months=MONTHS,
                                           runs=RUNS, seed=1), runs)
    loop_runs = 20 if options.quick else 100
    start = time.perf_counter()
    python_loop_forecast(journey, loop_runs, PROJECTS, MONTHS)
    loop = (time.perf_counter() - start) * RUNS / loop_runs
    rows += [
        Row(f"simulate {RUNS:,} runs x {PROJECTS} projects x {MONTHS} months (NumPy)",
            vectorised, "s", TARGET_SIMULATE_S, digits=3),
        Row(f"  baseline: the model as a Python loop, reached only ({loop_runs} runs, scaled)",
            loop, "s", digits=3),
        Row("  speed-up over the Python loop", loop / vectorised, "x", digits=1),
    ]
    print_table(rows, "insight: validate --deep and simulate")
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
