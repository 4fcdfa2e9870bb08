"""The ``bompao`` command: a thin layer of click over the library.

Every command accepts the global ``--json`` (machine-readable stdout), ``--lang``
and ``--journeys``. Errors are one line on stderr starting ``error:``; exit codes
are 0 done, 1 refused, 2 bad usage or input. ``--debug`` shows tracebacks.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from bompao.cli_indicators import register as register_indicators
from bompao.cli_intake import register as register_intake
from bompao.cli_usage import speaking
from bompao.definitions.messages import Message, diagnostic_text, localise, text
from bompao.engine.views import printable
from bompao.errors import BompaoError, DefinitionError, NotFound, UsageError
from bompao.web.cli import register as register_web

if TYPE_CHECKING:
    from bompao.definitions import CompiledJourney, JourneyCatalog

__all__ = ["cli", "main"]

DEFAULT_DB = "sqlite:///bompao.db"
_DIAGNOSTIC = re.compile(r"^.+:\d+:\d+: error: ")
def _default_lang() -> str:
    for name in ("BOMPAO_LANG", "LC_ALL", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "th" if value.lower().startswith("th") else "en"
    return "en"


@dataclass
class Context:
    """What every command gets from the global options."""

    db: str = DEFAULT_DB
    config_path: str | None = None
    journey_dirs: tuple[str, ...] = ()
    lang: str = "en"
    as_json: bool = False
    debug: bool = False
    partner: str | None = None
    """The partner scope (``bompao --partner P``): every command acts for P only."""
    _catalog: JourneyCatalog | None = field(default=None, repr=False)

    @property
    def catalog(self) -> JourneyCatalog:
        """The journeys: bundled, ``$BOMPAO_JOURNEYS`` and ``--journeys``."""
        if self._catalog is None:
            from bompao.definitions import JourneyCatalog  # noqa: PLC0415 - lazy for speed

            self._catalog = JourneyCatalog.from_env(self.journey_dirs)
        return self._catalog

    @property
    def config(self) -> Any:
        """The operator configuration (``--config`` / ``BOMPAO_CONFIG`` and env vars)."""
        from bompao.engine.config import load_config  # noqa: PLC0415

        return load_config(self.config_path)

    def actor(self, by: str | None = None, role: str | None = None,
              partner: str | None = None) -> Any:
        """Who acts: ``by`` in ``role``, scoped to the session's partner (or ``partner``).

        Under the partner scope there is always an actor, so the engine checks the
        scope; one without ``--by`` is recorded under the partner's name. Without a
        scope, no ``--by`` and no ``partner`` means no actor (nothing recorded, no scope).

        Raises:
            PermissionDenied: ``partner`` is not the session's partner.
        """
        scope = self.scope(partner, "--partner")
        if by is None and scope is None:
            return None
        from bompao.engine import Actor  # noqa: PLC0415

        return Actor(by if by is not None else str(scope), roles=[role] if role else [],
                     partner=scope)

    def scope(self, partner: str | None, option: str) -> str | None:
        """The partner a command may act for or filter on, given its own ``option``.

        Within the session's scope a command's own partner option may only repeat it:
        it narrows nothing and must not widen the scope.

        Raises:
            PermissionDenied: ``partner`` names another partner than the session's.
        """
        if self.partner is None:
            return partner
        if partner is not None and partner != self.partner:
            from bompao.errors import PermissionDenied  # noqa: PLC0415

            raise PermissionDenied(Message("permission.scope", option=option,
                                           partner=partner, scope=self.partner))
        return self.partner

    def unscoped(self, command: str) -> None:
        """Refuse a command that acts for every partner when the session has a scope.

        Raises:
            UsageError: the session is scoped to a partner.
        """
        if self.partner is not None:
            raise UsageError(Message("usage.unscoped", command=command, scope=self.partner))

    def say(self, key: str, /, **params: Any) -> str:
        """The catalogue's ``key`` in the session's language (``--lang``)."""
        return text(key, self.lang, **params)

    def emit(self, data: Any, human: str | None = None) -> None:
        """Print ``data`` as JSON under ``--json``, else ``human`` (or nothing)."""
        if self.as_json:
            click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        elif human is not None:
            click.echo(printable(human))


pass_ctx = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--db", envvar="BOMPAO_DATABASE_URL", default=DEFAULT_DB, show_default=True,
              metavar="URL", help="Database URL (env BOMPAO_DATABASE_URL): sqlite:///FILE "
              "or postgresql+psycopg://USER@HOST/DB.")
@click.option("--config", "config_path", envvar="BOMPAO_CONFIG", metavar="FILE",
              help="Operator configuration (TOML): SMTP, webhooks, scheduler "
              "(env BOMPAO_CONFIG).")
@click.option("--journeys", "journey_dirs", multiple=True, metavar="DIR",
              help="A directory of journey files to add to the bundled ones (repeatable; "
              "env BOMPAO_JOURNEYS, separated by ':').")
@click.option("--lang", type=click.Choice(["en", "th"]), default=None,
              help="Language of messages, titles and reports (default: from LANG).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@click.option("--partner", "scope", envvar="BOMPAO_PARTNER", metavar="PARTNER",
              help="Act for this partner only (env BOMPAO_PARTNER): every command sees and "
              "changes only PARTNER's projects, others' are 'not found'; changes without "
              "--by are recorded as made by PARTNER; commands that act for every partner "
              "(init, journeys publish, scheduler, demo) are refused.")
@click.option("--debug", is_flag=True, help="Show Python tracebacks for errors.")
@click.version_option(package_name="bompao")
@click.pass_context
def cli(ctx: click.Context, db: str, config_path: str | None, journey_dirs: tuple[str, ...],
        lang: str | None, as_json: bool, scope: str | None, debug: bool) -> None:
    """bompao (บ่มเพาะ): run incubation journeys — YAML journeys, gates and follow-ups."""
    source = ctx.get_parameter_source("db")
    if scope is not None and not scope.strip():
        raise UsageError(Message("usage.partner_empty"))
    ctx.obj = Context(db=db, config_path=config_path, journey_dirs=journey_dirs,
                      lang=lang or _default_lang(), as_json=as_json, debug=debug,
                      partner=scope)
    if source in (click.core.ParameterSource.DEFAULT, None) and config_path:
        configured = ctx.obj.config.database
        if configured:
            ctx.obj.db = configured


def _files(paths: tuple[str, ...]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
            if not found:
                raise NotFound(Message("file.no_yaml", path=raw))
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            raise NotFound(Message("file.missing_any", path=raw))
    return files


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--deep", is_flag=True, help="Also prove, with the Z3 solver, what can never "
              "happen: gates no values can satisfy (given fields' min/max), a "
              "min_time_in_stage longer than a follow-up transition that always leaves first, "
              "follow-ups that can never fire, stages that can never be entered or never "
              "reach a final stage. Expressions outside the subset it understands get a "
              "'note: not checked'.")
@pass_ctx
def validate(ctx: Context, paths: tuple[str, ...], deep: bool) -> None:
    """Check journey files (or directories of them); print every problem with its position.

    Exit 0 when all are valid, 1 when any is not (with --deep: or has a deep-check
    error; notes alone do not fail). A file may extend a bundled journey, one in
    --journeys, or another file given here.
    """
    from bompao.definitions import load_yaml  # noqa: PLC0415
    from bompao.definitions.catalog import read_file  # noqa: PLC0415
    from bompao.definitions.pipeline import compile_source  # noqa: PLC0415

    files = _files(paths)
    sources = {}
    results: list[dict[str, Any]] = []
    loaded = []
    for path in files:
        try:
            source = load_yaml(read_file(path), str(path))
        except DefinitionError as exc:
            results.append({"file": str(path), "ok": False,
                            "diagnostics": [d.as_dict() for d in exc.diagnostics]})
            _print_diagnostics(ctx, exc)
            continue
        sources[(source.data.get("journey"), source.data.get("version"))] = source
        loaded.append(source)

    def resolve(key: str, version: int) -> Any:
        return sources.get((key, version)) or ctx.catalog.resolve(key, version)

    for source in loaded:
        findings: list[Any] = []
        try:
            if deep:
                from bompao.definitions.deep import deep_check_source  # noqa: PLC0415

                journey, findings = deep_check_source(source, resolve=resolve)
            else:
                journey = compile_source(source, resolve=resolve)
        except DefinitionError as exc:
            results.append({"file": source.file, "ok": False,
                            "diagnostics": [d.as_dict() for d in exc.diagnostics]})
            _print_diagnostics(ctx, exc)
            continue
        errors = [f for f in findings if f.severity == "error"]
        results.append({"file": source.file, "ok": not errors, "journey": journey.key,
                        "version": journey.version, "stages": len(journey.stages),
                        "transitions": len(journey.transitions), "diagnostics": [],
                        **({"findings": [f.as_dict() for f in findings]} if deep else {})})
        if not ctx.as_json:
            for finding in findings:
                click.echo(printable(finding.text(ctx.lang)), err=True)
        if errors:
            continue
        if not ctx.as_json:
            click.echo(ctx.say("done.valid", file=source.file, ref=journey.ref,
                               stages=len(journey.stages),
                               transitions=len(journey.transitions)))
    results.sort(key=lambda r: files.index(Path(r["file"])) if Path(r["file"]) in files else 0)
    ok = all(r["ok"] for r in results)
    ctx.emit({"ok": ok, "files": results})
    if not ok:
        raise SystemExit(1)


def _print_diagnostics(ctx: Context, exc: DefinitionError) -> None:
    if not ctx.as_json:
        for diagnostic in exc.diagnostics:
            click.echo(printable(diagnostic_text(diagnostic, ctx.lang)), err=True)


@cli.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write the schema to FILE instead of stdout.")
def schema(output: str | None) -> None:
    """Print the JSON Schema of the journey format.

    Editors that speak the YAML language server validate journeys as you type when the
    file starts with: # yaml-language-server: $schema=./journey.schema.json
    """
    from bompao.definitions.schema import journey_schema  # noqa: PLC0415

    text = json.dumps(journey_schema(), ensure_ascii=False, indent=2)
    if output:
        _write(Path(output), text + "\n")
    else:
        click.echo(text)


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(Message("file.cannot_write", path=str(path),
                                 reason=exc.strerror)) from None


def _journey(ctx: Context, ref: str) -> CompiledJourney:
    """A journey by file path, or by KEY / KEY@VERSION from the catalog."""
    path = Path(ref)
    if ref.endswith((".yaml", ".yml")) or path.is_file():
        from bompao.definitions import load_path  # noqa: PLC0415

        return load_path(path, resolve=ctx.catalog.resolve)
    return ctx.catalog.get(ref)


@cli.command()
@click.argument("journey", metavar="KEY|PATH")
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid",
              show_default=True, help="Diagram language.")
@click.option("--project", "project_id", type=int, metavar="ID",
              help="Highlight this project's current stage (reads --db; KEY|PATH may be '-').")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE.")
@pass_ctx
def diagram(ctx: Context, journey: str, fmt: str, project_id: int | None,
            output: str | None) -> None:
    """Draw a journey's stages and transitions (gates on the edges) as Mermaid or DOT.

    With --project, draw that project's pinned journey version with its current
    stage highlighted.
    """
    from bompao.definitions.diagram import diagram as draw  # noqa: PLC0415

    current = None
    if project_id is not None:
        engine = _engine(ctx)
        found = engine.get(project_id, ctx.actor())
        compiled = engine.journey(found.journey, found.version)
        if journey not in ("-", compiled.key, compiled.ref):
            raise UsageError(Message("usage.other_journey", id=project_id, ref=compiled.ref,
                                     journey=journey))
        current = found.stage
    else:
        compiled = _journey(ctx, journey)
    text = draw(compiled, fmt, lang=ctx.lang, current=current)
    if output:
        _write(Path(output), text + "\n")
        ctx.emit({"journey": compiled.ref, "format": fmt, "output": output},
                 ctx.say("done.wrote", path=output))
    else:
        ctx.emit({"journey": compiled.ref, "format": fmt, "diagram": text}, text)


@cli.group()
def journeys() -> None:
    """List and inspect journeys (bundled, --journeys and BOMPAO_JOURNEYS)."""


@journeys.command("list")
@pass_ctx
def journeys_list(ctx: Context) -> None:
    """List every journey version with its title, partner and base."""
    from bompao.definitions.describe import summary  # noqa: PLC0415

    rows = []
    for key, version in sorted(ctx.catalog.entries()):
        try:
            rows.append({**summary(ctx.catalog.get(f"{key}@{version}"), ctx.lang),
                         "valid": True})
        except DefinitionError as exc:
            entry = ctx.catalog.entry(key, version)
            rows.append({"journey": key, "version": version, "title": None, "partner": None,
                         "extends": None, "stages": None, "transitions": None,
                         "file": str(entry.path), "valid": False,
                         "problems": [str(d) for d in exc.diagnostics]})
    for problem in ctx.catalog.problems:
        click.echo(printable("warning: " + ctx.say("warn.skipped", problem=diagnostic_text(
            problem.diagnostics[0], ctx.lang))), err=True)
    if ctx.as_json:
        ctx.emit(rows)
        return
    from bompao.engine.views import table  # noqa: PLC0415

    invalid = ctx.say("cell.invalid")
    table(ctx.say("head.journeys").split("|"),
          [[r["journey"], r["version"], r["title"] or invalid, r["partner"] or "",
            r["extends"] or "", r["stages"] or ""] for r in rows])


@journeys.command("show")
@click.argument("journey", metavar="KEY[@VERSION]|PATH")
@pass_ctx
def journeys_show(ctx: Context, journey: str) -> None:
    """Show a journey: stages, gates, follow-ups, fields and evidence."""
    from bompao.definitions.describe import describe  # noqa: PLC0415

    data = describe(_journey(ctx, journey), ctx.lang)
    if ctx.as_json:
        ctx.emit(data)
        return
    from bompao.engine.views import show_journey  # noqa: PLC0415

    show_journey(data, ctx.lang)


def _engine(ctx: Context, *, create: bool = False) -> Any:
    from bompao.engine import Engine  # noqa: PLC0415 - SQLAlchemy only for database commands

    if ctx.config_path:
        ctx.config  # noqa: B018 - loading it applies the operator's [calendars] days
    return Engine.from_url(ctx.db, catalog=ctx.catalog, create=create)


@cli.command()
@pass_ctx
def init(ctx: Context) -> None:
    """Create or upgrade the database and publish the bundled (and --journeys) journeys."""
    ctx.unscoped("init")
    engine = _engine(ctx, create=True)
    published = engine.init()
    refs = [f"{key}@{version}" for key, version in published]
    warnings = _warn_unconfigured(engine, ctx.config, lang=ctx.lang)
    ctx.emit({"database": engine.db.url_display, "published": refs,
              "unconfigured": warnings},
             ctx.say("done.init", database=engine.db.url_display, refs=", ".join(refs)))


@cli.command("audit")
@click.option("--batch", type=click.IntRange(min=1), default=500, show_default=True,
              help="Projects read per consistent snapshot.")
@click.option("--max-findings", type=click.IntRange(min=1), default=100, show_default=True,
              help="Findings listed (the counts stay exact).")
@pass_ctx
def audit_command(ctx: Context, batch: int, max_findings: int) -> None:
    """Check the whole database against the engine's invariants; exit 1 on a violation.

    Replays every project's event log against its stored state, checks gates, event
    sequences, pending follow-ups, follow-up runs and stage visits. Read only.
    """
    from bompao.engine.audit import audit  # noqa: PLC0415

    ctx.unscoped("audit")
    report = audit(_engine(ctx), batch=batch, max_findings=max_findings)
    ctx.emit(report.as_dict(), report.summary(ctx.lang))
    if not report.ok:
        raise SystemExit(1)


@journeys.command("publish")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@pass_ctx
def journeys_publish(ctx: Context, paths: tuple[str, ...]) -> None:
    """Validate and store journey versions; the same content again is a no-op."""
    ctx.unscoped("journeys publish")
    engine = _engine(ctx)
    done = [engine.publish(path) for path in _files(paths)]
    refs = [f"{key}@{version}" for key, version in done]
    warnings = _warn_unconfigured(engine, ctx.config, journeys=done, lang=ctx.lang)
    ctx.emit({"published": refs, "unconfigured": warnings},
             "\n".join(ctx.say("done.published", ref=r) for r in refs))


def _assignments(pairs: tuple[str, ...], what: str) -> dict[str, str]:
    result = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(Message("usage.assignment", what=what, pair=pair))
        result[name.strip()] = value
    return result


def _typed(engine: Any, journey: str, raw: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = engine.journey(*_split_ref(journey)).fields_from_text(raw)
    return values


def _split_ref(ref: str) -> tuple[str, int | None]:
    from bompao.definitions.extends import parse_ref  # noqa: PLC0415

    return parse_ref(ref)


def _show_project(ctx: Context, project: Any, engine: Any) -> None:
    from bompao.engine.times import show_time  # noqa: PLC0415

    data = project.as_dict()
    since = show_time(project.stage_entered_at, _project_zone(engine, project))
    labels = {key: ctx.say(f"project.{key}") for key in
              ("journey", "stage", "partner", "cohort", "flags", "evidence")}
    width = max(_cells(label) for label in labels.values())

    def line(key: str, value: str) -> str:
        return f"  {_pad(labels[key], width)} {value}"

    lines = [ctx.say("project.title", id=data["id"], name=data["name"]),
             line("journey", f"{data['journey']}@{data['version']}"),
             line("stage", ctx.say("project.since", stage=data["stage"], since=since))]
    lines.extend(line(key, data[key]) for key in ("partner", "cohort") if data[key])
    if data["flags"]:
        lines.append(line("flags", ", ".join(data["flags"])))
    for name, value in data["fields"].items():
        lines.append(f"  {name} = {json.dumps(value, ensure_ascii=False)}")
    for role, people in data["assignments"].items():
        lines.append(f"  {role}: {', '.join(people)}")
    lines.extend(line("evidence", name) for name in data["evidence"])
    ctx.emit(data, "\n".join(lines))


@cli.group()
def project() -> None:
    """Create projects and move them through their journeys."""


@project.command("create")
@click.option("--journey", required=True, metavar="KEY[@VERSION]", help="The journey.")
@click.option("--name", required=True, help="The project's name.")
@click.option("--partner", help="The partner organisation.")
@click.option("--cohort", help="The cohort.")
@click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE", help="A field value.")
@click.option("--by", help="Who creates it (recorded in the history).")
@pass_ctx
def project_create(ctx: Context, journey: str, name: str, partner: str | None,
                   cohort: str | None, sets: tuple[str, ...], by: str | None) -> None:
    """Start a project at its journey's initial stage (for the --partner scope's partner)."""
    partner = ctx.scope(partner, "project create --partner")
    engine = _engine(ctx)
    fields = _typed(engine, journey, _assignments(sets, "--set"))
    created = engine.create_project(journey=journey, name=name, partner=partner,
                                    cohort=cohort, fields=fields, actor=ctx.actor(by))
    ctx.emit(created.as_dict(), ctx.say("done.created", id=created.id, stage=created.stage))


@project.command("set")
@click.argument("project_id", type=int, metavar="ID")
@click.argument("pairs", nargs=-1, required=True, metavar="FIELD=VALUE...")
@click.option("--by", help="Who sets them.")
@pass_ctx
def project_set(ctx: Context, project_id: int, pairs: tuple[str, ...], by: str | None) -> None:
    """Set field values (checked against the journey's types)."""
    engine = _engine(ctx)
    actor = ctx.actor(by)
    current = engine.get(project_id, actor)
    values = _typed(engine, f"{current.journey}@{current.version}",
                    _assignments(pairs, "FIELD=VALUE"))
    _show_project(ctx, engine.set_fields(project_id, values, actor=actor), engine)


@project.command("evidence")
@click.argument("project_id", type=int, metavar="ID")
@click.argument("name")
@click.option("--url", help="A link to the evidence.")
@click.option("--note", help="A note about it.")
@click.option("--by", help="Who attaches it.")
@pass_ctx
def project_evidence(ctx: Context, project_id: int, name: str, url: str | None,
                     note: str | None, by: str | None) -> None:
    """Attach a declared evidence item (a link and/or a note)."""
    done = _engine(ctx).add_evidence(project_id, name, url=url, note=note,
                                     actor=ctx.actor(by))
    ctx.emit(done.as_dict(), ctx.say("done.attached", name=name, id=project_id))


@project.command("approve")
@click.argument("project_id", type=int, metavar="ID")
@click.option("--role", required=True, help="The role the approver acts in.")
@click.option("--by", required=True, help="The approver.")
@pass_ctx
def project_approve(ctx: Context, project_id: int, role: str, by: str) -> None:
    """Record an approval (counted since the stage was entered).

    The operator's CLI is trusted: it approves as --by acting in --role (within the
    session's --partner scope). A quorum counts distinct people.
    """
    done = _engine(ctx).approve(project_id, role=role, actor=ctx.actor(by, role))
    count = len(done.approvals.get(role, []))
    ctx.emit(done.as_dict(), ctx.say("done.approved", by=by, id=project_id, role=role,
                                     count=count))


@project.command("assign")
@click.argument("project_id", type=int, metavar="ID")
@click.option("--role", required=True, help="The role, e.g. coach.")
@click.option("--to", "person", required=True, help="The person.")
@click.option("--by", help="Who assigns (recorded in the history).")
@click.option("--as", "acting", metavar="ROLE",
              help="The role --by assigns in (a journey with assign_roles needs one of them).")
@pass_ctx
def project_assign(ctx: Context, project_id: int, role: str, person: str, by: str | None,
                   acting: str | None) -> None:
    """Assign a person to a role on the project."""
    if acting and not by:
        raise UsageError(Message("usage.needs_by", option="--as"))
    done = _engine(ctx).assign(project_id, role=role, person=person,
                               actor=ctx.actor(by, acting))
    ctx.emit(done.as_dict(), ctx.say("done.assigned", person=person, role=role, id=project_id))


def _print_report(ctx: Context, report: Any) -> None:
    data = report.as_dict()
    if ctx.as_json:
        ctx.emit(data)
        return
    verdict = ctx.say("check.passable" if report.passable else "check.not_passable")
    if len(report.branches) > 1:
        _print_branches(ctx, report, verdict)
        return
    click.echo(ctx.say("check.verdict", id=report.project, trigger=report.trigger,
                       source=report.from_stage, dest=report.to_stage, verdict=verdict))
    _print_criteria(report.criteria, "  ")


def _print_criteria(criteria: Any, indent: str) -> None:
    for criterion in criteria:
        mark = "[x]" if criterion.met else "[ ]"
        seen = ", ".join(f"{k}={v}" for k, v in criterion.seen.items())
        click.echo(printable(f"{indent}{mark} {criterion.says}" + (f"  ({seen})" if seen else "")))


def _print_branches(ctx: Context, report: Any, verdict: str) -> None:
    """A transition with branches: which one would be taken, and what each gate says."""
    count = len(report.branches)
    if report.branch is not None:
        outcome = ctx.say("check.branch_taken", number=report.branch + 1, count=count,
                          dest=report.to_stage)
    else:
        outcome = ctx.say("check.no_branch", dest=report.to_stage)
    click.echo(ctx.say("check.branches", id=report.project, trigger=report.trigger,
                       source=report.from_stage, verdict=verdict, outcome=outcome))
    for number, branch in enumerate(report.branches, 1):
        state = ctx.say("check.passable" if branch.passable else "check.not_passable")
        taken = ctx.say("check.taken") if report.branch == number - 1 else ""
        click.echo("  " + ctx.say("check.branch", number=number, dest=branch.to_stage,
                                  state=state, taken=taken))
        _print_criteria(branch.criteria, "     ")


@project.command("check")
@click.argument("project_id", type=int, metavar="ID")
@click.argument("trigger", required=False)
@pass_ctx
def project_check(ctx: Context, project_id: int, trigger: str | None) -> None:
    """Report a gate criterion by criterion; exit 0 when passable, 1 when not."""
    report = _engine(ctx).check(project_id, trigger, actor=ctx.actor(), lang=ctx.lang)
    _print_report(ctx, report)
    if not report.passable:
        raise SystemExit(1)


@project.command("advance")
@click.argument("project_id", type=int, metavar="ID")
@click.argument("trigger")
@click.option("--by", help="Who fires the trigger.")
@click.option("--role", help="The role they act in (checked against the transition).")
@click.option("--partner", help="Act for this partner only (as bompao --partner does).")
@click.option("--override", is_flag=True, help="Pass an unmet gate (allowed roles only).")
@click.option("--reason", help="Why the gate is overridden.")
@pass_ctx
def project_advance(ctx: Context, project_id: int, trigger: str, by: str | None,
                    role: str | None, partner: str | None, override: bool,
                    reason: str | None) -> None:
    """Fire a trigger; exit 1 with the unmet criteria when the gate refuses."""
    from bompao.errors import GateRefused  # noqa: PLC0415

    if role and not by:
        raise UsageError(Message("usage.needs_by", option="--role"))
    actor = ctx.actor(by, role, partner)
    engine = _engine(ctx)
    try:
        moved = engine.advance(project_id, trigger, actor,
                               override=override, reason=reason)
    except GateRefused as refused:
        if ctx.as_json and refused.report is not None:
            from bompao.definitions.messages import error_text  # noqa: PLC0415

            ctx.emit({**refused.report.as_dict(), "error": str(refused),
                      "message": error_text(refused, ctx.lang)})
            raise SystemExit(1) from None
        raise
    ctx.emit(moved.as_dict(), ctx.say("done.advanced", id=project_id, stage=moved.stage))


@project.command("show")
@click.argument("project_id", type=int, metavar="ID")
@pass_ctx
def project_show(ctx: Context, project_id: int) -> None:
    """Show a project's stage, fields, flags, people and evidence."""
    engine = _engine(ctx)
    _show_project(ctx, engine.get(project_id, ctx.actor()), engine)


@project.command("history")
@click.argument("project_id", type=int, metavar="ID")
@pass_ctx
def project_history(ctx: Context, project_id: int) -> None:
    """Show who did what and when (times in the journey's timezone)."""
    from bompao.engine.times import show_time  # noqa: PLC0415

    engine = _engine(ctx)
    actor = ctx.actor()
    where = _project_zone(engine, engine.get(project_id, actor))
    rows = [e.as_dict() for e in engine.history(project_id, actor)]
    kinds = {r["kind"]: _pad(_event_kind(ctx, r["kind"]), 15) for r in rows}
    human = "\n".join(
        f"{r['seq']:>4}  {show_time(r['at'], where)}  {kinds[r['kind']]} "
        f"{r['actor'] or '-':<12} "
        f"{(r['from'] or '') + (' -> ' + r['to'] if r['to'] else '')}" for r in rows)
    ctx.emit(rows, human)


def _cells(text: str) -> int:
    """The columns ``text`` takes on a terminal (Thai vowels and tone marks take none)."""
    from rich.cells import cell_len  # noqa: PLC0415

    return cell_len(text)


def _pad(text: str, width: int) -> str:
    """``text`` padded with spaces to ``width`` terminal columns."""
    return text + " " * max(0, width - _cells(text))


def _event_kind(ctx: Context, kind: str) -> str:
    """An event's kind in the session's language (as stored when the catalogue lacks it)."""
    from bompao.definitions.messages import CATALOGUE  # noqa: PLC0415

    return ctx.say(f"event.{kind}") if f"event.{kind}" in CATALOGUE else kind


@project.command("list")
@click.option("--journey", help="Only this journey key.")
@click.option("--stage", help="Only projects in this stage.")
@click.option("--partner", help="Only this partner's projects.")
@click.option("--cohort", help="Only this cohort.")
@pass_ctx
def project_list(ctx: Context, journey: str | None, stage: str | None, partner: str | None,
                 cohort: str | None) -> None:
    """List projects."""
    partner = ctx.scope(partner, "project list --partner")
    found = _engine(ctx).list_projects(journey=journey, stage=stage, partner=partner,
                                       cohort=cohort, actor=ctx.actor())
    if ctx.as_json:
        ctx.emit([p.as_dict() for p in found])
        return
    from bompao.engine.views import table  # noqa: PLC0415

    table(ctx.say("head.projects").split("|"),
          [[p.id, p.name, f"{p.journey}@{p.version}", p.stage, p.partner, p.cohort,
            ", ".join(p.flags)] for p in found])


@project.command("export")
@click.option("--journey", help="Only this journey key.")
@click.option("--partner", help="Only this partner's projects.")
@click.option("--cohort", help="Only this cohort.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "xlsx"]), default="csv",
              show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE.")
@click.option("--bom", is_flag=True, help="csv: a UTF-8 byte order mark, for Excel.")
@pass_ctx
def project_export(ctx: Context, journey: str | None, partner: str | None, cohort: str | None,
                   fmt: str, output: str | None, bom: bool) -> None:
    """Export projects (stage, people, flags and every field) as CSV, JSON or xlsx."""
    from bompao.engine.transfer import export_projects, write_rows  # noqa: PLC0415

    partner = ctx.scope(partner, "project export --partner")
    if bom and (fmt != "csv" or ctx.as_json):
        raise UsageError(Message("impact.bom_needs_csv"))
    if fmt == "xlsx" and not output:
        raise UsageError(Message("impact.xlsx_needs_output"))
    rows = export_projects(_engine(ctx), journey=journey, partner=partner, cohort=cohort,
                           actor=ctx.actor())
    if fmt == "xlsx" and not ctx.as_json:  # issue 13: engine/xlsx.py
        from bompao.engine.xlsx import projects_workbook  # noqa: PLC0415

        path = Path(str(output))
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            tmp.write_bytes(projects_workbook(rows))
            tmp.replace(path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise UsageError(Message("file.cannot_write", path=str(path),
                                     reason=exc.strerror)) from None
        click.echo(ctx.say("done.exported", count=len(rows), path=output), err=True)
        return
    text = write_rows(rows, "json" if ctx.as_json else fmt)
    if bom:
        text = "\ufeff" + text
    if output:
        _write(Path(output), text)
        click.echo(ctx.say("done.exported", count=len(rows), path=output), err=True)
    else:
        click.echo(text.rstrip("\n"))


@project.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--journey", metavar="KEY[@VERSION]", help="For rows without a journey column.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "xlsx"]),
              help="Default: from the file's extension.")
