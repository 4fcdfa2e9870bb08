"""The ``bompao`` command: a thin layer of click over the library.

Every command accepts the global ``--json`` (machine-readable stdout), ``--lang``
and ``--journeys``. Errors are one line on stderr starting ``error:``; exit codes
are 0 done, 1 refused, 2 bad usage or input. ``--debug`` shows tracebacks.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from bompao.errors import BompaoError, DefinitionError, NotFound, UsageError

if TYPE_CHECKING:
    from bompao.definitions import CompiledJourney, JourneyCatalog

__all__ = ["cli", "main"]

DEFAULT_DB = "sqlite:///bompao.db"


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
    journey_dirs: tuple[str, ...] = ()
    lang: str = "en"
    as_json: bool = False
    debug: bool = False
    _catalog: JourneyCatalog | None = field(default=None, repr=False)

    @property
    def catalog(self) -> JourneyCatalog:
        """The journeys: bundled, ``$BOMPAO_JOURNEYS`` and ``--journeys``."""
        if self._catalog is None:
            from bompao.definitions import JourneyCatalog  # noqa: PLC0415 - lazy for speed

            self._catalog = JourneyCatalog.from_env(self.journey_dirs)
        return self._catalog

    def emit(self, data: Any, human: str | None = None) -> None:
        """Print ``data`` as JSON under ``--json``, else ``human`` (or nothing)."""
        if self.as_json:
            click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        elif human is not None:
            click.echo(human)


pass_ctx = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--db", envvar="BOMPAO_DATABASE_URL", default=DEFAULT_DB, show_default=True,
              metavar="URL", help="Database URL (env BOMPAO_DATABASE_URL): sqlite:///FILE "
              "or postgresql+psycopg://USER@HOST/DB.")
@click.option("--journeys", "journey_dirs", multiple=True, metavar="DIR",
              help="A directory of journey files to add to the bundled ones (repeatable; "
              "env BOMPAO_JOURNEYS, separated by ':').")
@click.option("--lang", type=click.Choice(["en", "th"]), default=None,
              help="Language of messages, titles and reports (default: from LANG).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@click.option("--debug", is_flag=True, help="Show Python tracebacks for errors.")
@click.version_option(package_name="bompao")
@click.pass_context
def cli(ctx: click.Context, db: str, journey_dirs: tuple[str, ...], lang: str | None,
        as_json: bool, debug: bool) -> None:
    """bompao (บ่มเพาะ): run incubation journeys — YAML journeys, gates and follow-ups."""
    ctx.obj = Context(db=db, journey_dirs=journey_dirs, lang=lang or _default_lang(),
                      as_json=as_json, debug=debug)


def _files(paths: tuple[str, ...]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
            if not found:
                raise NotFound(f"no .yaml files in directory {raw!r}")
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            raise NotFound(f"no such file or directory: {raw!r}")
    return files


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@pass_ctx
def validate(ctx: Context, paths: tuple[str, ...]) -> None:
    """Check journey files (or directories of them); print every problem with its position.

    Exit 0 when all are valid, 1 when any is not. A file may extend a bundled
    journey, one in --journeys, or another file given here.
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
        try:
            journey = compile_source(source, resolve=resolve)
        except DefinitionError as exc:
            results.append({"file": source.file, "ok": False,
                            "diagnostics": [d.as_dict() for d in exc.diagnostics]})
            _print_diagnostics(ctx, exc)
            continue
        results.append({"file": source.file, "ok": True, "journey": journey.key,
                        "version": journey.version, "stages": len(journey.stages),
                        "transitions": len(journey.transitions), "diagnostics": []})
        if not ctx.as_json:
            click.echo(f"ok: {source.file} ({journey.ref}: {len(journey.stages)} stages, "
                       f"{len(journey.transitions)} transitions)")
    results.sort(key=lambda r: files.index(Path(r["file"])) if Path(r["file"]) in files else 0)
    ok = all(r["ok"] for r in results)
    ctx.emit({"ok": ok, "files": results})
    if not ok:
        raise SystemExit(1)


def _print_diagnostics(ctx: Context, exc: DefinitionError) -> None:
    if not ctx.as_json:
        for diagnostic in exc.diagnostics:
            click.echo(str(diagnostic), err=True)


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
        raise UsageError(f"cannot write {str(path)!r}: {exc.strerror}") from None


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
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE.")
@pass_ctx
def diagram(ctx: Context, journey: str, fmt: str, output: str | None) -> None:
    """Draw a journey's stages and transitions (gates on the edges) as Mermaid or DOT."""
    from bompao.definitions.diagram import diagram as draw  # noqa: PLC0415

    compiled = _journey(ctx, journey)
    text = draw(compiled, fmt, lang=ctx.lang)
    if output:
        _write(Path(output), text + "\n")
        ctx.emit({"journey": compiled.ref, "format": fmt, "output": output},
                 f"wrote {output}")
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
        click.echo(f"warning: skipped {problem.diagnostics[0]}", err=True)
    if ctx.as_json:
        ctx.emit(rows)
        return
    from bompao.engine.views import table  # noqa: PLC0415

    headers = {"en": ["journey", "version", "title", "partner", "extends", "stages"],
               "th": ["เส้นทาง", "รุ่น", "ชื่อ", "ภาคี", "ต่อยอดจาก", "ขั้น"]}[ctx.lang]
    table(headers, [[r["journey"], r["version"], r["title"] or "(invalid)", r["partner"] or "",
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


def _fail(message: str, code: int) -> NoReturn:
    for line in message.splitlines() or [""]:
        click.echo(line if line.startswith(("error:", "/")) or ": error: " in line
                   else f"error: {line}", err=True)
    raise SystemExit(code)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI with bompao's error handling and exit codes."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or bool(os.environ.get("BOMPAO_DEBUG"))
    try:
        cli.main(args=args, prog_name="bompao", standalone_mode=False)
    except click.exceptions.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except click.exceptions.Abort:
        _fail("aborted", 1)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else "")
        raise SystemExit(0) from None
    except click.ClickException as exc:
        hint = ""
        context = getattr(exc, "ctx", None)
        if context is not None:
            hint = f" (see '{context.command_path} --help')"
        _fail(f"{exc.format_message()}{hint}", 2)
    except DefinitionError as exc:
        if debug:
            raise
        for diagnostic in exc.diagnostics:
            click.echo(str(diagnostic), err=True)
        raise SystemExit(exc.exit_code) from None
    except BompaoError as exc:
        if debug:
            raise
        _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except BrokenPipeError:
        raise SystemExit(0) from None
    except Exception as exc:
        if debug:
            raise
        _fail(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the "
              "traceback and report it)", 1)


if __name__ == "__main__":
    main()
