"""Inbound webhooks: ``POST /hooks/{name}`` takes an application from a form tool.

The operator configures each hook in ``[hooks.NAME]`` (:class:`~bompao.engine.config.
HookConfig`): its secret, the journey, and where each field's answer sits in the tool's
JSON (a dotted path: ``answers.team``, ``group_intro/problem``, ``items.0.value``). A
delivery is signed with HMAC-SHA256 over the raw body, sent as ``X-Bompao-Signature:
sha256=HEX`` and compared in constant time. Its id is the ``delivery_header`` (default
``X-Bompao-Delivery``), else the value at ``delivery_path``, else the SHA-256 of the
body; a delivery seen before creates nothing and answers 200 with the first one's
reference (two at once create one project: :mod:`bompao.engine.applications`).

Answers (problem+json for every refusal, nothing written): 201 ``{reference, project,
status_url, replay: false}``; 200 the same for a replay; 401 a missing or wrong
signature; 404 an unknown hook; 409 outside the opening dates; 422 a missing required
field or a bad value (``field`` names it); 400 a body that is not a JSON object; 413 a
body over 1 MB (refused on its ``Content-Length``, else as soon as 1 MB has arrived:
the rest is never read).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from bompao.definitions.messages import Message, error_text, localise
from bompao.engine import applications
from bompao.engine.config import HookConfig
from bompao.errors import BompaoError
from bompao.web.problems import language, problem, status_of

__all__ = ["MAX_BODY", "SIGNATURE_HEADER", "resolve", "router", "sign"]

router = APIRouter(tags=["hooks"])
SIGNATURE_HEADER = "X-Bompao-Signature"
MAX_BODY = 1_000_000
_MISSING = object()


def sign(secret: str, body: bytes) -> str:
    """The ``X-Bompao-Signature`` value of ``body``: ``sha256=`` and the hex HMAC."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def resolve(data: Any, path: str) -> Any:
    """The value at a dotted ``path`` in JSON ``data`` (a number picks a list item), or
    a sentinel when there is none."""
    value = data
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


async def _body_within(request: Request, limit: int) -> bytes | None:
    """The request's body, or ``None`` as soon as it is known to pass ``limit`` bytes: a
    ``Content-Length`` over it is refused before reading anything, and the bytes are
    counted as they arrive (a chunked body has no length; a declared one may be
    wrong), so that no more than ``limit`` bytes and one chunk are ever held."""
    declared = request.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _refuse(request: Request, status: int, message: Message, **extra: Any) -> JSONResponse:
    return problem(status, localise(message, language(request)), **extra)


@router.post("/hooks/{name}", summary="An application from a form tool (signed)",
             status_code=201,
             responses={200: {"description": "a replay: the first delivery's reference"},
                        401: {"description": "missing or wrong signature"},
                        404: {"description": "no such hook"},
                        409: {"description": "outside the opening dates"},
                        422: {"description": "a missing required field or a bad value"}})
async def receive(request: Request,
                  name: Annotated[str, Path(max_length=100)]) -> Response:
    """Take one signed submission in (see the module's docstring)."""
    hook: HookConfig | None = request.app.state.config.hooks.get(name)
    if hook is None:
        return _refuse(request, 404, Message("hook.unknown", name=name))
    body = await _body_within(request, MAX_BODY)
    if body is None:
        return problem(413, f"the body is over {MAX_BODY:,} bytes; nothing was written")
    given = request.headers.get(SIGNATURE_HEADER)
    if not given:
        return _refuse(request, 401, Message("hook.no_signature"))
    if not hmac.compare_digest(sign(hook.secret, body).encode(),
                               given.strip().lower().encode()):
        return _refuse(request, 401, Message("hook.bad_signature"))
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        return _refuse(request, 400, Message("hook.not_json", problem=str(exc)[:200]))
    if not isinstance(data, dict):
        return _refuse(request, 400, Message("hook.not_json", problem="not an object"))
    delivery = request.headers.get(hook.delivery_header)
    if not delivery and hook.delivery_path:
        found = resolve(data, hook.delivery_path)
        delivery = None if found is _MISSING or not _scalar(found) else str(found)
    delivery = (delivery or "sha256:" + hashlib.sha256(body).hexdigest())[:200]
    project_name = resolve(data, hook.project_name)
    if project_name is _MISSING or not _scalar(project_name) or not str(project_name).strip():
        return _refuse(request, 422, Message("hook.no_name", path=hook.project_name),
                       field="name")
    answers: dict[str, Any] = {}
    for field, path in hook.fields.items():
        value = resolve(data, path)
        if value is _MISSING:
            continue
        if not (_scalar(value) or (isinstance(value, list) and all(
                _scalar(v) for v in value))):
            return _refuse(request, 422, Message("hook.bad_value", path=path, name=field,
                                                 kind=type(value).__name__), field=field)
        answers[field] = value
    extra: dict[str, str | None] = {}
    for key, where in (("partner", hook.partner), ("cohort", hook.cohort)):
        found = None if where is None else resolve(data, where)
        extra[key] = None if found is _MISSING or found is None or not _scalar(found) \
            else str(found)
    engine = request.app.state.engine
    try:
        received = await run_in_threadpool(
            lambda: applications.submit(engine, hook.journey, name=str(project_name),
                                        answers=answers, source=f"hook:{name}",
                                        delivery_id=delivery, **extra))
    except applications.ApplicationInvalid as exc:
        lang = language(request)
        first = next(iter(exc.problems))
        return problem(422, error_text(exc, lang).splitlines()[0], field=first or None)
    except BompaoError as exc:
        return problem(status_of(exc), error_text(exc, language(request)).splitlines()[0])
    follow = f"/apply/{hook.journey}/status/{received.reference}"
    return JSONResponse({"reference": received.reference, "project": received.project_id,
                         "status_url": follow, "replay": received.replay},
                        status_code=200 if received.replay else 201)