@click.option("--dry-run", is_flag=True, help="Check every row; write nothing.")
@click.option("--by", help="Who imports (recorded in the history).")
@pass_ctx
def project_import(ctx: Context, path: str, journey: str | None, fmt: str | None,
                   dry_run: bool, by: str | None) -> None:
    """Import projects from CSV or JSON: every row is checked first; any bad row and
    nothing is written (each bad row is listed)."""
    from bompao.engine.transfer import decode, import_projects, read_rows  # noqa: PLC0415

    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise UsageError(Message("file.missing", path=path)) from None
    except OSError as exc:
        raise UsageError(Message("file.cannot_read", path=path, reason=exc.strerror)) from None
    kind = fmt or {".json": "json", ".xlsx": "xlsx"}.get(file.suffix.lower(), "csv")
    if kind == "xlsx":  # issue 13: the first sheet, through the CSV import's checks
        from bompao.engine.xlsx import import_rows  # noqa: PLC0415

        rows = import_rows(data, path)
    else:
        rows = read_rows(decode(data, path), kind)
    ids = import_projects(_engine(ctx), rows, journey=journey, actor=ctx.actor(by),
                          dry_run=dry_run)
    count = len(ids) if not dry_run else len(rows)
    ctx.emit({"imported": ids, "dry_run": dry_run, "count": count},
             ctx.say("done.would_import" if dry_run else "done.imported", count=count)
             + (ctx.say("done.import_ids", first=ids[0], last=ids[-1]) if ids else ""))


