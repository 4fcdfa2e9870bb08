"""``/api/v1/projects/{id}/indicators`` and ``/api/v1/projects/{id}/measurements``: a
project's impact indicators, and recording a value for a period (the CLI's ``project
indicators --json`` and ``project measure``).

As every API route: the signed-in user's ``Actor`` calls the engine, whose roles and
partner scopes decide (another partner's project is 404; a user without the indicator's
owner role is 403); errors are ``application/problem+json`` with the CLI's messages.
The project's lock version is its ``ETag``; a measurement sent with ``If-Match`` naming
a version the project no longer has is refused with 412 before anything is written (the
engine's own optimistic lock still refuses a change that loses a race with 409).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from bompao.engine.engine import Engine
from bompao.storage.records import Project
from bompao.web.accounts import User
from bompao.web.deps import Engined, IfMatch, Signed
from bompao.web.pages.indicators import indicator_data
from bompao.web.problems import Stale

__all__ = ["NewMeasurement", "do_measure", "router"]

router = APIRouter(prefix="/api/v1", tags=["indicators"])


class NewMeasurement(BaseModel):
    """``POST /projects/{id}/measurements``: a value of a declared indicator."""

    model_config = ConfigDict(extra="forbid")

    indicator: str = Field(max_length=100)
    value: bool | int | float | str = Field(
        description="A number, true/false, or text as the CLI takes it (12, 45.5, 45%, yes)")
    period: str | None = Field(None, max_length=20,
                               description="2027-03, 2027-Q1, 2027-H1 or 2027; default: now")
    note: str | None = Field(None, max_length=2000)


def _etag(project: Project) -> str:
    return f'"{project.lock_version}"'


def _check_if_match(engine: Engine, project_id: int, user: User, if_match: str | None) -> None:
    """Refuse when ``If-Match`` names no current version of the project.

    Raises:
        NotFound: no such project in the user's scope.
        Stale: the tags name other versions (or none at all).
    """
    if if_match is None:
        return
    tags = [tag.strip() for tag in if_match.split(",")]
    if "*" in tags:
        return
    current = engine.get(project_id, user.actor()).lock_version
    versions = {int(tag[1:-1]) for tag in tags
                if len(tag) > 2 and tag[0] == tag[-1] == '"' and tag[1:-1].isdigit()}
    if current not in versions:
        raise Stale(f"If-Match {if_match[:80]!r} does not name version {current} of project "
                    f'{project_id}: read it again and send its ETag, e.g. "{current}"')


@router.get("/projects/{project_id}/indicators",
            summary="A project's indicators: values, corrections, missing periods")
def project_indicators(project_id: int, user: Signed, engine: Engined,
                       response: Response) -> dict[str, Any]:
    """Each indicator the project's journey declares: its declaration (title, unit, type,
    rhythm, owner, baseline, target, tags), its summary (``total``, ``latest``,
    ``periods``, ``missing``, ``progress``, ``missing_periods``), each period's effective
    value with the earlier values it ``corrected``, the ``current_period`` and
    ``due_now``, and ``can_record`` (whether this user holds the owner role)."""
    actor = user.actor()
    project = engine.get(project_id, actor)
    events = engine.history(project_id, actor)
    journey = engine.journey(project.journey_key, project.journey_version)
    response.headers["ETag"] = _etag(project)
    return {"project": project.id, "journey": journey.ref,
            "indicators": indicator_data(journey, project, events, engine.now(), actor)}


@router.post("/projects/{project_id}/measurements", status_code=201,
             summary="Record an indicator's value for a period (a second one corrects it)")
def record_measurement(project_id: int, body: NewMeasurement, user: Signed,  # noqa: PLR0917
                       engine: Engined, response: Response,
                       if_match: IfMatch = None) -> dict[str, Any]:
    """Record ``value`` for ``period`` (default: the current one) as the signed-in user:
    422 for a value of the wrong type, a period outside the rhythm or not begun, an
    unknown indicator; 403 without the indicator's owner role; 404 for a project outside
    the user's partner. Answers the recorded event and the project's new ``ETag``."""
    answer, headers = do_measure(engine, user, project_id, body, if_match)
    response.headers.update(headers)
    return answer


def do_measure(engine: Engine, user: User, project_id: int, body: NewMeasurement,
               if_match: str | None) -> tuple[dict[str, Any], dict[str, str]]:
    """``POST /projects/{id}/measurements`` after its body was read (blocking): the
    recorded event, and the ``ETag`` and ``Location`` headers.

    Raises:
        BompaoError: as :meth:`Engine.measure`, and :class:`Stale`.
    """
    _check_if_match(engine, project_id, user, if_match)
    actor = user.actor()
    text = isinstance(body.value, str)
    moved = engine.measure(project_id, body.indicator, body.period, body.value,
                           note=body.note, actor=actor, text=text)
    event = next(e for e in reversed(engine.history(project_id, actor))
                 if e.kind == "measured" and e.seq <= moved.lock_version)
    return ({"project": moved.id, "seq": event.seq, "at": event.at.isoformat(),
             "by": event.actor, **event.payload, "lock_version": moved.lock_version},
            {"ETag": _etag(moved), "Location": f"/api/v1/projects/{project_id}/indicators"})
