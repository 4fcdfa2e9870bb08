"""Who does something: a person, the roles they act in, and the partner they belong to.

An :class:`Actor` given to an :class:`~bompao.engine.engine.Engine` method is who the
engine trusts the caller to be: its roles are checked, its name is recorded, its
partner scope is enforced. A call without an actor is a trusted caller (the operator's
own script or CLI) and is recorded with the names it passes.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SYSTEM", "Actor", "approval_counts", "clean_name", "person_key"]


def clean_name(name: str) -> str:
    """A person's name as recorded: Unicode NFC, invisible format characters (zero-width
    spaces and joiners, direction marks) removed, inner whitespace collapsed, trimmed."""
    visible = "".join(c for c in unicodedata.normalize("NFC", name)
                      if unicodedata.category(c) != "Cf")
    return " ".join(visible.split())


def person_key(name: str) -> str:
    """What makes two recorded names the same person: :func:`clean_name`, casefolded.

    ``"Anan"``, ``" anan "`` and ``"ANAN"`` are one person, so they count once in a quorum.
    """
    return clean_name(name).casefold()


def approval_counts(approvals: Mapping[str, Iterable[Mapping[str, Any]]] | None
                    ) -> dict[str, int]:
    """Approvals per role as a gate counts them: distinct people (by :func:`person_key`).

    Rows written before names were compared this way may hold one person twice; they
    still count once.
    """
    return {role: len({person_key(str(entry.get("by") or "")) for entry in entries})
            for role, entries in (approvals or {}).items()}


@dataclass(frozen=True)
class Actor:
    """A person (or the system) acting on projects.

    Args:
        name: who, as recorded in the history.
        roles: the roles they act in (checked against a transition's ``roles``, an
            approval's role and the journey's ``assign_roles``).
        partner: when set, the actor sees and changes only that partner's projects.
    """

    name: str
    roles: frozenset[str] = field(default_factory=frozenset)
    partner: str | None = None

    def __init__(self, name: str, roles: Iterable[str] = (), partner: str | None = None) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "roles", frozenset(roles))
        object.__setattr__(self, "partner", partner)

    def can_see(self, partner: str | None) -> bool:
        """Whether a project of ``partner`` is within this actor's scope."""
        return self.partner is None or self.partner == partner

    def holds(self, role: str) -> bool:
        """Whether the actor acts in ``role``."""
        return role in self.roles

    def describe_roles(self) -> str:
        """The actor's roles for a message: ``'coach, committee'`` or ``'no role'``."""
        return ", ".join(sorted(self.roles)) or "no role"


SYSTEM = Actor("system", roles=())
"""The actor of scheduled follow-ups and automatic transitions."""
