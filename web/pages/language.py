"""``POST /lang``: the user's choice of language, kept in the session (and over sign-in)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from bompao.web.pages.common import verify_csrf

__all__ = ["LANGUAGES", "router"]

router = APIRouter(include_in_schema=False)
LANGUAGES = ("en", "th")


@router.post("/lang")
def choose(request: Request, lang: Annotated[str, Form(max_length=5)],
           token: Annotated[str | None, Form(alias="csrf_token")] = None,
           next_page: Annotated[str, Form(alias="next", max_length=500)] = "/"
           ) -> RedirectResponse:
    """Keep ``lang`` (``en`` or ``th``) for this session; back to the page (a local
    path only, so the form cannot send anyone elsewhere)."""
    verify_csrf(request, token)
    if lang in LANGUAGES:
        request.session["lang"] = lang
    local = next_page.startswith("/") and not next_page.startswith(("//", "/\\"))
    return RedirectResponse(next_page if local else "/", status_code=303)
