"""``/api/v1``: the JSON API. Every route is thin: it turns the signed-in user into the
engine's ``Actor`` and calls the engine, whose roles and partner scopes decide.

A project of another partner is "not found" (404) on every route, as the engine says.
A project's ``ETag`` is its lock version; a change sent with ``If-Match`` is refused
with 412 when the project has moved on, checked by the engine inside the change's own
transaction (``expected_version``), so a change that loses a race is 412 too.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import orjson
from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bompao.engine.engine import Engine
from bompao.errors import NotFound
from bompao.storage import feeds
from bompao.storage.records import Project
from bompao.web import api_reports, ical, stream
from bompao.web.accounts import User
from bompao.web.deps import Engined, IfMatch, Signed, cached_user, current_user, in_engine_thread
from bompao.web.problems import Stale, language

__all__ = ["MAX_PAGE", "Advance", "Answer", "NewApproval", "NewAssignment", "NewEvidence",
           "do_add_evidence", "do_advance", "do_approve", "do_assign", "do_set_fields",
           "router"]

router = APIRouter(prefix="/api/v1", tags=["api"])
MAX_PAGE = 500


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


_B = TypeVar("_B", bound=BaseModel)


class NewProject(_Body):
    """``POST /projects``."""

    journey: str = Field(description="KEY or KEY@VERSION")
    name: str
    partner: str | None = None
    cohort: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict)


class NewEvidence(_Body):
    """``POST /projects/{id}/evidence``."""

    name: str
    url: str | None = None
    note: str | None = None


class NewApproval(_Body):
    """``POST /projects/{id}/approvals``: recorded under the signed-in user's own name."""

    role: str


class NewAssignment(_Body):
    """``POST /projects/{id}/assignments``: the CLI's ``project assign``."""

    role: str
    person: str = Field(description="The person's name, as recorded in history")


class Advance(_Body):
    """``POST /projects/{id}/advance``."""

    trigger: str
    role: str | None = None
    override: bool = False
    reason: str | None = None


def _etag(project: Project) -> str:
    return f'"{project.lock_version}"'


def _shown(project: Project, response: Response) -> dict[str, Any]:
    response.headers["ETag"] = _etag(project)
    return {**project.as_dict(), "lock_version": project.lock_version}


def _expected(engine: Engine, project_id: int, user: User, if_match: str | None
              ) -> int | None:
    """The lock version ``If-Match`` names, for the engine to check inside the change's
    own transaction (``None``: no header, or ``*``).

    If-Match compares strongly (RFC 9110): a weak tag (``W/"3"``) or one that is not a
    lock version never matches. Of several tags, the project's current version is taken
    when it is among them; the engine then refuses the change if it moves meanwhile.

    Raises:
        NotFound: no such project in the user's scope.
        Stale: no tag names a version of the project.
    """
    if if_match is None:
        return None
    tags = [tag.strip() for tag in if_match.split(",")]
    if "*" in tags:
        return None
    versions = [int(tag[1:-1]) for tag in tags
                if len(tag) > 2 and tag[0] == tag[-1] == '"' and tag[1:-1].isdigit()]
    if len(versions) == 1:
        return versions[0]
    current = engine.get(project_id, user.actor()).lock_version
    if current in versions:
        return current
    if versions:
        return versions[0]
    raise Stale(f"If-Match {if_match[:80]!r} names no version of project {project_id}: send "
                f'the ETag last read, e.g. "{current}"')


# journeys ----------------------------------------------------------------------------------


@router.get("/journeys", summary="Published journeys")
def list_journeys(user: Signed, engine: Engined) -> list[dict[str, Any]]:
    """Every published journey version the user's partner may use."""
    partner = user.partner
    return [j for j in engine.list_journeys()
            if partner is None or j["partner"] in (None, partner)]


@router.get("/journeys/{key}", summary="A journey's latest version")
def get_journey(key: str, user: Signed, engine: Engined) -> dict[str, Any]:
    """The journey's stages and transitions."""
    journey = engine.journey(key, publish=False)
    if user.partner is not None and journey.partner not in (None, user.partner):
        raise NotFound(f"unknown journey {key!r}")
    return {"journey": journey.key, "version": journey.version, "partner": journey.partner,
            "timezone": journey.timezone, "initial": journey.initial,
            "stages": {name: {"triggers": list(journey.triggers(name))}
                       for name in journey.stages}}


# projects ----------------------------------------------------------------------------------


