"""``/me``: my work. The projects assigned to the signed-in person, the follow-ups due on
them in the next week, and the gates that wait for an approval in one of their roles
(that they have not given yet in this stage visit).

A person is matched to assignments by their display name, as the engine compares
names (:func:`~bompao.engine.actor.person_key`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bompao.definitions.texts import pick
from bompao.engine.actor import person_key
from bompao.web.pages.common import engine_of, local_time, render, signed_in, texts
from bompao.web.pages.live import last_event
from bompao.web.pages.project import action_text, spec_text
from bompao.web.problems import language

__all__ = ["MAX_CHECKED", "router"]

router = APIRouter(include_in_schema=False)
MAX_CHECKED = 500
"""Projects whose gates are evaluated for the approvals list (the oldest in stage first)."""
DUE_WITHIN = timedelta(days=7)


@router.get("/me", response_class=HTMLResponse)
def my_work(request: Request) -> HTMLResponse:
    """My projects, what is due, what waits for my approval."""
    user = signed_in(request)
    engine = engine_of(request)
    actor = user.actor()
    lang = language(request)
    me = person_key(user.display_name)
    every = engine.list_projects(actor=actor)
    mine = [p for p in every
            if any(person_key(name) == me for people in p.assignments.values()
                   for name in people)]
    labels: dict[tuple[str, int], dict[str, str]] = {}

    def stage_title(project: Any) -> str:
        key = (project.journey_key, project.journey_version)
        if key not in labels:
            journey = engine.journey(*key)
            labels[key] = {n: s.label(lang) for n, s in journey.stages.items()}
        return labels[key].get(project.stage, str(project.stage))

    ids = {p.id for p in mine}
    names = {p.id: p.name for p in every}
    t = texts(lang)
    by_version: dict[tuple[str, int], dict[str, str]] = {}  # once per journey version
    titles: dict[int, dict[str, str]] = {}
    for project in mine:
        key = (project.journey_key, project.journey_version)
        if key not in by_version:
            journey = engine.journey(*key)
            by_version[key] = {name: pick(spec.title, lang, name)
                               for name, spec in journey.doc.indicators.items()}
        titles[project.id] = by_version[key]
    due = [f for f in engine.list_follow_ups(due_by=engine.now() + DUE_WITHIN,
                                             status="pending", actor=actor, limit=500)
           if f["project"] in ids]
    waiting: list[dict[str, Any]] = []
    if actor.roles:
        candidates = sorted(every, key=lambda p: p.stage_entered_at)[:MAX_CHECKED]
        for project in candidates:
            given = {role for role, entries in project.approvals.items()
                     if any(person_key(str(e.get("by") or "")) == me for e in entries)}
            roles: set[str] = set()
            for report in engine.checks(project.id, actor=actor, lang=lang):
                roles.update(str(c.seen.get("role")) for c in report.criteria
                             if c.kind == "approval" and not c.met
                             and c.seen.get("role") in actor.roles)
            waiting.extend({"id": project.id, "name": project.name, "role": role,
                            "stage": stage_title(project)} for role in sorted(roles - given))
    return render(
        request, "me.html", user=user,
        projects=[{"id": p.id, "name": p.name, "stage": stage_title(p),
                   "days": (engine.now() - p.stage_entered_at).days,
                   "roles": sorted(r for r, people in p.assignments.items()
                                   if any(person_key(n) == me for n in people))}
                  for p in mine],
        due=[{**f, "name": names.get(f["project"], ""), "due": f["due_at"][:16].replace(
            "T", " "), "spec_text": spec_text(str(f["spec"]), t, titles.get(f["project"])),
              "action_text": action_text(str(f["action"]), t)} for f in due],
        waiting=waiting, last_event=last_event(engine, user), local_time=local_time)