@project.command("migrate")
@click.argument("project_id", type=int, metavar="ID")
@click.option("--to", "to_version", type=int, required=True, help="The journey version.")
@click.option("--map", "maps", multiple=True, metavar="OLD=NEW", help="Rename a stage.")
@click.option("--dry-run", is_flag=True, help="Say what would change; write nothing.")
@pass_ctx
def project_migrate(ctx: Context, project_id: int, to_version: int, maps: tuple[str, ...],
                    dry_run: bool) -> None:
    """Move a project to another version of its journey."""
    plan = _engine(ctx).migrate(project_id, to_version, _assignments(maps, "--map"),
                                dry_run=dry_run, actor=ctx.actor())
    ctx.emit(plan, ctx.say("done.would_migrate" if dry_run else "done.migrated",
                           id=project_id, from_version=plan["from_version"],
                           from_stage=plan["from_stage"], to_version=plan["to_version"],
                           to_stage=plan["to_stage"]))


def _time(text: str | None, where: Any = None) -> Any:
    """A typed time; without an offset it is local to ``where`` (a zone name), which is
    the journey's timezone or the operator's ``timezone`` setting."""
    if text is None:
        return None
    from bompao.engine.times import parse_time  # noqa: PLC0415

    return parse_time(text, where)


def _project_zone(engine: Any, project: Any) -> str:
    """The timezone of a project's journey."""
    return str(engine.journey(project.journey, project.version).timezone)