@router.get("/projects", summary="Projects, a page at a time")
def list_projects(
        user: Signed, engine: Engined, journey: str | None = None, stage: str | None = None,
        partner: str | None = None, cohort: str | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
        cursor: Annotated[int, Query(ge=0, description="`next` of the previous page")] = 0,
) -> dict[str, Any]:
    """Projects matching every filter, by id; ``next`` is the cursor of the next page."""
    scope = user.partner
    if scope is not None and partner is not None and partner != scope:
        return {"items": [], "next": None}
    filters: dict[str, Any] = {"journey": journey, "stage": stage, "cohort": cohort}
    if scope is not None or partner is not None:
        filters["partner"] = scope or partner
    with engine.db.begin(write=False) as conn:
        found = feeds.projects_after(conn, after=cursor, limit=limit + 1, **filters)
    items = found[:limit]
    more = len(found) > limit
    return {"items": [{**p.as_dict(), "lock_version": p.lock_version} for p in items],
            "next": items[-1].id if more else None}


@router.post("/projects", status_code=201, summary="Start a project")
def create_project(body: NewProject, user: Signed, engine: Engined,
                   response: Response) -> dict[str, Any]:
    """Create a project at its journey's initial stage (for the user's own partner)."""
    project = engine.create_project(body.journey, body.name, body.partner, body.cohort,
                                    body.fields, actor=user.actor())
    response.headers["Location"] = f"/api/v1/projects/{project.id}"
    return _shown(project, response)


@router.get("/projects/{project_id}", summary="A project (ETag: its lock version)")
def get_project(project_id: int, user: Signed, engine: Engined,
                response: Response) -> dict[str, Any]:
    """The project as stored now."""
    return _shown(engine.get(project_id, user.actor()), response)


Answer = tuple[dict[str, Any], dict[str, str]]
"""A write route's JSON body and its headers (``ETag``, ``Location``)."""


def _answer(project: Project) -> Answer:
    return ({**project.as_dict(), "lock_version": project.lock_version},
            {"ETag": _etag(project)})


def _respond(answer: Answer, response: Response) -> dict[str, Any]:
    response.headers.update(answer[1])
    return answer[0]


def do_set_fields(engine: Engine, user: User, project_id: int, values: dict[str, Any],
                  if_match: str | None) -> Answer:
    """``PATCH /projects/{id}/fields`` after its body was read (blocking).

    Raises:
        BompaoError: as :meth:`Engine.set_fields`, and :class:`Stale`.
    """
    expected = _expected(engine, project_id, user, if_match)
    return _answer(engine.set_fields(project_id, values, actor=user.actor(),
                                     expected_version=expected))


def do_add_evidence(engine: Engine, user: User, project_id: int, body: NewEvidence,
                    if_match: str | None) -> Answer:
    """``POST /projects/{id}/evidence`` after its body was read (blocking).

    Raises:
        BompaoError: as :meth:`Engine.add_evidence`, and :class:`Stale`.
    """
    expected = _expected(engine, project_id, user, if_match)
    return _answer(engine.add_evidence(project_id, body.name, body.url, body.note,
                                       actor=user.actor(), expected_version=expected))


def do_approve(engine: Engine, user: User, project_id: int, body: NewApproval,
               if_match: str | None) -> Answer:
    """``POST /projects/{id}/approvals`` after its body was read (blocking).

    Raises:
        BompaoError: as :meth:`Engine.approve`, and :class:`Stale`.
    """
    expected = _expected(engine, project_id, user, if_match)
    return _answer(engine.approve(project_id, body.role, actor=user.actor(),
                                  expected_version=expected))


def do_assign(engine: Engine, user: User, project_id: int, body: NewAssignment,
              if_match: str | None) -> Answer:
    """``POST /projects/{id}/assignments`` after its body was read (blocking).

    Raises:
        BompaoError: as :meth:`Engine.assign`, and :class:`Stale`.
    """
    expected = _expected(engine, project_id, user, if_match)
    return _answer(engine.assign(project_id, body.role, body.person, actor=user.actor(),
                                 expected_version=expected))


def do_advance(engine: Engine, user: User, project_id: int, body: Advance,
               if_match: str | None) -> Answer:
    """``POST /projects/{id}/advance`` after its body was read (blocking).

    Raises:
        BompaoError: as :meth:`Engine.advance`, and :class:`Stale`.
    """
    expected = _expected(engine, project_id, user, if_match)
    return _answer(engine.advance(project_id, body.trigger, user.actor(), role=body.role,
                                  override=body.override, reason=body.reason,
                                  expected_version=expected))


@router.patch("/projects/{project_id}/fields", summary="Set fields")
def set_fields(project_id: int, values: dict[str, Any], user: Signed, engine: Engined,
               response: Response, if_match: IfMatch = None) -> dict[str, Any]:
    """Set field values (checked against the journey's types)."""
    return _respond(do_set_fields(engine, user, project_id, values, if_match), response)


