"""Run benchmarks: ``python -m bench`` (all of them) or ``python -m bench NAME...``.

``--quick`` (passed on to each) runs smaller versions. After the benchmarks' own
tables comes the summary: every figure with a target — target, measured, ratio, ok —
with the date and the machine. ``--markdown FILE`` also writes that summary as the
Markdown table the README carries. Exit status 1 when a target is missed.

The repository root is the package ``bompao``, so the benchmark modules are loaded
by path (``bench/NAME.py``) rather than imported by a name that could clash with
the package's own top-level modules (``definitions``, ``engine``, ...).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the benchmarks share bench/_table.py

from _table import Row, machine, markdown, print_table  # noqa: E402

ALL = ("definitions", "engine", "scheduler", "reports", "state_machine", "insight", "selection",
       "impact", "web")


def load(name: str) -> ModuleType:
    """The benchmark module ``bench/NAME.py``."""
    path = HERE / f"{name}.py"
    if not path.is_file() or name.startswith("_"):
        known = sorted(p.stem for p in HERE.glob("*.py") if not p.stem.startswith("_"))
        raise SystemExit(f"error: no benchmark {name!r}; benchmarks: {', '.join(known)}")
    spec = importlib.util.spec_from_file_location(f"bompao_bench_{name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run(argv: list[str]) -> int:
    """Run the named benchmarks (everything from the first option on goes to each of
    them), print the summary of targets and return the exit status."""
    target_file = None
    if "--markdown" in argv:
        at = argv.index("--markdown")
        if at + 1 >= len(argv):
            raise SystemExit("error: --markdown needs a FILE")
        target_file = Path(argv[at + 1])
        argv = argv[:at] + argv[at + 2:]
    first_option = next((i for i, a in enumerate(argv) if a.startswith("-")), len(argv))
    names = argv[:first_option] or [n for n in ALL if (HERE / f"{n}.py").is_file()]
    options = argv[first_option:]
    targeted: list[Row] = []
    for name in names:
        rows = load(name).main(options) or []
        targeted.extend(row for row in rows if isinstance(row, Row) and row.target is not None)
    if not targeted:
        return 0
    print_table(targeted, f"targets ({machine()})")
    if target_file is not None:
        target_file.write_text(f"Measured {machine()}" + (" (--quick)" if "--quick" in options
                                                          else "") + ":\n\n"
                               + markdown(targeted))
        print(f"wrote {target_file}")
    return 1 if any(row.ok is False for row in targeted) else 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