@cli.group()
def scheduler() -> None:
    """Run follow-ups: the daemon, or one catch-up pass."""


@scheduler.command("run")
@click.option("--once", is_flag=True, help="Run what is due, then exit (for cron and tests).")
@click.option("--now", "now_text", metavar="TIME",
              help="With --once: run what is due at TIME (ISO 8601; without an offset, in the "
              "operator's timezone setting, default Asia/Bangkok).")
@click.option("--name", metavar="NAME",
              help="This daemon's name (default: [scheduler] name, BOMPAO_DAEMON_NAME, "
              "HOST-PID); a name a live daemon holds is refused.")
@click.option("--metrics-port", type=click.IntRange(1, 65535), metavar="PORT",
              envvar="BOMPAO_METRICS_PORT",
              help="Serve Prometheus metrics (runs, failures, lag) on this port "
              "(env BOMPAO_METRICS_PORT).")
@pass_ctx
def scheduler_run(ctx: Context, once: bool, now_text: str | None, name: str | None,
                  metrics_port: int | None) -> None:
    """Run due follow-ups: as a daemon until SIGTERM/SIGINT, or once with --once."""
    import dataclasses  # noqa: PLC0415
    import logging  # noqa: PLC0415

    ctx.unscoped("scheduler run")
    if now_text and not once:
        raise UsageError(Message("usage.now_needs_once"))
    if name is not None and not name.strip():
        raise UsageError(Message("usage.daemon_name"))
    config = ctx.config
    if name is not None:
        config = dataclasses.replace(config, daemon_name=name.strip())
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    engine = _engine(ctx)
    _warn_unconfigured(engine, config, lang=ctx.lang)
    alive_within = max(90.0, 3 * config.poll_interval)
    if once:
        from bompao.engine.dispatch import Dispatcher  # noqa: PLC0415
        from bompao.engine.observe import Heartbeat  # noqa: PLC0415

        heartbeat = Heartbeat(engine, config.daemon_name, engine.now(),
                              alive_within=alive_within)
        heartbeat.claim()
        try:
            result = Dispatcher(engine, config).run_due(_time(now_text, config.timezone))
        finally:
            heartbeat.drop()
    else:
        from bompao.engine.scheduler import Daemon  # noqa: PLC0415

        daemon = Daemon(engine, config, None, alive_within=alive_within)
        daemon.heartbeat.claim()  # refuse a taken name before opening the metrics port
        if metrics_port is not None:
            from bompao.engine.observe import Metrics  # noqa: PLC0415

            try:
                daemon.metrics = Metrics(metrics_port, config.daemon_name)
            except BompaoError:
                daemon.heartbeat.drop()
                raise
        result = daemon.run()
    summary = result.as_dict()
    ctx.emit({**summary, "runs": result.outcomes}, ctx.say("scheduler.summary", **summary))


