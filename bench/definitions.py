"""How fast the journey language loads, validates, compiles and refuses hostile input.

Run from the repository root: ``python -m bench`` (or ``python -m bench definitions``).
Options: ``--runs N`` (in-process repetitions, default 15), ``--processes N``
(process repetitions, default 5), ``--stages N`` (size of the generated journey,
default 200), ``--strict`` (exit 1 when a target is missed).

Targets (issue 2): a 200-stage journey loaded, validated and compiled in under
50 ms; ``bompao validate journeys/*.yaml`` as a whole process in under 0.5 s; a
10 MB document and an alias bomb refused in under 100 ms. Every figure is the
median of several runs (``time.perf_counter``); the process figures are measured
side by side with a bare ``python -c pass`` so a loaded machine shows in both.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

from _table import Row, print_table

REPO = Path(__file__).resolve().parents[1]
BOMPAO = Path(sys.executable).with_name("bompao")

TARGET_STAGES_MS = 50.0
TARGET_PROCESS_S = 0.5
TARGET_REFUSAL_MS = 100.0


def generate_journey(stages: int = 200) -> str:
    """A chain of ``stages`` stages whose gates use expr, evidence and approval (and
    every tenth a minimum time), with follow-ups on every stage."""
    evidence_items = 20
    lines = [
        "journey: generated",
        "version: 1",
        "title: {en: Generated chain, th: เส้นทางทดสอบ}",
        "roles: [coach, committee, program_manager]",
        "fields:",
        "  score: {type: int, default: 0}",
        "  notes: {type: string, default: ''}",
        "  tags: {type: 'list[string]', default: []}",
        "  demo_day: {type: date}",
        "evidence:",
        *(f"  item_{e:02d}: {{title: {{en: Item {e}, th: หลักฐาน {e}}}}}"
          for e in range(evidence_items)),
        "stages:",
    ]
    for i in range(stages):
        name = f"s{i:03d}"
        if i == stages - 1:
            lines += [f"  {name}: {{final: true, title: {{en: Done, th: เสร็จ}}}}"]
            continue
        lines += [
            f"  {name}:",
            *(["    initial: true"] if i == 0 else []),
            f"    title: {{en: Stage {i}, th: ขั้น {i}}}",
            "    follow_ups:",
            ("      - {after: 14 days, action: notify, to: [coach],"
             " message: {en: 'Check in with {{ project.name }}'}}"),
            "      - {every: 1 month, action: notify, to: [coach, program_manager]}",
            "      - {after: 10 business days, action: flag, flag: slow}",
            *(["      - {at: demo_day, action: notify, to: [coach]}"] if i % 25 == 0 else []),
        ]
    lines.append("transitions:")
    for i in range(stages - 1):
        criteria = [
            f"        - expr: \"score >= {i} && size(notes) > 0 && 'ok' in tags\"",
            f"        - evidence: item_{i % evidence_items:02d}",
            f"        - approval: {{role: committee, count: {1 + i % 3}}}",
        ]
        if i % 10 == 0:
            criteria.append("        - min_time_in_stage: 1 month")
        lines += [
            f"  - trigger: next_{i:03d}",
            f"    from: s{i:03d}",
            f"    to: s{i + 1:03d}",
            "    gate:",
            "      all:",
            *criteria,
        ]
    lines += [
        "  - trigger: withdraw",
        "    from: '*'",
        f"    to: s{stages - 1:03d}",
        "    roles: [program_manager]",
    ]
    return "\n".join(lines) + "\n"


def ten_megabytes() -> str:
    """A valid-looking 10 MB journey: many small stages."""
    head = "journey: big\nversion: 1\nstages:\n"
    line = "  s{:07d}: {{title: {{en: x, th: y}}}}\n"
    count = (10 * 1024 * 1024 - len(head)) // len(line.format(0)) + 1
    return head + "".join(line.format(i) for i in range(count))


def alias_bomb(levels: int = 9) -> str:
    """Billion laughs: ``levels`` lists of ten aliases to the previous one."""
    names = [chr(ord("a") + i) for i in range(levels)]
    text = f"{names[0]}: &{names[0]} [{', '.join(['lol'] * 10)}]\n"
    for prev, name in pairwise(names):
        text += f"{name}: &{name} [{', '.join([f'*{prev}'] * 10)}]\n"
    return text


def deep_nesting(depth: int = 10_000) -> str:
    """A small document nested far deeper than any journey."""
    return "journey: " + "[" * depth + "]" * depth + "\n"


def _forget_compiled() -> None:
    """Empty the CEL, template and duration caches, so every timed run compiles from scratch."""
    from bompao.definitions import durations, expressions, templates  # noqa: PLC0415

    durations._parse_text.cache_clear()
    expressions.compile_expression.cache_clear()
    expressions._env.cache_clear()
    templates.check_template.cache_clear()


def median_ms(run: Callable[[], Any], runs: int, *,
              before: Callable[[], Any] | None = None) -> float:
    """The median wall time of ``run`` in milliseconds (one warm-up run first), each run
    with empty compile caches (a journey is compiled once in real use); ``before``
    (untimed) runs after the caches are emptied and before each timed run."""
    run()
    times = []
    for _ in range(runs):
        _forget_compiled()
        if before is not None:
            before()
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def refuse(document: str | bytes) -> Callable[[], None]:
    """A callable that loads ``document`` and requires a LoadError."""
    from bompao.definitions import load_yaml  # noqa: PLC0415
    from bompao.errors import LoadError  # noqa: PLC0415

    def run() -> None:
        try:
            load_yaml(document, "hostile.yaml")
        except LoadError:
            return
        raise AssertionError("the document was not refused")

    return run


def process_seconds(argv: list[str], processes: int) -> tuple[float, float]:
    """Median seconds of ``argv`` and of ``python -c pass``, run alternately."""
    measured, baseline = [], []
    for _ in range(processes + 1):  # the first pair warms the file cache
        for command, sink in ((argv, measured), ([sys.executable, "-c", "pass"], baseline)):
            start = time.perf_counter()
            done = subprocess.run(command, cwd=REPO, capture_output=True, check=False)
            sink.append(time.perf_counter() - start)
            if done.returncode != 0:
                raise RuntimeError(f"{command} failed: {done.stderr.decode()[:500]}")
    return statistics.median(measured[1:]), statistics.median(baseline[1:])


def _row(name: str, target: float | None, value: float, unit: str) -> Row:
    return Row(name, value, unit, target, "<", 1 if unit == "ms" else 3)


def stage_breakdown(text: str, runs: int) -> dict[str, float]:
    """Median ms of each pipeline step on ``text``, as the pipeline runs it: the compile
    step reuses the CEL programs the checks compiled just before (untimed here), so the
    steps add up to the whole; CEL's own share of the checks is timed apart."""
    from bompao.definitions.checks import check_document  # noqa: PLC0415
    from bompao.definitions.compiled import compile_document  # noqa: PLC0415
    from bompao.definitions.document import parse_document  # noqa: PLC0415
    from bompao.definitions.expressions import compile_expression, make_env  # noqa: PLC0415
    from bompao.definitions.source import load_yaml  # noqa: PLC0415

    source = load_yaml(text, "generated.yaml")
    doc = parse_document(source)
    texts = [line.split('"')[1] for line in text.splitlines() if "- expr:" in line]
    declared = {name: spec.type for name, spec in doc.fields.items()}

    def cel() -> None:
        env = make_env(declared)
        for expression in texts:
            compile_expression(env, expression)

    return {
        "load (safe YAML with positions)": median_ms(lambda: load_yaml(text, "g.yaml"), runs),
        "schema (pydantic)": median_ms(lambda: parse_document(source), runs),
        "checks (references, graph, CEL)": median_ms(lambda: check_document(doc, source), runs),
        f"the checks' CEL ({len(texts)} expressions compiled)": median_ms(cel, runs),
        "compile (CEL programs from the checks)": median_ms(
            lambda: compile_document(doc), runs, before=lambda: check_document(doc, source)),
    }


