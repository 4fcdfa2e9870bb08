"""Errors as ``application/problem+json`` (RFC 9457), carrying the CLI's messages.

Every :class:`~bompao.errors.BompaoError` maps to one status by its class; the
``detail`` is the message the CLI prints after ``error:`` (in Thai when the request
prefers it and the message has a translation). A refused gate adds its criteria.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from bompao.definitions.messages import error_text
from bompao.errors import (
    BompaoError,
    ConflictError,
    DatabaseError,
    DefinitionError,
    GateRefused,
    InvalidValue,
    NotFound,
    PermissionDenied,
    SchemaVersionError,
    StaleError,
    UsageError,
)

__all__ = ["PROBLEM", "Stale", "answer_error", "answer_unexpected", "install", "language",
           "problem", "status_of"]

PROBLEM = "application/problem+json"
log = logging.getLogger("bompao.web")

_STATUS: tuple[tuple[type[BaseException], int], ...] = (
    (StaleError, 412),
    (NotFound, 404),
    (PermissionDenied, 403),
    (DatabaseError, 503),
    (SchemaVersionError, 503),
    (DefinitionError, 422),
    (InvalidValue, 422),
    (UsageError, 400),
    (GateRefused, 409),
    (ConflictError, 409),
)
_TITLES = {400: "Bad request", 401: "Not signed in", 403: "Forbidden", 404: "Not found",
           405: "Method not allowed", 409: "Conflict", 412: "Precondition failed",
           413: "Too large", 415: "Unsupported media type", 422: "Unprocessable content",
           428: "Precondition required", 429: "Too many requests", 500: "Internal error",
           503: "Service unavailable"}


class Stale(BompaoError):
    """``If-Match`` names a lock version the project no longer has (HTTP 412)."""


def status_of(error: BaseException) -> int:
    """The HTTP status of a bompao error."""
    if isinstance(error, Stale):
        return 412
    return next((status for kind, status in _STATUS if isinstance(error, kind)), 400)


def language(request: Request) -> str:
    """``th`` when the request prefers Thai (its session's choice, else Accept-Language)."""
    chosen = request.scope.get("session", {}).get("lang") if "session" in request.scope \
        else None
    if chosen in ("en", "th"):
        return str(chosen)
    accept = request.headers.get("accept-language", "").lower()
    return "th" if accept.split(",")[0].strip().startswith("th") else "en"


def problem(status: int, detail: str, *, headers: dict[str, str] | None = None,
            **extra: Any) -> JSONResponse:
    """A problem document response."""
    body = {"type": "about:blank", "title": _TITLES.get(status, "Error"), "status": status,
            "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


async def answer_error(request: Request, exc: Exception) -> JSONResponse:
    """The problem document of a :class:`~bompao.errors.BompaoError`."""
    status = status_of(exc)
    extra: dict[str, Any] = {}
    if isinstance(exc, GateRefused) and exc.report is not None:
        extra["report"] = exc.report.as_dict()
    if isinstance(exc, DefinitionError):
        extra["diagnostics"] = [d.as_dict() for d in exc.diagnostics]
    return problem(status, error_text(exc, language(request)).splitlines()[0], **extra)


async def _http(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem(exc.status_code, str(exc.detail), headers=dict(exc.headers or {}))


async def _invalid(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "request"
    return problem(422, f"{where}: {first.get('msg', 'invalid')}")


async def answer_unexpected(_request: Request, exc: Exception) -> JSONResponse:
    """The problem document (500) of an error that is not a :class:`BompaoError`; its
    type is logged."""
    log.error("internal error: %s", type(exc).__name__)
    return problem(500, "internal error; the server's log has its type")


def install(app: FastAPI) -> None:
    """Answer every error of ``app`` with a problem document."""
    app.add_exception_handler(BompaoError, answer_error)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(Exception, answer_unexpected)
