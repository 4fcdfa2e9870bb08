"""``/projects/{id}``: one project: its fields, its gates criterion by criterion, evidence,
approvals, advance and override, its impact indicators and a form to record a value,
history, follow-ups and the journey diagram.

Every read and change goes through the engine as the signed-in user's ``Actor``, so the
journey's roles and the user's partner decide: another partner's project is 404 on every
route here, a role the user lacks is the engine's 403. A refusal is shown as one line at
the top of the page, with the refusal's status; the gate reports below it say what is
missing. A change that succeeds answers ``303`` back to the page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import anyio
from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from bompao.catalogue import CATALOGUE
from bompao.definitions import CompiledJourney
from bompao.definitions.messages import Message, text
from bompao.definitions.texts import pick
from bompao.engine.actor import Actor, clean_name, person_key
from bompao.engine.gates import GateReport
from bompao.errors import BompaoError, InvalidValue, NotFound
from bompao.storage.records import Project
from bompao.web.accounts import User
from bompao.web.pages.common import (
    engine_of,
    local_time,
    refusal,
    render,
    signed_in,
    texts,
    verify_csrf,
)
from bompao.web.pages.diagrams import journey_svg
from bompao.web.pages.indicators import indicator_views
from bompao.web.pages.live import last_event
from bompao.web.pages.review import SCORE_PREFIX, review_view
from bompao.web.pages.uploads import Refused, check_upload, file_url, store, stored_path
from bompao.web.problems import language

__all__ = ["action_text", "not_found", "refusal_text", "router", "spec_text"]

router = APIRouter(include_in_schema=False)
Token = Annotated[str | None, Form(alias="csrf_token")]
_FIELD = "field."
_MAX_FORM_FIELDS = 200
_SLACK = 64 * 1024
"""Bytes a multipart body may have beyond the file itself (the other fields, headers)."""


def not_found(request: Request, user: User | None, message: str) -> HTMLResponse:
    """The page for an unknown id or another partner's project (404)."""
    return render(request, "not_found.html", 404, user=user, error=message)


