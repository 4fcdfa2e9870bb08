"""The API's hot write routes served in plain ASGI, in front of FastAPI itself.

FastAPI's way through a request (its telemetry check, Starlette's error middleware,
the body limit, the session middleware, the headers middleware, the router's path
matching, the dependency solving, the body's validation, the response model, then five
layers of ``send`` on the way out) cost more CPU than the engine's advance itself
(``bench/web.py``, ``docs/web.md`` section 9). :class:`FastWrites` is the app's own
``__call__`` (``web/app.py``), before all of that, and answers the common case of each
route of :data:`WRITES` itself: a bearer token whose user the token cache holds
(:func:`~bompao.web.deps.cached_token_user`), no cookie, a JSON body that the route's
pydantic model accepts. It then calls the very function the FastAPI route calls
(``do_advance``, ``do_set_fields`` ...) on the app's writer threads
(:class:`~bompao.web.deps.Writers`) and answers its JSON with the same headers, the
security headers included; a :class:`~bompao.errors.BompaoError` is answered by the
same problem handler the app installs, any other error by the app's 500 problem
document and then re-raised, as Starlette's error middleware does.

Every other request, and every one the fast path is not sure of (no token or one not
cached yet, a cookie, another content type, a body that is not JSON or that the model
refuses), goes on unchanged to the FastAPI app with its body replayed: a 401, a 422 and
its problem document, the session and its CSRF check are FastAPI's own, and the
routes' declarations stay in the OpenAPI document.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bompao.engine.engine import Engine
from bompao.errors import BompaoError
from bompao.web import api, api_indicators
from bompao.web.accounts import User
from bompao.web.deps import cached_token_user, token_key, writer_pool
from bompao.web.problems import answer_error, answer_unexpected, problem
from bompao.web.security import with_security_headers

__all__ = ["API_PREFIX", "MAX_BODY", "PREFIX", "WRITES", "FastWrites", "Write"]

PREFIX = "/api/v1/projects/"
_JSON = b"application/json"


@dataclass(frozen=True)
class Write:
    """A write route of ``/api/v1/projects/{id}/NAME`` the fast path serves.

    Attributes:
        model: the body's pydantic model (``None``: any JSON object).
        status: the status of a success.
        run: the route's own work, ``(engine, user, project id, body, If-Match)`` to
            its JSON body and headers (blocking: run on the writer threads).
    """

    model: type[BaseModel] | None
    status: int
    run: Callable[[Engine, User, int, Any, str | None], api.Answer]


WRITES: dict[tuple[str, str], Write] = {
    ("POST", "advance"): Write(api.Advance, 200, api.do_advance),
    ("PATCH", "fields"): Write(None, 200, api.do_set_fields),
    ("POST", "evidence"): Write(api.NewEvidence, 200, api.do_add_evidence),
    ("POST", "approvals"): Write(api.NewApproval, 200, api.do_approve),
    ("POST", "assignments"): Write(api.NewAssignment, 200, api.do_assign),
    ("POST", "measurements"): Write(api_indicators.NewMeasurement, 201,
                                    api_indicators.do_measure),
}
"""(method, last path segment) to the route; the rest of the path is ``PREFIX`` and the
project's id in ASCII digits."""


def _route(scope: Scope) -> tuple[Write, int] | None:
    path: str = scope["path"]
    if not path.startswith(PREFIX):
        return None
    project, _, name = path[len(PREFIX):].partition("/")
    write = WRITES.get((scope["method"], name))
    if write is None or not (project.isascii() and project.isdigit()) or len(project) > 18:
        return None
    return write, int(project)


def _is_json(content_type: bytes | None) -> bool:
    """``application/json`` (any parameters) or none at all, as FastAPI reads JSON."""
    if content_type is None:
        return True
    return content_type.split(b";", 1)[0].strip().lower() == _JSON


def _body(write: Write, raw: bytes) -> Any:
    """The validated body, or ``None`` when FastAPI should say what is wrong with it."""
    if not raw:
        return None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if write.model is None:
        return data if isinstance(data, dict) else None
    try:
        return write.model.model_validate(data)
    except ValidationError:
        return None


