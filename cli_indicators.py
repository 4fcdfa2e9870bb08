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

__all__ = ["alumni", "impact", "register"]


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
                 ctx.say("done.measured", id=project_id, indicator=indicator,
                         value=_shown(recorded["value"], ctx.lang),
                         period=recorded["period"]))

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
        from bompao.definitions.messages import text  # noqa: PLC0415
        from bompao.engine.views import table  # noqa: PLC0415

        project = engine.get(project_id, ctx.actor())
        specs = engine.journey(project.journey, project.version).indicators
        lang = ctx.lang
        table([text(f"impact.{k}", lang) for k in ("indicator", "total", "target", "latest",
                                                     "periods", "missing", "progress")],
              [[_title(name, specs[name], lang), _shown(s["total"], lang),
                _shown(specs[name].target, lang), _shown(s["latest"], lang), s["periods"],
                ", ".join(s["missing_periods"]) or "-",
                "-" if s["progress"] is None else f"{s['progress']:.0%}"]
               for name, s in found.items()])


def impact(ctx: Any, engine: Any, journey: str, scope: tuple[str | None, str | None],  # noqa: PLR0917
           fmt: str, output: str | None = None, *, bom: bool = False,
           view: str = "indicators") -> None:
    """``bompao report impact``: each indicator's total against target, projects
    reporting and missing periods; per project; by tag. ``table`` and ``csv`` show one
    view (``--view``), ``json``, ``html`` and ``xlsx`` all three.

    Raises:
        UsageError: ``--bom`` without csv, xlsx without ``-o``, an unknown view.
    """
    from bompao.definitions.messages import Message  # noqa: PLC0415
    from bompao.engine.impact_report import VIEWS, impact_report  # noqa: PLC0415
    from bompao.engine.impact_views import as_csv, as_html, sheets  # noqa: PLC0415

    partner, cohort = scope
    if bom and fmt != "csv":
        raise UsageError(Message("impact.bom_needs_csv"))
    if view not in VIEWS:
        raise UsageError(Message("impact.view_unknown", view=view))
    if fmt == "xlsx" and not output:
        raise UsageError(Message("impact.xlsx_needs_output"))
    found = impact_report(engine, journey=journey, partner=partner, cohort=cohort,
                          actor=ctx.actor())
    if fmt == "json":
        _out(ctx, json.dumps(found, ensure_ascii=False, indent=2), output, journey)
        return
    tables = sheets(found, ctx.lang)
    if fmt == "xlsx":
        from bompao.engine.xlsx import workbook  # noqa: PLC0415

        _out(ctx, workbook(tables), output, journey)
        return
    if fmt == "html":
        _out(ctx, as_html(found, ctx.lang, tables), output or f"bompao-impact-{journey}.html",
             journey)
        return
    chosen = tables[VIEWS.index(view)]
    if fmt == "csv":
        _out(ctx, as_csv(chosen, bom=bom), output, journey)
        return
    from bompao.engine.views import table  # noqa: PLC0415

    table(chosen[1], [[_shown(v, ctx.lang) for v in row] for row in chosen[2]],
          title=f"{chosen[0]}: {journey}")


def alumni(ctx: Any, engine: Any, journey: str, scope: tuple[str | None, str | None],  # noqa: PLR0917
           fmt: str, output: str | None = None) -> None:
    """``bompao report alumni``: survival by cohort at each check-in after the handoff
    (``due``, ``reported``, ``operating``, ``share``), as a table, JSON, CSV, HTML (with
    a chart) or xlsx.

    Raises:
        UsageError: xlsx without ``-o``.
    """
    from bompao.definitions.messages import Message, text  # noqa: PLC0415
    from bompao.engine.alumni import alumni_html, alumni_report, alumni_sheet  # noqa: PLC0415

    if fmt == "xlsx" and not output:
        raise UsageError(Message("impact.xlsx_needs_output"))
    partner, cohort = scope
    found = alumni_report(engine, journey=journey, partner=partner, cohort=cohort,
                          actor=ctx.actor())
    if fmt == "json":
        _out(ctx, json.dumps(found, ensure_ascii=False, indent=2), output, journey, "alumni")
        return
    if fmt == "html":
        _out(ctx, alumni_html(found, ctx.lang), output or f"bompao-alumni-{journey}.html",
             journey, "alumni")
        return
    sheet = alumni_sheet(found, ctx.lang)
    if fmt == "xlsx":
        from bompao.engine.xlsx import workbook  # noqa: PLC0415

        _out(ctx, workbook([sheet]), output, journey, "alumni")
        return
    if fmt == "csv":
        from bompao.engine.impact_views import as_csv  # noqa: PLC0415

        _out(ctx, as_csv(sheet), output, journey, "alumni")
        return
    from bompao.engine.views import table  # noqa: PLC0415

    table(sheet[1], [[*row[:5], "-" if row[5] is None else f"{row[5]:.0%}"]
                     for row in sheet[2]],
          title=text("impact.alumni_title", ctx.lang, journey=journey))


def _out(ctx: Any, data: str | bytes, output: str | None, journey: str,
         report: str = "impact") -> None:
    """Write ``data`` to ``output`` (atomically) or print it."""
    if not output:
        click.echo(data if isinstance(data, str) else data.decode().rstrip("\n"))
        return
    from pathlib import Path  # noqa: PLC0415

    path = Path(output)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        from bompao.definitions.messages import Message  # noqa: PLC0415

        raise UsageError(Message("file.cannot_write", path=str(path),
                                 reason=exc.strerror)) from None
    ctx.emit({"report": report, "journey": journey, "output": str(path)},
             ctx.say("done.wrote", path=path))


def _title(name: str, spec: Any, lang: str) -> str:
    from bompao.definitions.texts import pick  # noqa: PLC0415

    return pick(spec.title, lang, name)


def _shown(value: Any, lang: str = "en") -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        from bompao.definitions.messages import text  # noqa: PLC0415

        return text("impact.yes" if value else "impact.no", lang)
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:,}" if isinstance(value, int) else str(value)
