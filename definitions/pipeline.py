"""The definitions pipeline: load → extends → schema → checks → compile.

Python's cyclic garbage collector is paused while a journey goes through it (see
:func:`~bompao.definitions.source.collector_paused`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bompao.definitions.checks import check_document
from bompao.definitions.compiled import CompiledJourney, compile_document
from bompao.definitions.document import parse_document
from bompao.definitions.extends import Resolver, resolve_extends
from bompao.definitions.functions import CelFunction
from bompao.definitions.source import Source, collector_paused, load_yaml
from bompao.errors import CheckError

__all__ = ["compile_journey", "compile_source", "load_path"]


def compile_source(source: Source, *, resolve: Resolver | None = None,
                   functions: Sequence[CelFunction] = ()) -> CompiledJourney:
    """Run extends, schema, checks and compile on a loaded source.

    Raises:
        ExtendsError: the base is unknown, cyclic, or ``remove`` names what is not there.
        SchemaError: unknown or missing keys, wrong types.
        CheckError: every consistency problem found, at once.
    """
    with collector_paused():
        merged = resolve_extends(source, resolve)
        doc = parse_document(merged)
        problems = check_document(doc, merged, functions)
        if problems:
            raise CheckError(problems)
        return compile_document(doc, source=source.text, file=source.file,
                                functions=functions)


def compile_journey(text: str | bytes, *, file: str = "<journey>",
                    resolve: Resolver | None = None,
                    functions: Sequence[CelFunction] = ()) -> CompiledJourney:
    """Compile a journey document given as text.

    Args:
        text: the YAML document.
        file: the name used in messages.
        resolve: finds the base of ``extends`` (e.g. ``JourneyCatalog().resolve``).
        functions: custom CEL functions the expressions may call.

    Raises:
        DefinitionError: any problem, as a :class:`LoadError`, :class:`ExtendsError`,
            :class:`SchemaError` or :class:`CheckError` carrying positions.
    """
    with collector_paused():
        return compile_source(load_yaml(text, file), resolve=resolve, functions=functions)


def load_path(path: str | Path, *, resolve: Resolver | None = None,
              functions: Sequence[CelFunction] = ()) -> CompiledJourney:
    """Compile the journey file at ``path``.

    Raises:
        NotFound: the file does not exist.
        DefinitionError: the journey is invalid.
    """
    from bompao.definitions.catalog import read_file  # noqa: PLC0415

    return compile_journey(read_file(Path(path)), file=str(path), resolve=resolve,
                           functions=functions)
