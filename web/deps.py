"""What every API route depends on: the signed-in user, the shared engine, the partner a
request may look at.

A bearer token's user is remembered for :data:`TOKEN_CACHE_SECONDS` per worker, keyed by
the token's SHA-256 (never the token): looking a token up cost more than the advance a
request makes (``bench/web.py``). So a token revoked, or a user disabled, stops working
within that many seconds on every worker, not at once; sessions are read every time.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Annotated

from fastapi import Depends, Header, Request

from bompao.definitions.messages import Message
from bompao.engine.engine import Engine
from bompao.errors import PermissionDenied
from bompao.web.accounts import User
from bompao.web.security import authenticate

__all__ = ["TOKEN_CACHE_SECONDS", "Engined", "IfMatch", "Signed", "current_engine",
           "current_user", "partner_scope"]

TOKEN_CACHE_SECONDS = 2.0
_CACHE_SIZE = 10_000
_cache: dict[tuple[int, str], tuple[float, User]] = {}
_cache_lock = threading.Lock()


def current_user(request: Request) -> User:
    """The request's user (bearer token or session; see :func:`authenticate`); a bearer
    token's user comes from the cache while it is fresh."""
    header = request.headers.get("authorization")
    if header is None or header[:7].lower() != "bearer ":
        return authenticate(request, request.app.state.accounts)
    key = (id(request.app), hashlib.sha256(header[7:].strip().encode()).hexdigest())
    now = time.monotonic()
    found = _cache.get(key)
    if found is not None and now - found[0] < TOKEN_CACHE_SECONDS:
        return found[1]
    user = authenticate(request, request.app.state.accounts)  # 401 is never cached
    with _cache_lock:
        if len(_cache) >= _CACHE_SIZE:
            _cache.clear()
        _cache[key] = (now, user)
    return user


async def current_engine(request: Request) -> Engine:
    """The app's one engine (async: no thread needed to read an attribute)."""
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