def _warn_unconfigured(engine: Any, config: Any, journeys: Any = None, *, lang: str = "en"
                       ) -> list[dict[str, Any]]:
    """Print a ``warning:`` line per follow-up whose endpoint or channel the operator
    configuration lacks (it would fail when it falls due); return them."""
    from bompao.engine.observe import unconfigured  # noqa: PLC0415

    found = unconfigured(engine, config, journeys)
    for problem in found:
        click.echo(printable(f"warning: {localise(problem['message'], lang)}"), err=True)
    return found


@scheduler.command("status")
@pass_ctx
def scheduler_status(ctx: Context) -> None:
    """Show the live daemons, the lag of the oldest due follow-up, the failed ones and the
    follow-ups that will fail because the configuration lacks their endpoint or channel."""
    from bompao.engine.observe import status, unconfigured  # noqa: PLC0415

    ctx.unscoped("scheduler status")
    config = ctx.config
    engine = _engine(ctx)
    found = status(engine, alive_within=max(90.0, 3 * config.poll_interval))
    found["unconfigured"] = unconfigured(engine, config)
    if ctx.as_json:
        ctx.emit(found)
        return
    live = [d for d in found["daemons"] if d["alive"]]
    silent = len(found["daemons"]) - len(live)
    lines = [ctx.say("scheduler.daemons", alive=len(live))
             + (ctx.say("scheduler.silent", count=silent) if silent else "")]
    lines.extend(ctx.say("scheduler.daemon", name=d["name"], pid=d["pid"], host=d["host"],
                         beat=d["heartbeat_at"])
                 + ("" if d["alive"] else ctx.say("scheduler.daemon_silent"))
                 for d in found["daemons"])
    lines.append(ctx.say("scheduler.due", due=found["due"], lag=found["lag_seconds"]))
    lines.append(ctx.say("scheduler.failed", count=found["failed"]))
    lines.extend(ctx.say("scheduler.failed_one", id=f["id"], project=f["project"],
                         spec=f["spec"], action=f["action"], error=f["error"])
                 for f in found["failed_recent"])
    if found["unconfigured"]:
        lines.append(ctx.say("scheduler.unconfigured", count=len(found["unconfigured"])))
        lines.extend(f"  {localise(p['message'], ctx.lang)}" for p in found["unconfigured"])
    click.echo("\n".join(lines))


