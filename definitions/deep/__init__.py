"""Deep checks (``bompao validate --deep``): what no values, times or people could make
happen in a journey that is otherwise valid, proved with the Z3 SMT solver.

:func:`deep_check_source` runs the ordinary pipeline (extends, schema, checks, compile,
exactly as ``validate``) and then :func:`~bompao.definitions.deep.checks.deep_findings`
on the result, with the merged document so that every finding points at
``FILE:LINE:COL``.
"""

from __future__ import annotations

from collections.abc import Sequence

from bompao.definitions.compiled import CompiledJourney
from bompao.definitions.deep.checks import Finding, deep_findings
from bompao.definitions.extends import Resolver, resolve_extends
from bompao.definitions.functions import CelFunction
from bompao.definitions.pipeline import compile_source
from bompao.definitions.source import Source, load_yaml

__all__ = ["Finding", "deep_check", "deep_check_source", "deep_findings"]


def deep_check_source(source: Source, *, resolve: Resolver | None = None,
                      functions: Sequence[CelFunction] = ()
                      ) -> tuple[CompiledJourney, list[Finding]]:
    """Compile ``source`` as :func:`~bompao.definitions.pipeline.compile_source` does and
    return the journey with its deep findings (errors and notes, by position).

    Raises:
        DefinitionError: the journey is invalid before any deep check (as in ``validate``).
    """
    journey = compile_source(source, resolve=resolve, functions=functions)
    # the same merge again, for positions: compile_source keeps only the document
    return journey, deep_findings(journey, resolve_extends(source, resolve))


def deep_check(text: str | bytes, *, file: str = "<journey>", resolve: Resolver | None = None,
               functions: Sequence[CelFunction] = ()) -> list[Finding]:
    """The deep findings of the journey document ``text``.

    Raises:
        DefinitionError: the journey is invalid before any deep check.
    """
    return deep_check_source(load_yaml(text, file), resolve=resolve, functions=functions)[1]