def _text_of(kind: str, value: Any, zone: str) -> str:
    """A stored value as an input shows it."""
    if value is None:
        return ""
    if kind == "bool":
        return "true" if value else "false"
    if kind.startswith("list["):
        return ", ".join(str(v) for v in value)
    if kind == "datetime":
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return str(moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M"))
    if kind == "date":
        return str(value)[:10]
    return str(value)


def _fields(journey: CompiledJourney, project: Project, lang: str) -> list[dict[str, Any]]:
    return [{"name": name, "title": pick(spec.title, lang, name), "type": spec.type,
             "value": _text_of(spec.type, project.fields.get(name), journey.timezone),
             "min": spec.min, "max": spec.max}
            for name, spec in journey.fields.items()]


def _evidence(journey: CompiledJourney, project: Project, lang: str) -> list[dict[str, Any]]:
    items = []
    own_files = f"/projects/{project.id}/files/"
    for name, spec in journey.evidence.items():
        item = project.evidence.get(name)
        url = (item or {}).get("url") or ""
        items.append({
            "name": name, "title": pick(spec.title, lang, name), "item": item,
            "file": url.startswith(own_files),
            # only web links become links: a javascript: or data: URL stays text
            "link": url.startswith(("https://", "http://", own_files))})
    return items


def _approval_roles(reports: list[GateReport]) -> set[str]:
    roles: set[str] = set()
    for report in reports:
        for branch in report.branches:
            roles.update(str(c.seen["role"]) for c in branch.criteria
                         if c.kind == "approval" and c.seen.get("role"))
    return roles


def _triggers(journey: CompiledJourney, project: Project, reports: list[GateReport],
              actor: Actor, lang: str) -> list[dict[str, Any]]:
    shown = []
    for report in reports:
        transition = journey.transition(project.stage, report.trigger)
        roles = transition.roles
        shown.append({
            "trigger": report.trigger,
            "title": pick(transition.title, lang, report.trigger),
            "report": report,
            "to_title": journey.stages[report.to_stage].label(lang),
            "allowed": roles is None or bool(actor.roles & roles),
            "roles": ", ".join(sorted(roles or ())),
            "can_override": bool(actor.roles & transition.override_roles)
            and not report.passable})
    return shown


def _event_text(event: Any, labels: dict[str, str], t: Callable[..., str],
                titles: dict[str, str] | None = None,
                names: dict[str, dict[str, str]] | None = None) -> str:
    """One history entry in words; ``titles`` are the indicators' titles, ``names`` the
    fields' and evidence items' (by ``fields`` and ``evidence``) in the page's language."""
    named = names or {}
    payload = event.payload
    kind = event.kind
    stage = labels.get(event.to_stage or "", event.to_stage or "")
    if kind == "created":
        return t("page.event.created", to=stage)
    if event.from_stage and event.to_stage and event.from_stage != event.to_stage:
        before = labels.get(event.from_stage, event.from_stage)
        if payload.get("override"):
            return t("page.event.overridden", from_=before, to=stage,
                     trigger=event.trigger or kind, reason=payload.get("reason") or "")
        return t("page.event.advanced", from_=before, to=stage, trigger=event.trigger or kind)
    if kind == "fields_set":
        fields = named.get("fields", {})
        return t("page.event.fields_set", names=", ".join(
            fields.get(name, name) for name in payload.get("fields", {})))
    if kind == "evidence_added":
        name = str(payload.get("name", ""))
        return t("page.event.evidence_added", name=named.get("evidence", {}).get(name, name))
    if kind == "approved":
        return t("page.event.approved", role=payload.get("role", ""))
    if kind == "assigned":
        return t("page.event.assigned", person=payload.get("person", ""),
                 role=payload.get("role", ""))
    if kind in ("flagged", "unflagged"):
        flag = payload.get("flag", "")
        return t(f"page.event.{kind}",
                 flag=t("page.board.at_risk") if flag == "at_risk" else flag)
    if kind == "measured":
        name = str(payload.get("indicator", ""))
        value = payload.get("value", "")
        if isinstance(value, bool):
            value = t("page.ind.yes" if value else "page.ind.no")
        return t("page.event.measured", indicator=(titles or {}).get(name, name),
                 value=value, period=payload.get("period", ""))
    if kind == "follow_up":
        return t("page.event.follow_up",
                 name=spec_text(str(payload.get("spec", "")), t, titles))
    return t("page.event.other", kind=kind)


def spec_text(spec: str, t: Callable[..., str], titles: dict[str, str] | None = None) -> str:
    """A follow-up's name as the page says it: an alumni check-in or an indicator's
    reminder in words, a journey's own follow-up by its id."""
    kind, _, rest = spec.partition(":")
    if kind == "check_in" and rest:
        count, _, unit = rest.partition("_")
        after = t("page.ind.months", count=count) if unit.startswith("month") else rest
        return t("page.followup.check_in", after=after)
    if kind == "indicator" and rest:
        return t("page.followup.indicator", indicator=(titles or {}).get(rest, rest))
    return spec


def action_text(action: str, t: Callable[..., str]) -> str:
    """A follow-up's action as the page says it (``notify`` -> แจ้งเตือน in Thai)."""
    key = f"page.action.{action}"
    return t(key) if key in CATALOGUE else action


def _page(request: Request, user: User, project_id: int, *, status: int = 200,
          error: str | None = None, measure: dict[str, str] | None = None) -> HTMLResponse:
    """The project page (or the 404 page), with ``error`` shown on top and a refused
    measurement's form (``measure``: what was sent, and ``error``) next to its form."""
    engine = engine_of(request)
    actor = user.actor()
    lang = language(request)
    try:
        project = engine.get(project_id, actor)
        reports = engine.checks(project_id, actor=actor, lang=lang)
        history = engine.history(project_id, actor)
        followups = engine.list_follow_ups(project=project_id, status="pending", actor=actor,
                                           limit=20)
    except NotFound as exc:
        return not_found(request, user, refusal(request, exc)[1])
    journey = engine.journey(project.journey_key, project.journey_version)
    labels = {name: stage.label(lang) for name, stage in journey.stages.items()}
    t = texts(lang)
    titles = {name: pick(spec.title, lang, name)
              for name, spec in journey.doc.indicators.items()}
    names = {"fields": {name: pick(spec.title, lang, name)
                        for name, spec in journey.fields.items()},
             "evidence": {name: pick(spec.title, lang, name)
                          for name, spec in journey.evidence.items()}}
    mine = person_key(user.display_name)
    approvable = sorted(
        role for role in _approval_roles(reports) & set(actor.roles)
        if not any(person_key(str(e.get("by") or "")) == mine
                   for e in project.approvals.get(role, [])))
    svg, dot = journey_svg(journey, lang, project.stage)
    zone = journey.timezone
    return render(
        request, "project.html", status, user=user, error=error, project=project,
        journey=journey, journey_title=journey.label(lang),
        stage_title=labels.get(project.stage, project.stage),
        since=local_time(project.stage_entered_at, zone),
        days=int((engine.now() - project.stage_entered_at).total_seconds() // 86400),
        final=journey.stages[project.stage].final if project.stage in journey.stages else False,
        fields=_fields(journey, project, lang), evidence=_evidence(journey, project, lang),
        triggers=_triggers(journey, project, reports, actor, lang), approvable=approvable,
        approvals={role: ", ".join(e["by"] for e in entries)
                   for role, entries in project.approvals.items() if entries},
        history=[{"at": local_time(e.at, zone),
                  "actor": t("page.event.system") if e.actor == "system" else e.actor,
                  "role": e.role, "text": _event_text(e, labels, t, titles, names)}
                 for e in reversed(history)],
        followups=[{**f, "due": f["due_at"][:16].replace("T", " "),
                    "spec_text": spec_text(str(f["spec"]), t, titles),
                    "action_text": action_text(str(f["action"]), t)} for f in followups],
        indicators=indicator_views(journey, project, history, engine.now(), actor, lang),
        review=review_view(journey, project, history, user.display_name, lang),
        measure=measure or {},
        upload_limit=_size(request.app.state.config.web.upload_limit),
        upload_types=", ".join(request.app.state.config.web.upload_types),
        diagram_svg=svg, diagram_text=dot, last_event=last_event(engine, user))


def _size(limit: int) -> str:
    return f"{limit / 1_000_000:g} MB" if limit >= 1_000_000 else f"{limit / 1000:g} kB"


def _done(project_id: int, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/projects/{project_id}{anchor}", status_code=303)


def _attempt(request: Request, user: User, project_id: int, change: Callable[[], Any],
             anchor: str = "") -> Response:
    """Run ``change``; back to the page, or the page with the refusal on it."""
    try:
        change()
    except BompaoError as exc:
        status, message = refusal(request, exc)
        if isinstance(exc, NotFound) and status == 404:
            try:
                engine_of(request).get(project_id, user.actor())
            except NotFound:
                return not_found(request, user, message)
        return _page(request, user, project_id, status=status, error=message)
    return _done(project_id, anchor)


@router.get("/projects/{project_id}", response_class=HTMLResponse)
def project_page(request: Request, project_id: int) -> HTMLResponse:
    """The project page."""
    return _page(request, signed_in(request), project_id)


def _typed_text(kind: str, raw: str, zone: str) -> str:
    """A form value in the text form ``fields_from_text`` reads."""
    if kind == "datetime" and raw and "+" not in raw[10:] and not raw.endswith("Z"):
        try:
            return datetime.fromisoformat(raw).replace(tzinfo=ZoneInfo(zone)).isoformat()
        except ValueError:
            return raw
    return raw


@router.post("/projects/{project_id}/fields")
async def set_fields(request: Request, project_id: int) -> Response:
    """Set the fields whose inputs changed (typed by the journey, through the engine)."""
    form = await request.form(max_files=0, max_fields=_MAX_FORM_FIELDS)
    token = form.get("csrf_token")
    verify_csrf(request, token if isinstance(token, str) else None)
    user = await anyio.to_thread.run_sync(signed_in, request)
    raw = {key.removeprefix(_FIELD): value for key, value in form.items()
           if key.startswith(_FIELD) and isinstance(value, str)}

    def change() -> None:
        engine = engine_of(request)
        project = engine.get(project_id, user.actor())
        journey = engine.journey(project.journey_key, project.journey_version)
        changed = {}
        for name, value in raw.items():
            spec = journey.fields.get(name)
            kind = spec.type if spec is not None else "string"
            current = _text_of(kind, project.fields.get(name), journey.timezone)
            if value.strip() != current.strip():
                changed[name] = _typed_text(kind, value.strip() if kind != "string" else value,
                                            journey.timezone)
        if changed:
            engine.set_fields(project_id, journey.fields_from_text(changed),
                              actor=user.actor())

    return await anyio.to_thread.run_sync(_attempt, request, user, project_id, change,
                                          "#fields")


@router.post("/projects/{project_id}/evidence")
async def add_evidence(request: Request, project_id: int) -> Response:
    """Attach evidence: a link, a note or an uploaded file (checked before it is stored)."""
    web = request.app.state.config.web
    length = request.headers.get("content-length", "")
    user = await anyio.to_thread.run_sync(signed_in, request)
    if length.isdigit() and int(length) > web.upload_limit + _SLACK:
        await anyio.to_thread.run_sync(engine_of(request).get, project_id, user.actor())
        message = refusal_text(request, "page.upload.too_large", name="",
                               size=int(length), limit=web.upload_limit)
        return await anyio.to_thread.run_sync(
            lambda: _page(request, user, project_id, status=413, error=message))
    form = await request.form(max_files=1, max_fields=20)
    token = form.get("csrf_token")
    verify_csrf(request, token if isinstance(token, str) else None)
    name = str(form.get("name") or "")
    url = str(form.get("url") or "").strip() or None
    note = str(form.get("note") or "").strip() or None
    upload = form.get("file")
    data = b""
    filename = ""
    if isinstance(upload, UploadFile) and upload.filename:
        filename = clean_name(upload.filename.replace("/", " ").replace("\\", " "))
        data = await upload.read(web.upload_limit + 1)
    lang = language(request)

    def change() -> None:
        engine = engine_of(request)
        project = engine.get(project_id, user.actor())
        if not filename:
            if url is None and note is None:
                raise Refused(422, refusal_text(request, "page.upload.choose", name=name))
            engine.add_evidence(project_id, name, url, note, actor=user.actor())
            return
        journey = engine.journey(project.journey_key, project.journey_version)
        if name not in journey.evidence:  # refused as the engine would, before any write
            known = ", ".join(sorted(journey.evidence)) or Message("none")
            raise InvalidValue(Message("value.evidence_unknown", name=name, ref=journey.ref,
                                       known=known))
        ending = check_upload(filename, data, limit=web.upload_limit,
                              allowed=tuple(web.upload_types), lang=lang)
        path = store(web.upload_dir, project_id, ending, data)
        try:
            engine.add_evidence(project_id, name, file_url(project_id, path),
                                note or filename, actor=user.actor())
        except BaseException:
            path.unlink(missing_ok=True)
            raise

    def attempt() -> Response:
        try:
            return _attempt(request, user, project_id, change, "#evidence")
        except Refused as refused:
            return _page(request, user, project_id, status=refused.status,
                         error=refused.message)

    return await anyio.to_thread.run_sync(attempt)


def refusal_text(request: Request, key: str, **params: Any) -> str:
    """A page refusal's text in the request's language."""
    return text(key, language(request), **params)


@router.get("/projects/{project_id}/files/{name}")
def download(request: Request, project_id: int, name: str) -> Response:
    """An uploaded evidence file, as an attachment (only to users who see the project)."""
    user = signed_in(request)
    try:
        project = engine_of(request).get(project_id, user.actor())
    except NotFound as exc:
        return not_found(request, user, refusal(request, exc)[1])
    path = stored_path(request.app.state.config.web.upload_dir, project.id, name)
    if path is None:
        return not_found(request, user, refusal_text(request, "page.error.not_found"))
    return FileResponse(path, media_type="application/octet-stream", filename=name,
                        content_disposition_type="attachment")


@router.post("/projects/{project_id}/approve")
def approve(request: Request, project_id: int, role: Annotated[str, Form(max_length=100)],
            token: Token = None) -> Response:
    """Approve the project in ``role``, as the signed-in user (the engine checks the role)."""
    verify_csrf(request, token)
    user = signed_in(request)
    return _attempt(request, user, project_id, lambda: engine_of(request).approve(
        project_id, role, actor=user.actor()))


@router.post("/projects/{project_id}/advance")
def advance(request: Request, project_id: int,
            trigger: Annotated[str, Form(max_length=100)],
            override: Annotated[str | None, Form(max_length=10)] = None,
            reason: Annotated[str | None, Form(max_length=2000)] = None,
            token: Token = None) -> Response:
    """Fire ``trigger`` (an override needs a reason and a role the journey allows)."""
    verify_csrf(request, token)
    user = signed_in(request)
    return _attempt(request, user, project_id, lambda: engine_of(request).advance(
        project_id, trigger, user.actor(), override=bool(override),
        reason=(reason or "").strip() or None))


@router.post("/projects/{project_id}/scores")
async def record_scores(request: Request, project_id: int) -> Response:
    """Record the signed-in reviewer's scores on the rubric (``score.CRITERION`` inputs;
    saving again replaces the set); the engine checks the assignment, the conflicts,
    the stage and each value's scale."""
    form = await request.form(max_files=0, max_fields=_MAX_FORM_FIELDS)
    token = form.get("csrf_token")
    verify_csrf(request, token if isinstance(token, str) else None)
    user = await anyio.to_thread.run_sync(signed_in, request)
    scores = {key.removeprefix(SCORE_PREFIX): value for key, value in form.items()
              if key.startswith(SCORE_PREFIX) and isinstance(value, str) and value.strip()}
    note = form.get("note")
    note = note.strip() if isinstance(note, str) and note.strip() else None

    def change() -> None:
        from bompao.engine.selection import score  # noqa: PLC0415

        score(engine_of(request), project_id, user.display_name, scores, note=note,
              actor=user.actor())

    return await anyio.to_thread.run_sync(_attempt, request, user, project_id, change,
                                          "#review")


@router.post("/projects/{project_id}/measurements")
def record_measurement(
        request: Request, project_id: int, indicator: Annotated[str, Form(max_length=100)],
        value: Annotated[str, Form(max_length=100)] = "",
        period: Annotated[str, Form(max_length=20)] = "",
        note: Annotated[str, Form(max_length=2000)] = "", token: Token = None) -> Response:
    """Record ``value`` of ``indicator`` for ``period`` (empty: the current one) as the
    signed-in user; the engine checks the owner role, the type and the period. A refused
    value is shown next to the form, with what was sent kept in it."""
    verify_csrf(request, token)
    user = signed_in(request)
    sent = {"indicator": indicator, "value": value, "period": period, "note": note}
    engine = engine_of(request)

    def change() -> None:
        if not value.strip():
            engine.get(project_id, user.actor())  # another partner's project stays 404
            raise InvalidValue(Message("page.ind.empty_value", name=indicator))
        engine.measure(project_id, indicator, period.strip() or None, value.strip(),
                       note=note.strip() or None, actor=user.actor(), text=True)

    try:
        change()
    except NotFound as exc:
        return not_found(request, user, refusal(request, exc)[1])
    except InvalidValue as exc:
        status, message = refusal(request, exc)
        return _page(request, user, project_id, status=status,
                     measure={**sent, "error": message})
    except BompaoError as exc:
        status, message = refusal(request, exc)
        return _page(request, user, project_id, status=status, error=message)
    return _done(project_id, "#indicators")
