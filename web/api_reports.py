"""``/api/v1/reports/{name}``, ``/api/v1/reports/alumni`` and ``/api/v1/followups``: the
CLI's ``report NAME --json``, ``report alumni --json`` and ``followups list --json``,
scoped to the user's partner.

A user of one partner sees only that partner's projects counted (a ``partner`` filter
may only repeat it); a user of every partner may narrow a report to one.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from bompao.engine.alumni import alumni_report
from bompao.engine.indicators import impact_report
from bompao.engine.reports import Filters, Reports
from bompao.engine.times import parse_time
from bompao.errors import NotFound
from bompao.storage import feeds
from bompao.web.deps import Engined, Signed, partner_scope

__all__ = ["REPORT_NAMES", "router"]

router = APIRouter(tags=["reports"])
REPORT_NAMES = ("funnel", "stages", "at-risk", "coaches", "impact")
ReportName = Literal["funnel", "stages", "at-risk", "coaches", "impact"]
_DEFAULT_JOURNEY = "social-incubator"


@router.get("/reports/alumni", summary="Alumni survival (the CLI's report alumni --json)")
def alumni(user: Signed, engine: Engined, journey: str | None = None,
           partner: str | None = None, cohort: str | None = None) -> dict[str, Any]:
    """Survival by cohort at each check-in after the handoff (``due``, ``reported``,
    ``operating``, ``share``), exactly as ``bompao report alumni --json`` prints it,
    counting the user's partner's projects only. Without ``journey``, the journey with
    most of the user's projects."""
    scope = partner_scope(user, partner)
    key = _journey_of(engine, user, journey, scope)
    return alumni_report(engine, journey=key, partner=scope, cohort=cohort,
                         actor=user.actor())


def _journey_of(engine: Any, user: Any, journey: str | None, scope: str | None) -> str:
    """``journey``, else the busiest one of the scope.

    Raises:
        NotFound: another partner's journey (as ``/journeys/{key}`` answers).
    """
    if journey is None:
        with engine.db.begin(write=False) as conn:
            journey = feeds.busiest_journey(conn, partner=scope) or _DEFAULT_JOURNEY
    compiled = engine.journey(journey)
    if user.partner is not None and compiled.partner not in (None, user.partner):
        raise NotFound(f"unknown journey {journey!r}")
    return str(journey)


@router.get("/reports/{name}", summary="A program report (the CLI's report NAME --json)")
def report(  # noqa: PLR0917 - one query parameter per CLI option
        name: ReportName, user: Signed, engine: Engined, journey: str | None = None,
        version: int | None = None, partner: str | None = None, cohort: str | None = None,
        since: Annotated[str | None, Query(description="ISO 8601; stage entries from")] = None,
        until: Annotated[str | None, Query(description="ISO 8601; entries before")] = None,
) -> Any:
    """``funnel``, ``stages``, ``at-risk`` and ``coaches`` answer a list of rows, ``impact``
    an object, each exactly as ``bompao report NAME --json`` prints it. Without
    ``journey``, the journey with most of the user's projects."""
    scope = partner_scope(user, partner)
    if journey is None:
        with engine.db.begin(write=False) as conn:
            journey = feeds.busiest_journey(conn, partner=scope) or _DEFAULT_JOURNEY
    compiled = engine.journey(journey, version)
    if user.partner is not None and compiled.partner not in (None, user.partner):
        raise NotFound(f"unknown journey {journey!r}")  # as /journeys/{key} answers
    if name == "impact":
        return impact_report(engine, journey=journey, partner=scope, cohort=cohort,
                             actor=user.actor())
    filters = Filters(journey, version, scope, cohort,
                      parse_time(since, compiled.timezone) if since else None,
                      parse_time(until, compiled.timezone) if until else None)
    return Reports(engine).run(name, filters)


@router.get("/followups", summary="Follow-ups (the CLI's followups list --json)")
def followups(user: Signed, engine: Engined, project: int | None = None,  # noqa: PLR0917
              status: str | None = None,
              due: Annotated[bool, Query(description="only pending ones due now")] = False,
              limit: Annotated[int, Query(ge=1, le=1000)] = 500) -> list[dict[str, Any]]:
    """Follow-ups of the user's partner's projects (or of ``project``), soonest first,
    times in each journey's timezone; 404 for another partner's project."""
    return engine.list_follow_ups(project=project, status=status, actor=user.actor(),
                                  due_by=engine.now() if due else None, limit=limit)
