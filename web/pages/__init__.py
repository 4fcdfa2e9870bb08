"""The server-rendered pages of ``bompao serve``: one module per page group.

:mod:`.board` (``/``), :mod:`.project` (``/projects/{id}`` and its forms), :mod:`.me`
(``/me``), :mod:`.reports` (``/reports``), :mod:`.journeys` (``/journeys``, the
playground), :mod:`.live` (``/events/stream``, Server-Sent Events), :mod:`.language`
(``POST /lang``); :mod:`.common` holds what they share. Routes are thin: they call the
engine as the signed-in user's ``Actor`` and render a Jinja2 template (autoescaped).
"""

from __future__ import annotations

from fastapi import APIRouter

from bompao.web.pages import board, journeys, language, live, me, project, reports
from bompao.web.pages.common import SignInRequired

__all__ = ["SignInRequired", "pages_router"]

pages_router = APIRouter(include_in_schema=False)
for _module in (board, project, me, reports, journeys, live, language):
    pages_router.include_router(_module.router)
