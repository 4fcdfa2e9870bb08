"""The packages' layers (DESIGN.md Part 3): ``definitions/`` is a pure pipeline,
``storage/`` knows nothing of the engine, and every SQL statement lives in ``storage/``.

Read from the source with :mod:`ast`, so a lazy import inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imports(path: Path, text: str | None = None) -> set[str]:
    """Every module ``path`` (or ``text`` placed there) imports, at the top or inside a
    function, relative imports resolved within the package ``bompao``."""
    package = ["bompao", *path.parent.relative_to(ROOT).parts]
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8") if text is None else text)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1])
            if node.module:
                found.add(f"{base}.{node.module}")
            else:
                found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def sources(*folders: str) -> list[Path]:
    return sorted(path for folder in folders for path in (ROOT / folder).rglob("*.py"))


def offenders(paths: list[Path], forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    found = {}
    for path in paths:
        bad = sorted(name for name in imports(path)
                     if any(name == f or name.startswith(f + ".") for f in forbidden))
        if bad:
            found[str(path.relative_to(ROOT))] = bad
    return found


def test_definitions_import_nothing_of_the_engine_storage_or_web() -> None:
    assert offenders(sources("definitions"), (
        "bompao.engine", "bompao.storage", "bompao.web", "sqlalchemy")) == {}


def test_storage_imports_nothing_of_the_engine_or_web() -> None:
    """Nor of the journey pipeline: only the messages (its errors speak both languages)."""
    found = offenders(sources("storage"), ("bompao.engine", "bompao.definitions", "bompao.web"))
    assert {path: bad for path, bad in found.items()
            if bad != ["bompao.definitions.messages"]} == {}


def test_sql_lives_in_storage() -> None:
    """No module outside ``storage/`` builds a statement: none imports SQLAlchemy (the
    engine, the web app and the CLI call ``storage/``)."""
    outside = [*sources("engine", "web", "definitions", "catalogue"),
               *sorted(ROOT.glob("cli*.py"))]
    assert offenders(outside, ("sqlalchemy",)) == {}


@pytest.mark.parametrize(("snippet", "module"), [
    ("import sqlalchemy as sa\n", "sqlalchemy"),
    ("def f():\n    from sqlalchemy.engine import Row\n", "sqlalchemy.engine"),
    ("from . import tables\n", "bompao.storage.tables"),
    ("from .tables import projects\n", "bompao.storage.tables"),
    ("from ..engine import Engine\n", "bompao.engine"),
])
def test_the_import_finder_sees_every_form(snippet: str, module: str) -> None:
    assert module in imports(ROOT / "storage" / "probe.py", snippet)
