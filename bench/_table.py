"""One row type and one table printer for every benchmark, and the summary of targets.

Loaded by ``bench/__main__.py`` (which puts this folder on ``sys.path``) and by each
benchmark run as a script (whose folder Python puts there itself).
"""

from __future__ import annotations

import os
import platform
import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["Row", "machine", "markdown", "postgres_schema", "print_table"]

_UNITS_AFTER = {"ms", "s", "MB", "x"}


@dataclass(frozen=True)
class Row:
    """One measurement, with the target it must meet (if any).

    Attributes:
        what: what was measured.
        measured: the figure.
        unit: ``ms``, ``s``, ``MB``, ``x`` (a ratio), ``/s`` (a rate) or empty.
        target: the figure to meet, or None for information only.
        compare: ``<`` (under the target), ``<=`` or ``>=`` (at least the target).
        digits: decimals shown.
    """

    what: str
    measured: float
    unit: str = ""
    target: float | None = None
    compare: str = "<"
    digits: int = 1

    def _text(self, value: float, *, exact: bool = False) -> str:
        number = f"{value:,g}" if exact else f"{value:,.{self.digits}f}"
        if self.unit in _UNITS_AFTER:
            return f"{number}{self.unit}" if self.unit == "x" else f"{number} {self.unit}"
        return f"{number}{self.unit}"

    @property
    def shown(self) -> str:
        """The measured figure with its unit."""
        return self._text(self.measured)

    @property
    def target_text(self) -> str:
        """``< 50 ms``, ``>= 10x``, or ``-``."""
        if self.target is None:
            return "-"
        return f"{self.compare} {self._text(self.target, exact=True)}"

    @property
    def ratio(self) -> float | None:
        """measured / target (under 1 is good for ``<``, over 1 for ``>=``)."""
        if self.target is None or self.target == 0:
            return None
        return self.measured / self.target

    @property
    def ok(self) -> bool | None:
        """Whether the target is met; None without a target."""
        if self.target is None:
            return None
        if self.compare == ">=":
            return self.measured >= self.target
        if self.compare == "<=":
            return self.measured <= self.target
        return self.measured < self.target

    @property
    def verdict(self) -> str:
        """``ok``, ``MISSED`` or empty."""
        return {None: "", True: "ok", False: "MISSED"}[self.ok]

    def cells(self) -> tuple[str, str, str, str, str]:
        """The row as text: what, target, measured, ratio, verdict."""
        ratio = self.ratio
        return (self.what, self.target_text, self.shown,
                "-" if ratio is None else f"{ratio:.2f}", self.verdict)


_HEADER = ("benchmark", "target", "measured", "ratio", "ok")


def print_table(rows: Sequence[Row], title: str | None = None) -> None:
    """Print ``rows`` aligned: benchmark | target | measured | ratio | ok."""
    if title:
        print(f"\n== {title}")
    cells = [_HEADER, *(row.cells() for row in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(len(_HEADER))]
    for index, cell in enumerate(cells):
        print(" | ".join(text.ljust(width) if i == 0 else text.rjust(width)
                         for i, (text, width) in enumerate(zip(cell, widths, strict=True))))
        if index == 0:
            print("-+-".join("-" * width for width in widths))


def markdown(rows: Sequence[Row]) -> str:
    """``rows`` as a Markdown table (the README's)."""
    lines = ["| " + " | ".join(_HEADER) + " |", "|---|---:|---:|---:|---|"]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def machine() -> str:
    """Today's date and this machine, for the README."""
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        kib = int(meminfo.read_text().split()[1])
        memory = f", {kib / 1024 ** 2:.0f} GiB"
    return (f"{datetime.now(UTC):%Y-%m-%d}, {platform.system()} {platform.machine()}, "
            f"{model}, {os.cpu_count()} cores{memory}, Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}")


@contextmanager
def postgres_schema(base: str, prefix: str = "bench") -> Iterator[str]:
    """A URL to a fresh schema (``PREFIX_`` and random hex) of the PostgreSQL database at
    ``base``, reached through ``search_path``; the schema is dropped afterwards."""
    import sqlalchemy as sa  # noqa: PLC0415 - only the PostgreSQL runs need it
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    url = make_url(base).set(drivername="postgresql+psycopg")
    schema = f"{prefix}_{secrets.token_hex(6)}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        try:
            yield url.update_query_dict({"options": f"-csearch_path={schema}"}
                                        ).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    finally:
        admin.dispose()
