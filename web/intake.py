"""The public application form: ``/apply/{journey}`` and ``/apply/{journey}/status/{ref}``.

No account is needed. ``GET`` renders the journey's ``application:`` form — the
declared fields with their types, required marks and help texts in the page's language
(Thai or English, as the other pages choose it). ``POST`` takes the application in
through the same validation and all-or-nothing write as ``bompao project import``
(:func:`bompao.engine.applications.submit`) and shows the applicant a reference (192
random bits) whose status page shows the application's stage and nothing else.

Defences: the session's CSRF token (the anonymous visitor gets a signed session cookie
with the form; a JSON body needs none, as a cross-site page cannot send one without a
CORS preflight); a honeypot field (``website``, hidden from people by the stylesheet):
filled, the post is thanked and dropped, nothing stored; at most ``[web] apply_posts``
posts per client address per ``apply_window`` seconds (then 429 with a clear message).
Outside the opening dates (in the journey's timezone) the page and the post say so and
nothing is written. A bad answer re-renders the form with the error next to its field
(HTML) or answers ``application/problem+json`` (a client that accepts JSON).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from bompao.definitions.compiled import CompiledJourney
from bompao.definitions.intake import ApplicationsClosed
from bompao.definitions.messages import error_text, text
from bompao.definitions.texts import pick
from bompao.engine import applications
from bompao.errors import NotFound
from bompao.web.pages.common import engine_of, local_time, render
from bompao.web.problems import language, problem, status_of
from bompao.web.security import CSRF_FIELD, SharedThrottle, check_csrf

__all__ = ["HONEYPOT", "router"]

router = APIRouter(include_in_schema=False)
HONEYPOT = "website"
"""The trap field: people do not see it, form-filling robots fill it."""
_KEY = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_MAX_FORM = 200_000


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    kind = request.headers.get("content-type", "")
    return kind.startswith("application/json") or (
        "json" in accept and "text/html" not in accept)


def _inputs(compiled: CompiledJourney, lang: str) -> list[dict[str, Any]]:
    spec = applications.form_of(compiled)
    result = []
    for name in spec.fields:
        field = compiled.doc.fields[name]
        result.append({
            "name": name, "type": field.type, "label": pick(field.title, lang, name),
            "help": pick(spec.help.get(name), lang, pick(field.description, lang, "")),
            "required": name in spec.required, "min": field.min, "max": field.max})
    return result


def _closed_text(compiled: CompiledJourney, error: ApplicationsClosed, lang: str,
                 today: Any) -> str:
    spec = applications.form_of(compiled)
    title = compiled.label(lang)
    if spec.opens is not None and today < spec.opens:
        return text("apply.page.not_open", lang, title=title, opens=spec.opens, today=today)
    return text("apply.page.closed", lang, title=title, closes=spec.closes, today=today)


def _form(request: Request, compiled: CompiledJourney, status: int = 200, *,
          values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
          closed: str | None = None, error: str | None = None) -> HTMLResponse:
    lang = language(request)
    spec = applications.form_of(compiled)
    return render(request, "apply.html", status, journey=compiled,
                  title=compiled.label(lang), inputs=_inputs(compiled, lang),
                  values=values or {}, errors=errors or {}, closed=closed, error=error,
                  honeypot=HONEYPOT, opens=spec.opens, closes=spec.closes,
                  csrf_field=CSRF_FIELD)


def _refused(request: Request, exc: BaseException) -> Response:
    lang = language(request)
    if _wants_json(request):
        return problem(status_of(exc), error_text(exc, lang).splitlines()[0])
    return render(request, "apply_message.html", status_of(exc), heading=None,
                  message=error_text(exc, lang).splitlines()[0])


@router.get("/apply/{journey}", response_class=HTMLResponse)
def form(request: Request, journey: Annotated[str, Path(pattern=_KEY)]) -> Response:
    """The application form (or, outside the opening dates, why there is none)."""
    engine = engine_of(request)
    try:
        compiled = applications.application_journey(engine, journey)
    except NotFound as exc:
        return _refused(request, exc)
    try:
        applications.check_open(engine, compiled)
    except ApplicationsClosed as exc:
        lang = language(request)
        return _form(request, compiled, 403, closed=_closed_text(
            compiled, exc, lang, applications.today_in(engine, compiled)))
    return _form(request, compiled)


async def _answers(request: Request) -> tuple[dict[str, Any], str | None, bool]:
    """(the posted values, the CSRF token, whether the body was JSON)."""
    body = await request.body()
    if len(body) > _MAX_FORM:
        return {}, None, False
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict):
            return {"": None}, None, True
        given = data.get("fields")
        fields: dict[str, Any] = given if isinstance(given, dict) else {}
        return {**{f"f.{k}": v for k, v in fields.items()}, "name": data.get("name", ""),
                HONEYPOT: data.get(HONEYPOT, "")}, None, True
    posted = await request.form()
    values = {key: str(value) for key, value in posted.items() if isinstance(value, str)}
    return values, values.pop(CSRF_FIELD, None), False


def _throttle(request: Request) -> SharedThrottle:
    throttle: SharedThrottle | None = getattr(request.app.state, "apply_throttle", None)
    if throttle is None:
        web = request.app.state.config.web
        throttle = SharedThrottle(request.app.state.engine.db, "apply", web.apply_posts,
                                  web.apply_window)
        request.app.state.apply_throttle = throttle
    return throttle


@router.post("/apply/{journey}")
async def apply(request: Request, journey: Annotated[str, Path(pattern=_KEY)]) -> Response:
    """Take an application in; its reference (see the module's docstring)."""
    lang = language(request)
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > _MAX_FORM:
        return problem(413, f"an application is at most {_MAX_FORM:,} bytes; nothing was "
                            "written")
    values, token, is_json = await _answers(request)
    throttle = _throttle(request)
    address = request.client.host if request.client else "unknown"
    wait = await run_in_threadpool(throttle.retry_after, f"addr:{address}")
    if wait:
        web = request.app.state.config.web
        message = text("apply.rate_limited", lang, limit=web.apply_posts,
                       minutes=max(1, -(-wait // 60)))
        headers = {"Retry-After": str(wait)}
        if is_json or _wants_json(request):
            return problem(429, message, headers=headers)
        held = render(request, "apply_message.html", 429,
                      heading=text("apply.page.too_many", lang), message=message)
        held.headers.update(headers)
        return held
    await run_in_threadpool(throttle.failed, f"addr:{address}")
    return await run_in_threadpool(_take, request, journey, values, token, is_json)


def _take(request: Request, journey: str, values: dict[str, Any], token: str | None,
          is_json: bool) -> Response:
    """The post after the throttle, in a worker thread (it reads and writes the database)."""
    lang = language(request)
    engine = engine_of(request)
    try:
        compiled = applications.application_journey(engine, journey)
    except NotFound as exc:
        return _refused(request, exc)
    shown = {k: v for k, v in values.items() if isinstance(v, str) and k != HONEYPOT}
    if not is_json:
        try:
            check_csrf(request.session, token)
        except Exception:
            return _form(request, compiled, 403, values=shown,
                         error=text("apply.stale_form", lang))
    if "" in values:
        return problem(400, "the body is not a JSON object: send {\"name\": ..., "
                            "\"fields\": {...}}")
    if str(values.get(HONEYPOT) or "").strip():  # a robot: thanked, nothing stored
        if is_json or _wants_json(request):
            return JSONResponse({"status": "received"}, status_code=202)
        return render(request, "apply_message.html", 200,
                      heading=text("apply.page.received", lang), message=None)
    answers = {k[2:]: v for k, v in values.items() if k.startswith("f.")}
    try:
        received = applications.submit(engine, compiled.key,
                                       name=str(values.get("name") or ""), answers=answers,
                                       source="form")
    except ApplicationsClosed as exc:
        if is_json or _wants_json(request):
            return problem(403, error_text(exc, lang).splitlines()[0])
        return _form(request, compiled, 403, closed=_closed_text(
            compiled, exc, lang, applications.today_in(engine, compiled)))
    except applications.ApplicationInvalid as exc:
        if is_json or _wants_json(request):
            first = next(iter(exc.problems))
            return problem(422, error_text(exc, lang).splitlines()[0], field=first or None,
                           errors={k: error_text(v, lang).splitlines()[0]
                                   for k, v in exc.problems.items()})
        errors = {k: error_text(v, lang).splitlines()[0] for k, v in exc.problems.items()}
        return _form(request, compiled, 422, values=shown, errors=errors,
                     error=errors.get("") or text("apply.page.fix", lang))
    follow = f"/apply/{compiled.key}/status/{received.reference}"
    if is_json or _wants_json(request):
        return JSONResponse({"reference": received.reference, "status_url": follow},
                            status_code=201, headers={"Location": follow})
    return render(request, "apply_done.html", 201, journey=compiled,
                  title=compiled.label(lang), reference=received.reference, follow=follow)


@router.get("/apply/{journey}/status/{reference}", response_class=HTMLResponse)
def follow_up(request: Request, journey: Annotated[str, Path(pattern=_KEY)],
              reference: Annotated[str, Path(max_length=64)]) -> Response:
    """The application's stage, and nothing else of the project."""
    engine = engine_of(request)
    lang = language(request)
    try:
        found = applications.status(engine, reference, journey)
    except NotFound as exc:
        return _refused(request, exc)
    stage = found.journey.stages[found.stage]
    if _wants_json(request):
        return JSONResponse({"journey": found.journey.key, "stage": found.stage,
                             "stage_title": stage.label(lang)})
    return render(request, "apply_status.html", title=found.journey.label(lang),
                  stage=stage.label(lang), stage_key=found.stage,
                  received=local_time(found.received_at, found.journey.timezone))
