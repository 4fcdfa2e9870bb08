"""Deep checks (``bompao validate --deep``): what no values, times or people could make
happen in a journey that is otherwise valid, proved with the Z3 SMT solver.

:func:`deep_check_source` runs the ordinary pipeline (extends, schema, checks, compile)
and then :func:`~bompao.definitions.deep.checks.deep_findings` on the result, keeping
the merged document so that every finding points at ``FILE:LINE:COL``.
"""

from __future__ import annotations

from collections.abc import Sequence

from bompao.definitions.checks import check_document
from bompao.definitions.compiled import CompiledJourney, compile_document
from bompao.definitions.deep.checks import Finding, deep_findings
from bompao.definitions.document import parse_document
from bompao.definitions.extends import Resolver, resolve_extends
from bompao.definitions.functions import CelFunction
from bompao.definitions.source import Source, load_yaml
from bompao.errors import CheckError

__all__ = ["Finding", "deep_check", "deep_check_source", "deep_findings"]


def deep_check_source(source: Source, *, resolve: Resolver | None = None,
                      functions: Sequence[CelFunction] = ()
                      ) -> tuple[CompiledJourney, list[Finding]]:
    """Compile ``source`` as :func:`~bompao.definitions.pipeline.compile_source` does and
    return the journey with its deep findings (errors and notes, by position).

    Raises:
        DefinitionError: the journey is invalid before any deep check (as in ``validate``).
    """
    merged = resolve_extends(source, resolve)
    doc = parse_document(merged)
    problems = check_document(doc, merged, functions)
    if problems:
        raise CheckError(problems)
    journey = compile_document(doc, source=source.text, file=source.file, functions=functions)
    return journey, deep_findings(journey, merged)


def deep_check(text: str | bytes, *, file: str = "<journey>", resolve: Resolver | None = None,
               functions: Sequence[CelFunction] = ()) -> list[Finding]:
    """The deep findings of the journey document ``text``.

    Raises:
        DefinitionError: the journey is invalid before any deep check.
    """
    return deep_check_source(load_yaml(text, file), resolve=resolve, functions=functions)[1]
