"""What every API route depends on: the signed-in user, the shared engine, the partner a
request may look at."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from bompao.definitions.messages import Message
from bompao.engine.engine import Engine
from bompao.errors import PermissionDenied
from bompao.web.accounts import User
from bompao.web.security import authenticate

__all__ = ["Engined", "IfMatch", "Signed", "current_engine", "current_user", "partner_scope"]


def current_user(request: Request) -> User:
    """The request's user (bearer token or session; see :func:`authenticate`)."""
    return authenticate(request, request.app.state.accounts)


def current_engine(request: Request) -> Engine:
    """The app's one engine."""
    engine: Engine = request.app.state.engine
    return engine


Signed = Annotated[User, Depends(current_user)]
Engined = Annotated[Engine, Depends(current_engine)]
IfMatch = Annotated[str | None, Header(description="The ETag last read; 412 when stale")]


def partner_scope(user: User, partner: str | None) -> str | None:
    """The partner a request about many projects covers: the user's own partner (a
    ``partner`` filter may only repeat it), else the filter given (``None``: every one).

    Raises:
        PermissionDenied: a partner-scoped user names another partner.
    """
    scope = user.partner
    if scope is None:
        return partner
    if partner is not None and partner != scope:
        raise PermissionDenied(Message("permission.other_partner", who=user.display_name,
                                       scope=scope, partner=partner))
    return scope
