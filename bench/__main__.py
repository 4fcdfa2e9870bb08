"""Run benchmarks: ``python -m bench`` (all of them) or ``python -m bench NAME...``.

``--quick`` (passed on to each) runs smaller versions.

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
ALL = ("definitions", "engine", "scheduler", "reports")


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


def run(argv: list[str]) -> None:
    """Run the named benchmarks; everything from the first option on goes to each of them."""
    first_option = next((i for i, a in enumerate(argv) if a.startswith("-")), len(argv))
    names = argv[:first_option] or [n for n in ALL if (HERE / f"{n}.py").is_file()]
    options = argv[first_option:]
    for name in names:
        load(name).main(options)


if __name__ == "__main__":
    run(sys.argv[1:])
