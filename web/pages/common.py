"""What every page shares: who is signed in, the language, rendering, refusals on the page.

A page needs a signed-in session (else it answers ``303`` to ``/login``); a form post
needs the session's CSRF token as the field ``csrf_token`` (else 403). An engine
refusal is shown as one line at the top of the page it came from, with the error's
HTTP status, never as a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse

from bompao.definitions.messages import error_text, text
from bompao.engine.engine import Engine
from bompao.web.accounts import User
from bompao.web.problems import language, status_of
from bompao.web.security import check_csrf, csrf_token

__all__ = ["SignInRequired", "engine_of", "local_time", "refusal", "render", "signed_in",
           "texts", "user_or_none", "verify_csrf"]


class SignInRequired(Exception):
    """A page was asked for without a signed-in session (answered with ``/login``)."""


def user_or_none(request: Request) -> User | None:
    """The session's user, if signed in and enabled."""
    uid = request.session.get("uid")
    user = request.app.state.accounts.by_id(uid) if isinstance(uid, int) else None
    if user is None or user.disabled:
        return None
    return user  # type: ignore[no-any-return]


def signed_in(request: Request) -> User:
    """The session's user.

    Raises:
        SignInRequired: nobody (or a disabled user) is signed in on this session.
    """
    user = user_or_none(request)
    if user is None:
        request.session.pop("uid", None)
        raise SignInRequired
    return user


def verify_csrf(request: Request, token: str | None) -> None:
    """Refuse a form post without this session's CSRF token.

    Raises:
        HTTPException: 403.
    """
    check_csrf(request.session, token)


def engine_of(request: Request) -> Engine:
    """The app's shared engine."""
    engine: Engine = request.app.state.engine
    return engine


def texts(lang: str) -> Callable[..., str]:
    """``t(key, **params)``: the catalogue's page text in ``lang``."""
    def t(key: str, **params: Any) -> str:
        return text(key, lang, **params)

    return t


def local_time(when: datetime | str | None, zone: str) -> str:
    """``2026-03-01 09:00`` in ``zone`` (empty for nothing)."""
    if when is None:
        return ""
    moment = datetime.fromisoformat(when) if isinstance(when, str) else when
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def render(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    """Render the template ``name`` with the layout's values (user, language, token)."""
    lang = language(request)
    user = values.pop("user", None) or user_or_none(request)
    template = request.app.state.templates.get_template(name)
    body = template.render(lang=lang, t=texts(lang), user=user, path=request.url.path,
                           csrf=csrf_token(request.session), **values)
    return HTMLResponse(body, status_code=status)


def refusal(request: Request, error: BaseException) -> tuple[int, str]:
    """The HTTP status and the one-line message of an engine refusal, in the page's
    language."""
    return status_of(error), error_text(error, language(request)).splitlines()[0]
