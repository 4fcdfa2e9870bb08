"""One error hierarchy for everything bompao raises on purpose.

Every error a user can cause derives from :class:`BompaoError` and carries the exit
code the CLI uses: 1 when bompao refused (a gate not met, an invalid definition, a
conflict), 2 when the input or usage was bad (an unknown id, a malformed value).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

__all__ = [
    "BompaoError",
    "CheckError",
    "ConflictError",
    "DatabaseError",
    "DefinitionError",
    "Diagnostic",
    "ExtendsError",
    "GateRefused",
    "InvalidValue",
    "LoadError",
    "NotFound",
    "PermissionDenied",
    "SchemaError",
    "SchemaVersionError",
    "StaleError",
    "TriggerNotOffered",
    "UsageError",
]

REFUSED = 1
BAD_INPUT = 2


class BompaoError(Exception):
    """Base of every error bompao raises on purpose."""

    exit_code: int = REFUSED


class UsageError(BompaoError):
    """The input or the way bompao was called is wrong."""

    exit_code = BAD_INPUT


class InvalidValue(UsageError):
    """A value does not fit its declared type or allowed set (a field, a time, a filter)."""


class NotFound(UsageError):
    """A project, journey, trigger or file named by the caller does not exist."""


class PermissionDenied(BompaoError):
    """The actor may not do this: a role the transition forbids, another partner's project."""


class ConflictError(BompaoError):
    """Someone else changed the same thing first; nothing was written. Retry on fresh state."""


class StaleError(ConflictError):
    """The caller named the lock version it last read (``expected_version``; HTTP
    ``If-Match``) and the project has moved on since; nothing was written.

    Checked inside the change's own transaction, so a change that loses a race after
    reading the right version is refused this way too, never applied to newer state.
    """


class TriggerNotOffered(ConflictError):
    """The journey has the trigger, but the project's stage does not offer it (exit 1).

    A refusal like a lost race, not bad input: the project may just have moved on (a
    concurrent advance committed first). The message names the stage and the triggers
    it offers. A trigger the journey does not have at all is :class:`NotFound` (exit 2).
    """


class GateRefused(BompaoError):
    """A transition's gate is not met. ``report`` says which criteria are missing.

    Args:
        message: one line naming the transition.
        report: the gate report (an ``engine.gates.GateReport``), or ``None``.
    """

    def __init__(self, message: str, report: Any = None) -> None:
        super().__init__(message)
        self.report = report


class DatabaseError(UsageError):
    """The database cannot be reached or is not a bompao database."""


class SchemaVersionError(BompaoError):
    """The database schema is newer than this bompao knows, or needs ``bompao init``."""


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem in a journey document, at a 1-based line and column."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: error: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        """Return the diagnostic as a JSON-ready mapping."""
        return {"file": self.file, "line": self.line, "column": self.column,
                "message": self.message}


class DefinitionError(BompaoError):
    """A journey document is invalid. Carries every problem found, each with a position.

    Each pipeline stage raises its own subclass: :class:`LoadError` (YAML),
    :class:`ExtendsError` (``extends``/``remove``), :class:`SchemaError` (keys and
    types), :class:`CheckError` (references, reachability, expressions, durations).
    """

    def __init__(self, diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> None:
        self.diagnostics = tuple(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))

    @property
    def file(self) -> str:
        """The file of the first problem."""
        return self.diagnostics[0].file

    @property
    def line(self) -> int:
        """The line of the first problem."""
        return self.diagnostics[0].line

    @property
    def column(self) -> int:
        """The column of the first problem."""
        return self.diagnostics[0].column

    @classmethod
    def at(cls, file: str, line: int, column: int, message: str) -> Self:
        """Build an error with a single diagnostic."""
        return cls([Diagnostic(file, line, column, message)])


class LoadError(DefinitionError):
    """The text is not a safe, well-formed YAML mapping within the size limits."""


class ExtendsError(DefinitionError):
    """``extends`` names an unknown or cyclic base, or ``remove`` names what is not there."""


class SchemaError(DefinitionError):
    """A key is unknown or missing, or a value has the wrong type."""


class CheckError(DefinitionError):
    """The document is well-formed but inconsistent: references, reachability, CEL, durations."""
