"""Custom CEL functions that gate expressions may call, registered in Python or by plugins.

A function declares its parameter and result types in journey type names
(``string``, ``int``, ``float``, ``bool``, ``date``, ``datetime``, ``list[string]``...),
so expressions that call it are type-checked when a journey loads, like everything
else. Plugins publish :class:`CelFunction` objects (or lists of them) under the
``bompao.cel_functions`` entry point group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from cel_expr_python import cel

from bompao.definitions.expressions import cel_type

__all__ = ["CelFunction", "declarations", "plugin_functions"]


@dataclass(frozen=True)
class CelFunction:
    """A function CEL expressions can call: ``name(params...) -> returns``.

    Args:
        name: the name used in expressions, e.g. ``word_count``.
        params: the parameter types, in journey type names.
        returns: the result type, in a journey type name.
        impl: the Python implementation; it receives plain Python values.
    """

    name: str
    params: tuple[str, ...]
    returns: str
    impl: Callable[..., Any]

    def declaration(self) -> Any:
        """The cel-expr-python declaration."""
        overload = f"{self.name}_{'_'.join(p.replace('[', '_').strip(']') for p in self.params)}"
        return cel.FunctionDecl(self.name, [cel.Overload(
            overload, cel_type(self.returns), [cel_type(p) for p in self.params],
            impl=self.impl)])


def declarations(functions: Iterable[CelFunction]) -> list[Any]:
    """Declarations for :func:`cel.NewEnv`."""
    return [f.declaration() for f in functions]


def plugin_functions() -> list[CelFunction]:
    """Every function published under the ``bompao.cel_functions`` entry point group."""
    found: list[CelFunction] = []
    for point in entry_points(group="bompao.cel_functions"):
        loaded = point.load()
        found.extend(loaded if isinstance(loaded, list | tuple) else [loaded])
    return found