@router.post("/projects/{project_id}/evidence", summary="Attach evidence")
def add_evidence(project_id: int, body: NewEvidence, user: Signed, engine: Engined,
                 response: Response, if_match: IfMatch = None) -> dict[str, Any]:
    """Attach a declared evidence item (a link, a note or both)."""
    return _respond(do_add_evidence(engine, user, project_id, body, if_match), response)


@router.post("/projects/{project_id}/approvals", summary="Approve, as yourself")
def approve(project_id: int, body: NewApproval, user: Signed, engine: Engined,
            response: Response, if_match: IfMatch = None) -> dict[str, Any]:
    """Record the user's approval in ``role`` (403 when the user does not hold it)."""
    return _respond(do_approve(engine, user, project_id, body, if_match), response)


@router.post("/projects/{project_id}/assignments", summary="Assign a person to a role")
def assign(project_id: int, body: NewAssignment, user: Signed, engine: Engined,
           response: Response, if_match: IfMatch = None) -> dict[str, Any]:
    """Assign ``person`` to ``role`` (a coach, a committee member...); 403 when the
    journey's ``assign_roles`` name none of the user's roles."""
    return _respond(do_assign(engine, user, project_id, body, if_match), response)


@router.get("/projects/{project_id}/check", summary="Gate reports of every trigger")
def check_all(project_id: int, request: Request, user: Signed,
              engine: Engined) -> list[dict[str, Any]]:
    """The gate report of each trigger the project's stage offers."""
    return [r.as_dict() for r in engine.checks(project_id, actor=user.actor(),
                                               lang=language(request))]


@router.get("/projects/{project_id}/check/{trigger}", summary="A gate report")
def check(project_id: int, trigger: str, request: Request, user: Signed,
          engine: Engined) -> dict[str, Any]:
    """The CLI's ``project check --json``: criterion by criterion, what is missing."""
    return engine.check(project_id, trigger, actor=user.actor(),
                        lang=language(request)).as_dict()


def _body(model: type[_B], raw: bytes) -> _B:
    """The request body as ``model``, or the same 422 FastAPI gives a declared body.

    Raises:
        RequestValidationError: the body is not JSON or does not fit ``model``.
    """
    try:
        return model.model_validate_json(raw or b"null")
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None


def _json_body(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI ``requestBody`` of a route that reads ``model`` itself."""
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": model.model_json_schema(ref_template="#/components/schemas/{model}")}}}}


@router.post("/projects/{project_id}/advance", summary="Fire a trigger",
             response_model=dict[str, Any], openapi_extra=_json_body(Advance))
async def advance(project_id: int, request: Request) -> Response:
    """Move the project (409 with the report when the gate refuses; 403 for a role the
    transition or override needs; an override needs a reason).

    The hottest route, so it does by hand what FastAPI's declared body, dependencies
    and response model would (they cost more than the advance): the body is checked
    against :class:`Advance`, a cached bearer token's user is taken on the event loop,
    and the engine runs on the writer threads (:func:`~bompao.web.deps.writer_threads`).
    """
    body = _body(Advance, await request.body())
    user = cached_user(request)
    engine: Engine = request.app.state.engine
    if_match = request.headers.get("if-match")

    def call() -> Answer:
        return do_advance(engine, user or current_user(request), project_id, body, if_match)

    answer, headers = await in_engine_thread(request, call)
    return Response(orjson.dumps(answer), 200, headers, media_type="application/json")


@router.get("/projects/{project_id}/history", summary="The project's events")
def history(project_id: int, user: Signed, engine: Engined) -> list[dict[str, Any]]:
    """Every event of the project, oldest first."""
    return [e.as_dict() for e in engine.history(project_id, user.actor())]


@router.get("/projects/{project_id}/followups", summary="The project's follow-ups")
def followups(project_id: int, user: Signed, engine: Engined, status: str | None = None,
              due: Annotated[bool, Query(description="only pending ones due now")] = False
              ) -> list[dict[str, Any]]:
    """Follow-ups of the project, soonest first (times in the journey's timezone)."""
    return engine.list_follow_ups(project=project_id, status=status, actor=user.actor(),
                                  due_by=engine.now() if due else None)


# the change feed -----------------------------------------------------------------------------


@router.get("/events", summary="The change feed")
def events(user: Signed, engine: Engined,
           after: Annotated[int, Query(ge=0, description="the last event id seen")] = 0,
           limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100) -> dict[str, Any]:
    """Events after ``after`` (of the user's partner's projects), oldest first; ``next``
    is the id to ask after next time (the same ``after`` when nothing is new)."""
    scope = {} if user.partner is None else {"partner": user.partner}
    with engine.db.begin(write=False) as conn:
        items = feeds.events_after(conn, after=after, limit=limit, **scope)
    return {"items": items, "next": items[-1]["id"] if items else after}


for _part in (api_reports.router, stream.router, ical.router):
    router.include_router(_part)