@scheduler.command("forget")
@click.argument("name", metavar="NAME")
@pass_ctx
def scheduler_forget(ctx: Context, name: str) -> None:
    """Clear the heartbeat of daemon NAME, which died without stopping (a live one is
    refused: stop it instead)."""
    ctx.unscoped("scheduler forget")
    from bompao.engine.observe import forget  # noqa: PLC0415

    config = ctx.config
    forget(_engine(ctx), name, alive_within=max(90.0, 3 * config.poll_interval))
    ctx.emit({"forgotten": name}, ctx.say("done.forgot", name=name))


@cli.group()
def followups() -> None:
    """Inspect planned, done and failed follow-ups."""


@followups.command("list")
@click.option("--due", is_flag=True, help="Only pending ones due now (or at --now).")
@click.option("--now", "now_text", metavar="TIME",
              help="The time for --due (ISO 8601; without an offset, in the project's journey "
              "timezone with --project, else the operator's timezone setting).")
@click.option("--project", "project_id", type=int, metavar="ID", help="Only this project's.")
@click.option("--status", help="Only pending, running, done, failed or cancelled.")
@click.option("--limit", type=click.IntRange(min=1), default=1000, show_default=True)
@pass_ctx
def followups_list(ctx: Context, due: bool, now_text: str | None, project_id: int | None,
                   status: str | None, limit: int) -> None:
    """List follow-ups, soonest first, with failures and their errors."""
    engine = _engine(ctx)
    where = ctx.config.timezone if project_id is None else _project_zone(
        engine, engine.get(project_id, ctx.actor()))
    due_by = (_time(now_text, where) or engine.now()) if due else None
    rows = engine.list_follow_ups(project=project_id, due_by=due_by, status=status,
                                  limit=limit, actor=ctx.actor())
    if ctx.as_json:
        ctx.emit(rows)
        return
    from bompao.engine.times import show_time  # noqa: PLC0415
    from bompao.engine.views import table  # noqa: PLC0415

    # due_at is already in each follow-up's journey timezone: shown in its own offset
    table(ctx.say("head.followups").split("|"),
          [[r["id"], r["project"], r["stage"], f"{r['spec']}#{r['occurrence']}", r["action"],
            show_time(r["due_at"]), r["status"],
            r["last_error"] or ""] for r in rows])


@followups.command("retry")
@click.argument("ids", nargs=-1, type=int, metavar="[ID]...")
@click.option("--failed", "all_failed", is_flag=True, help="Every failed follow-up (with "
              "--project and --since to narrow).")
@click.option("--project", "project_id", type=int, metavar="ID",
              help="With --failed: only this project's.")
@click.option("--since", metavar="TIME", help="With --failed: only those that failed at or "
              "after TIME (ISO 8601).")
@pass_ctx
def followups_retry(ctx: Context, ids: tuple[int, ...], all_failed: bool,
                    project_id: int | None, since: str | None) -> None:
    """Put failed follow-ups back to pending, due now; a notify resends only the channels
    that failed. Give IDs, or --failed."""
    ctx.unscoped("followups retry")
    if bool(ids) == all_failed:
        raise UsageError(Message("usage.ids_or_failed"))
    if ids and (project_id is not None or since is not None):
        raise UsageError(Message("usage.with_failed"))
    engine = _engine(ctx)
    from bompao.engine.observe import retry  # noqa: PLC0415

    done = retry(engine, list(ids) if ids else None, project=project_id,
                 since=_time(since, ctx.config.timezone), partner=ctx.scope(None, "--partner"))
    ctx.emit(done, ctx.say("done.retry_one" if len(done) == 1 else "done.retry_many",
                           count=len(done)))


@cli.command()
@click.argument("name", type=click.Choice(["funnel", "stages", "at-risk", "coaches",
                                          "impact", "alumni"]))
