"""``bompao project measure`` and ``bompao project indicators``: impact indicators.

Kept apart from ``cli.py`` (which registers them with one call) and as thin: the
engine checks and records; these commands parse options and print.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from bompao.errors import UsageError

__all__ = ["impact", "register"]


def register(project: click.Group, pass_ctx: Callable[..., Any],
             engine_of: Callable[[Any], Any]) -> None:
    """Add the indicator commands to the ``project`` group.

    Args:
        project: the ``bompao project`` group.
        pass_ctx: the decorator passing the CLI's ``Context``.
        engine_of: opens the engine for a ``Context``.
    """

    @project.command("measure")
    @click.argument("project_id", type=int, metavar="ID")
    @click.argument("indicator")
    @click.argument("value")
    @click.option("--period", metavar="PERIOD", help="The period: 2027-03 (monthly), "
                  "2027-Q1 (quarterly), 2027-H1, 2027 (yearly); default: the current one.")
    @click.option("--note", help="A note kept with the value.")
    @click.option("--by", help="Who reports it.")
    @click.option("--role", help="The role they act in (the indicator's owner role).")
    @pass_ctx
    def project_measure(ctx: Any, project_id: int, indicator: str, value: str,  # noqa: PLR0917
                        period: str | None, note: str | None, by: str | None,
                        role: str | None) -> None:
        """Record an indicator's value for a period (a second value corrects the first)."""
        if role and not by:
            raise UsageError("--role needs --by NAME")
        engine = engine_of(ctx)
        moved = engine.measure(project_id, indicator, period, value, note=note,
                               actor=ctx.actor(by, role), text=True)
        event = engine.history(project_id, ctx.actor())[-1]
        recorded = dict(event.payload)
        ctx.emit({"project": moved.id, "seq": event.seq, **recorded},
                 f"project {project_id}: {indicator} = {recorded['value']} for "
                 f"{recorded['period']}")

    @project.command("indicators")
    @click.argument("project_id", type=int, metavar="ID")
    @pass_ctx
    def project_indicators(ctx: Any, project_id: int) -> None:
        """Show each indicator's total, latest value, periods reported and missing."""
        engine = engine_of(ctx)
        found = engine.indicators(project_id, actor=ctx.actor())
        if ctx.as_json:
            ctx.emit(found)
            return
        from bompao.engine.views import table  # noqa: PLC0415

        project = engine.get(project_id, ctx.actor())
        specs = engine.journey(project.journey, project.version).indicators
        table(["indicator", "total", "target", "latest", "periods", "missing", "progress"],
              [[_title(name, specs[name], ctx.lang), _shown(s["total"]),
                _shown(specs[name].target), _shown(s["latest"]), s["periods"],
                ", ".join(s["missing_periods"]) or "-",
                "-" if s["progress"] is None else f"{s['progress']:.0%}"]
               for name, s in found.items()])


def impact(ctx: Any, engine: Any, journey: str, scope: tuple[str | None, str | None],
           fmt: str) -> None:
    """``bompao report impact``: each indicator's total against target, projects
    reporting and missing periods, as a table or JSON.

    Raises:
        UsageError: a format other than table or json.
    """
    from bompao.engine.indicators import impact_report  # noqa: PLC0415

    partner, cohort = scope
    if fmt not in ("table", "json"):
        raise UsageError(f"report impact gives --format table or json; {fmt!r} is not "
                         "available for it yet")
    found = impact_report(engine, journey=journey, partner=partner, cohort=cohort,
                          actor=ctx.actor())
    if fmt == "json":
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    from bompao.definitions.texts import pick  # noqa: PLC0415
    from bompao.engine.views import table  # noqa: PLC0415

    table(["indicator", "total", "target", "projects", "reported", "missing", "tags"],
          [[pick(row["title"], ctx.lang, name), _shown(row["total"]), _shown(row["target"]),
            row["projects"], row["reported"], row["missing"], ", ".join(row["tags"])]
           for name, row in found["indicators"].items()],
          title=f"impact: {journey}")


def _title(name: str, spec: Any, lang: str) -> str:
    from bompao.definitions.texts import pick  # noqa: PLC0415

    return pick(spec.title, lang, name)


def _shown(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:,}" if isinstance(value, int) else str(value)
