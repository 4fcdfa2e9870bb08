"""Who does something: a person, the roles they act in, and the partner they belong to."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["SYSTEM", "Actor"]


@dataclass(frozen=True)
class Actor:
    """A person (or the system) acting on projects.

    Args:
        name: who, as recorded in the history.
        roles: the roles they act in (checked against a transition's ``roles``).
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


SYSTEM = Actor("system", roles=())
"""The actor of scheduled follow-ups and automatic transitions."""