def main(argv: list[str] | None = None) -> list[Row]:
    """Measure, print the table, and return its rows."""
    parser = argparse.ArgumentParser(prog="python -m bench definitions")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--processes", type=int, default=5)
    parser.add_argument("--stages", type=int, default=200)
    parser.add_argument("--strict", action="store_true")
    options, _ = parser.parse_known_args(argv or [])  # --quick etc. are for other benches

    from bompao.definitions import JourneyCatalog, compile_journey  # noqa: PLC0415

    rows: list[Row] = []
    generated = generate_journey(options.stages)
    journey = compile_journey(generated, file="generated.yaml")
    assert len(journey.stages) == options.stages
    value = median_ms(lambda: compile_journey(generated, file="generated.yaml"), options.runs)
    rows.append(_row(f"{options.stages}-stage journey: load+validate+compile",
                     TARGET_STAGES_MS if options.stages == 200 else None, value, "ms"))
    rows.extend(_row(f"  of which {step}", None, ms, "ms")
                for step, ms in stage_breakdown(generated, options.runs).items())

    catalog = JourneyCatalog()
    for path in sorted((REPO / "journeys").glob("*.yaml")):
        text = path.read_bytes()
        compile_journey(text, file=str(path), resolve=catalog.resolve)
        value = median_ms(lambda text=text, path=path: compile_journey(
            text, file=str(path), resolve=catalog.resolve), options.runs)
        rows.append(_row(f"bundled {path.name}: load+validate+compile", None, value, "ms"))

    files = [str(p.relative_to(REPO)) for p in sorted((REPO / "journeys").glob("*.yaml"))]
    validate, baseline = process_seconds([str(BOMPAO), "validate", *files], options.processes)
    rows.append(_row("process: bompao validate journeys/*.yaml", TARGET_PROCESS_S, validate,
                     "s"))
    rows.append(_row("process: python -c pass (baseline, side by side)", None, baseline, "s"))
    rows.append(_row("process: validate minus baseline", None, validate - baseline, "s"))

    big = ten_megabytes()
    rows.append(_row("refuse a 10 MB document (str)", TARGET_REFUSAL_MS,
                     median_ms(refuse(big), options.runs), "ms"))
    big_bytes = big.encode()
    rows.append(_row("refuse a 10 MB document (bytes)", TARGET_REFUSAL_MS,
                     median_ms(refuse(big_bytes), options.runs), "ms"))
    rows.append(_row("refuse an alias bomb (10**9 nodes)", TARGET_REFUSAL_MS,
                     median_ms(refuse(alias_bomb()), max(3, options.runs // 3)), "ms"))
    rows.append(_row("refuse 10,000 nested lists (20 KB)", TARGET_REFUSAL_MS,
                     median_ms(refuse(deep_nesting()), 3), "ms"))

    print_table(rows, "definitions")
    if options.strict and any(row.ok is False for row in rows):
        raise SystemExit(1)
    return rows



if __name__ == "__main__":
    main(sys.argv[1:])