class FastWrites:
    """ASGI app in front of the FastAPI app, outside even Starlette's own error and
    telemetry middleware: the hot API writes of :data:`WRITES` answered here, everything
    else passed to ``app`` (the FastAPI app's whole stack).

    Args:
        app: the next ASGI app (the FastAPI app's own ``__call__``).
        owner: the FastAPI app: its ``state`` (engine, writer threads) and its identity
            (the token cache's key).
    """

    def __init__(self, app: ASGIApp, owner: Any) -> None:
        self.app = app
        self.owner = owner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a hot write, or pass the request on (an API write's body read within
        :data:`MAX_BODY` and replayed)."""
        if scope["type"] != "http" or scope["method"] not in _WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        if not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)  # pages, forms and hooks: their own limits
            return
        found = _route(scope) if scope["method"] in ("POST", "PATCH") else None
        authorization = content_type = if_match = None
        cookie = False
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = authorization or value
            elif name == b"cookie":
                cookie = True
            elif name == b"content-type":
                content_type = content_type or value
            elif name == b"if-match":
                if_match = if_match or value
        declared = _content_length(scope)
        raw, ended = (b"", False) if declared > MAX_BODY else await _read(receive)
        if ended:
            return  # the client went away
        if declared > MAX_BODY or len(raw) > MAX_BODY:
            response = problem(413, f"a request body of the API is at most {MAX_BODY:,} "
                                    "bytes; nothing was written")
            await response(scope, receive, _secured(send))
            return
        user = None
        if found is not None and not cookie and authorization is not None \
                and _is_json(content_type):
            user = cached_token_user(token_key(self.owner, authorization.decode("latin-1")))
        body = None if user is None or found is None else _body(found[0], raw)
        if body is None or found is None or user is None:
            # a session, no cached token, another route or a body the model refuses:
            # FastAPI's own way, the body replayed
            await self.app(scope, _replay(raw, receive), send)
            return
        write, project_id = found
        await _serve(self.owner, scope, receive, send, write, project_id, user, body,
                     None if if_match is None else if_match.decode("latin-1"))


_WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
API_PREFIX = "/api/"
"""Every write under it has its body read here within :data:`MAX_BODY`."""

MAX_BODY = 1_000_000
"""The largest body of an API write (every route takes a few fields; a text is at most
:data:`~bompao.definitions.values.MAX_TEXT` characters): over it, 413 and nothing read
beyond it, so no client can make a worker hold an endless body in memory."""


def _content_length(scope: Scope) -> int:
    """The request's declared ``Content-Length`` (0 where none or not a number)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


async def _read(receive: Receive) -> tuple[bytes, bool]:
    """The request's body, up to one byte over :data:`MAX_BODY` (reading stops there),
    and whether the client disconnected meanwhile."""
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"", True
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY or not message.get("more_body", False):
            return b"".join(chunks), False


def _replay(raw: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``raw`` as the whole body, then defers to ``receive``."""
    given = False

    async def again() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": raw, "more_body": False}

    return again


async def _serve(owner: Any, scope: Scope, receive: Receive, send: Send,  # noqa: PLR0917
                 write: Write, project_id: int, user: User, body: Any,
                 if_match: str | None) -> None:
    state = owner.state
    try:
        answer, extra = await writer_pool(state).call(
            asyncio.get_running_loop(), write.run, state.engine, user, project_id, body,
            if_match)
    except BompaoError as exc:
        scope["app"] = owner
        response = await answer_error(Request(scope, receive), exc)
        await response(scope, receive, _secured(send))
        return
    except Exception as exc:
        # what Starlette's ServerErrorMiddleware (now behind us) answers, then re-raises
        scope["app"] = owner
        response = await answer_unexpected(Request(scope, receive), exc)
        await response(scope, receive, send)
        raise
    content = orjson.dumps(answer)
    headers = [(b"content-length", b"%d" % len(content)), _CONTENT_TYPE]
    if extra:
        headers += [(k.lower().encode("latin-1"), v.encode("latin-1"))
                    for k, v in extra.items()]
        if b"cache-control" in (k for k, _ in headers):
            headers = with_security_headers(headers)
        else:
            headers += _SECURED
    else:
        headers += _SECURED
    await send({"type": "http.response.start", "status": write.status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


_CONTENT_TYPE = (b"content-type", _JSON)
_SECURED = tuple(with_security_headers([]))
"""The security headers and ``Cache-Control: no-store``, built once."""


def _secured(send: Send) -> Send:
    async def secured(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = with_security_headers(list(message.get("headers", [])))
        await send(message)

    return secured