@click.option("--journey", help="The journey key (default: the one with most projects).")
@click.option("--version", "version", type=int, help="Only this journey version.")
@click.option("--partner", help="Only this partner's projects.")
@click.option("--cohort", help="Only this cohort.")
@click.option("--since", metavar="TIME", help="Only stage entries at or after TIME (ISO 8601; "
              "without an offset, in the journey's timezone).")
@click.option("--until", metavar="TIME", help="Only stage entries before TIME (as --since).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "html", "xlsx"]),
              default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE.")
@click.option("--bom", is_flag=True, help="impact, csv: a UTF-8 byte order mark for Excel.")
@click.option("--view", default="indicators", show_default=True,
              help="impact, table/csv: indicators, projects or tags.")
@pass_ctx
def report(ctx: Context, name: str, journey: str | None, version: int | None,
           partner: str | None, cohort: str | None, since: str | None, until: str | None,
           fmt: str, output: str | None, bom: bool, view: str) -> None:
    """Program reports: funnel, time in stage, at-risk projects, coach workload, impact.

    --format html writes the whole self-contained report (diagram, charts, at-risk
    list, every project's stage) whichever NAME is given.
    """
    from bompao.engine.reports import Filters, Reports  # noqa: PLC0415

    partner = ctx.scope(partner, "report --partner")
    engine = _engine(ctx)
    key = journey or _busiest_journey(engine, partner)
    compiled = engine.journey(key, version)
    if name in ("impact", "alumni"):  # issue 13: cli_indicators.py
        from bompao.cli_indicators import alumni, impact  # noqa: PLC0415

        shown = "json" if ctx.as_json else fmt
        if name == "alumni":
            alumni(ctx, engine, key, (partner, cohort), shown, output)
        else:
            impact(ctx, engine, key, (partner, cohort), shown, output, bom=bom, view=view)
        return
    if fmt == "xlsx":
        raise UsageError(f"--format xlsx is for report impact and alumni; report {name} gives "
                         "table, json, csv or html")
    filters = Filters(key, version, partner, cohort, _time(since, compiled.timezone),
                      _time(until, compiled.timezone))
    labels = {n: s.label(ctx.lang) for n, s in compiled.stages.items()}
    if fmt == "html":
        from bompao.engine.html import render_report  # noqa: PLC0415

        path = Path(output or f"bompao-report-{key}.html")
        _write(path, render_report(engine, filters, lang=ctx.lang))
        ctx.emit({"report": "html", "journey": key, "output": str(path)},
                 ctx.say("done.wrote", path=path))
        return
    rows = Reports(engine).run(name, filters)
    if fmt == "json" or ctx.as_json:
        text = json.dumps(rows, ensure_ascii=False, indent=2, default=str)
    elif fmt == "csv":
        import csv  # noqa: PLC0415
        import io  # noqa: PLC0415

        from bompao.engine.views import report_cells  # noqa: PLC0415

        headers, cells = report_cells(name, rows, ctx.lang, labels)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(headers)
        writer.writerows(cells)
        text = buffer.getvalue()
    else:
        if output:
            raise UsageError(Message("usage.table_output"))
        from bompao.engine.views import report_table  # noqa: PLC0415

        report_table(name, rows, ctx.lang, labels)
        return
    if output:
        _write(Path(output), text if text.endswith("\n") else text + "\n")
        click.echo(ctx.say("done.wrote", path=output), err=True)
    else:
        click.echo(text.rstrip("\n"))


@cli.command()
@click.option("--journey", required=True, metavar="KEY", help="The journey to forecast.")
@click.option("--version", "version", type=int, help="Forecast with this journey version "
              "(default: the latest); history is read for every version.")
@click.option("--partner", help="Learn only from this partner's projects.")
@click.option("--projects", type=int, default=20, show_default=True,
              help="Projects in the cohort, all starting in the initial stage.")
@click.option("--months", type=int, default=12, show_default=True,
              help="Months to follow the cohort.")
@click.option("--runs", type=int, default=1000, show_default=True,
              help="Monte Carlo runs (more runs, steadier figures).")
@click.option("--seed", type=int, help="Random seed: the same seed gives the same forecast.")
@click.option("--coach-role", default="coach", show_default=True, metavar="ROLE",
              help="The role whose load is forecast.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "html"]), default="table",
              show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write to FILE (html: default bompao-forecast-KEY.html).")
@pass_ctx
def simulate(ctx: Context, journey: str, version: int | None, partner: str | None,
             projects: int, months: int, runs: int, seed: int | None, coach_role: str,
             fmt: str, output: str | None) -> None:
    """Forecast a cohort: how many projects reach each stage by month M (mean, 10-90%).

    A Monte Carlo simulation: each stage moves projects on as its finished visits in
    the event log did (days spent and stage entered next, drawn at random), or, with
    fewer than 5 such visits, after its expected_duration (plus the main way out's
    min_time_in_stage) by the first transition declared from it. A follow-up
    'action: transition' that always succeeds cuts stays at its time. Coach load per
    month = projects in stages whose follow-ups notify ROLE x coaches per project
    (the observed mean, else 1). --format json gives
    {"runs", "months", "stages": {STAGE: {"mean", "p10", "p90"}}, ...}.
    """
    ctx.unscoped("simulate")
    from bompao.engine.simulate import forecast, observe  # noqa: PLC0415

    partner = ctx.scope(partner, "simulate --partner")
    engine = _engine(ctx)
    compiled = engine.journey(journey, version)
    observed = observe(engine, journey, partner=partner, coach_role=coach_role)
    result = forecast(compiled, observed, projects=projects, months=months, runs=runs,
                      seed=seed, coach_role=coach_role)
    if fmt == "json" or (ctx.as_json and fmt == "table"):
        text = json.dumps(result.as_dict(), ensure_ascii=False, indent=2)
    elif fmt == "html":
        from bompao.engine.forecast_views import forecast_html  # noqa: PLC0415

        path = Path(output or f"bompao-forecast-{journey}.html")
        _write(path, forecast_html(result, ctx.lang))
        ctx.emit({"forecast": "html", "journey": compiled.ref, "output": str(path)},
                 ctx.say("done.wrote", path=path))
        return
    else:
        from bompao.engine.forecast_views import forecast_table  # noqa: PLC0415

        text = forecast_table(result, ctx.lang)
    if output:
        _write(Path(output), text + "\n")
        ctx.emit({"forecast": fmt, "journey": compiled.ref, "output": output},
                 ctx.say("done.wrote", path=output))
    else:
        click.echo(printable(text))


@cli.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=".",
              show_default=True, help="Where bompao-demo.db and the HTML report go.")
@click.option("--days", type=click.IntRange(30, 2000), default=455, show_default=True,
              help="How many simulated days (by default a month's call, then 14 months).")
@click.option("--seed", type=int, default=7, show_default=True, help="The story's seed.")
@click.option("--serve", is_flag=True, help="Then open the demo cohort in the web app "
              "(bompao serve), with two demo sign-ins printed once.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535),
              help="With --serve: the port to listen on (127.0.0.1).")
@pass_ctx
def demo(ctx: Context, out_dir: str, days: int, seed: int, serve: bool, port: int) -> None:
    """Take a call of 30 applicants down to a cohort of twelve, then the cohort through
    social-incubator on a simulated clock.

    Applications come in through the form, reviewers are assigned by load and score on
    the rubric, the best twelve are admitted and the others declined (cohort select).
    Fields are filled, evidence attached, coaches assigned and approving, gates refuse
    and then pass, follow-ups fire through the real scheduler code, some projects are
    flagged at risk, stalled or withdrawn, two are handed off. Uses a fresh SQLite file
    (OUT/bompao-demo.db) unless --db is given, and writes the HTML report beside it.
    """
    from rich.progress import Progress  # noqa: PLC0415

    from bompao.engine.demo import run_demo  # noqa: PLC0415
    from bompao.engine.html import render_report  # noqa: PLC0415
    from bompao.engine.reports import Filters, Reports  # noqa: PLC0415

    ctx.unscoped("demo")
    folder = Path(out_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(Message("file.cannot_create", path=out_dir,
                                 reason=exc.strerror)) from None
    source = click.get_current_context().find_root().get_parameter_source("db")
    if source is not click.core.ParameterSource.COMMANDLINE:
        # only an explicit --db: BOMPAO_DATABASE_URL may name a production database
        database = folder / "bompao-demo.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        ctx.db = f"sqlite:///{database}"
    engine = _engine(ctx, create=True)
    engine.init()
    with Progress(transient=True, disable=ctx.as_json) as bar:
        task = bar.add_task(ctx.say("demo.progress"), total=days)
        result = run_demo(engine, days=days, seed=seed,
                          progress=lambda day: bar.update(task, completed=day))
    filters = Filters("social-incubator")
    report_path = folder / "bompao-demo-report.html"
    _write(report_path, render_report(engine, filters, lang=ctx.lang))
    funnel = Reports(engine).funnel(filters)
    summary = {"database": engine.db.url_display, "report": str(report_path),
               "projects": len(result.projects), "advanced": result.advanced,
               "refused": result.refused, "follow_ups": result.follow_ups,
               "stages": result.stages, "funnel": funnel, "intake": result.intake}
    if ctx.as_json:
        ctx.emit(summary)
        if serve:
            _demo_serve(ctx, engine, port)
        return
    from bompao.engine.views import report_table  # noqa: PLC0415

    compiled = engine.journey("social-incubator")
    report_table("funnel", funnel, ctx.lang,
                 {n: s.label(ctx.lang) for n, s in compiled.stages.items()})
    runs = sum(result.follow_ups.values())
    click.echo(ctx.say("demo.intake", **(result.intake or {})))
    click.echo(ctx.say("demo.summary", projects=len(result.projects), advanced=result.advanced,
                       refused=result.refused, runs=runs))
    click.echo(ctx.say("demo.database", database=engine.db.url_display))
    click.echo(ctx.say("demo.report", path=report_path))
    if serve:
        _demo_serve(ctx, engine, port)


def _demo_serve(ctx: Context, engine: Any, port: int) -> None:
    """``demo --serve``: the demo's sign-ins, then ``bompao serve`` on its database."""
    from bompao.web.demo import demo_users  # noqa: PLC0415
    from bompao.web.server import run  # noqa: PLC0415

    for username, password in demo_users(engine.db):
        click.echo(ctx.say("page.demo.user", username=username, password=password))
    click.echo(ctx.say("page.demo.serving", url=f"http://127.0.0.1:{port}/"))
    engine.close()
    run(ctx, host="127.0.0.1", port=port, workers=1)


def _busiest_journey(engine: Any, partner: str | None) -> str:
    """The journey with the most projects (of ``partner`` when given)."""
    from bompao.storage.repository import busiest_journey  # noqa: PLC0415

    with engine.db.begin(write=False) as conn:
        found = busiest_journey(conn, partner)
    return str(found or "social-incubator")


def _lang_of(args: list[str]) -> str:
    """The ``--lang`` given in ``args`` (for messages printed after click is done)."""
    for index, arg in enumerate(args):
        if arg == "--lang" and index + 1 < len(args) and args[index + 1] in ("en", "th"):
            return args[index + 1]
        if arg in ("--lang=en", "--lang=th"):
            return arg.removeprefix("--lang=")
    return _default_lang()


def _fail(message: str, code: int) -> NoReturn:
    for line in message.splitlines() or [""]:
        click.echo(printable(line if line.startswith("error:") or _DIAGNOSTIC.match(line)
                             else f"error: {line}"), err=True)
    raise SystemExit(code)


def _sqlalchemy_error() -> tuple[type[BaseException], ...]:
    """SQLAlchemy's error class and the drivers' (the hot path runs on the driver's
    connection) if they are loaded (commands that never opened a database cannot raise
    them), else a class nothing raises."""
    found: list[type[BaseException]] = [_Never]
    for name, attribute in (("sqlalchemy.exc", "SQLAlchemyError"), ("sqlite3", "Error"),
                            ("psycopg", "Error")):
        module = sys.modules.get(name)
        if module is not None:
            found.append(getattr(module, attribute))
    return tuple(found)


class _Never(Exception):
    """Raised by nothing."""


register_indicators(project, pass_ctx, _engine)
register_web(cli)  # bompao users | tokens | serve
register_intake(cli, project, pass_ctx, _engine)  # reviews, cohort, coaches, project score|session


def main(argv: list[str] | None = None) -> None:
    """Run the CLI with bompao's error handling and exit codes."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or bool(os.environ.get("BOMPAO_DEBUG"))
    lang = _lang_of(args)
    with speaking(lang):  # click's own usage messages in the reader's language
        _run(args, lang, debug=debug)


def _run(args: list[str], lang: str, *, debug: bool) -> None:
    try:
        cli.main(args=args, prog_name="bompao", standalone_mode=False)
    except click.exceptions.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except click.exceptions.Abort:
        _fail(text("fail.aborted", lang), 1)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else "")
        raise SystemExit(0) from None
    except click.ClickException as exc:
        hint = ""
        context = getattr(exc, "ctx", None)
        if context is not None:
            hint = text("usage.see_help", lang, command=context.command_path)
        _fail(f"{exc.format_message()}{hint}", 2)
    except DefinitionError as exc:
        if debug:
            raise
        for diagnostic in exc.diagnostics:
            click.echo(printable(diagnostic_text(diagnostic, lang)), err=True)
        raise SystemExit(exc.exit_code) from None
    except BompaoError as exc:
        if debug:
            raise
        from bompao.definitions.messages import error_text  # noqa: PLC0415

        _fail(error_text(exc, lang), exc.exit_code)
    except KeyboardInterrupt:
        _fail(text("fail.interrupted", lang), 130)
    except _sqlalchemy_error() as exc:
        if debug:
            raise
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        _fail(text("fail.database", lang, reason=reason), 1)
    except BrokenPipeError:
        raise SystemExit(0) from None
    except Exception as exc:
        if debug:
            raise
        _fail(text("fail.internal", lang, kind=type(exc).__name__, error=exc), 1)


if __name__ == "__main__":
    main()
