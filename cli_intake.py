"""Intake, selection and coaching commands: ``bompao reviews assign``, ``bompao project
score|session``, ``bompao cohort rank|select`` and ``bompao coaches add|edit|remove|list|match``.

Kept apart from ``cli.py`` (which registers them with one call) and as thin: the engine
(``engine/selection.py``, ``engine/coaching.py``) checks and records; these commands
parse options and print.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from bompao.definitions.messages import Message
from bompao.errors import UsageError

__all__ = ["register"]


def _json_flag(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "local_json", is_flag=True,
                        help="Machine-readable output (as the global --json).")(function)


def register(cli: click.Group, project: click.Group, pass_ctx: Callable[..., Any],
             engine_of: Callable[[Any], Any]) -> None:
    """Add the intake commands to ``bompao`` and its ``project`` group.

    Args:
        cli: the ``bompao`` group.
        project: the ``bompao project`` group.
        pass_ctx: the decorator passing the CLI's ``Context``.
        engine_of: opens the engine for a ``Context``.
    """

    @cli.group()
    def reviews() -> None:
        """Reviewers of applications: assigned by load, never with a conflict."""

    @reviews.command("assign")
    @click.option("--journey", required=True, metavar="KEY", help="The journey.")
    @click.option("--cohort", help="The cohort (default: every cohort).")
    @click.option("--dry-run", is_flag=True, help="Show the plan; write nothing.")
    @click.option("--by", help="Who assigns (recorded in the history).")
    @_json_flag
    @pass_ctx
    def reviews_assign(ctx: Any, journey: str, cohort: str | None, dry_run: bool,  # noqa: PLR0917
                       by: str | None, local_json: bool) -> None:
        """Give each project in the scoring stage its reviewers, least loaded first."""
        from bompao.engine.selection import assign_reviewers  # noqa: PLC0415

        ctx.unscoped("reviews assign")
        ctx.as_json = ctx.as_json or local_json
        plan = assign_reviewers(engine_of(ctx), journey, cohort, actor=ctx.actor(by),
                                dry_run=dry_run)
        lines = [f"  {item['id']} {item['name']}: {', '.join(item['reviewers']) or '-'}"
                 for item in plan]
        summary = ctx.say("intake.assigned", added=sum(len(i["added"]) for i in plan),
                          projects=len(plan), short=sum(i["short"] for i in plan))
        ctx.emit({"projects": plan, "dry_run": dry_run}, "\n".join([*lines, summary]))

    @project.command("score")
    @click.argument("project_id", type=int, metavar="ID")
    @click.argument("pairs", nargs=-1, required=True, metavar="CRITERION=VALUE...")
    @click.option("--by", required=True, help="The reviewer (assigned in the scoring role).")
    @click.option("--note", help="A note kept with the scores.")
    @pass_ctx
    def project_score(ctx: Any, project_id: int, pairs: tuple[str, ...], by: str,
                      note: str | None) -> None:
        """Record a reviewer's scores (scoring again replaces the earlier set)."""
        from bompao.engine.selection import score  # noqa: PLC0415

        scores: dict[str, str] = {}
        for pair in pairs:
            name, sep, value = pair.partition("=")
            if not sep or not name.strip():
                raise UsageError(Message("intake.bad_pair", pair=pair))
            scores[name.strip()] = value
        engine = engine_of(ctx)
        score(engine, project_id, by, scores, note=note, actor=ctx.actor(by))
        event = engine.history(project_id, ctx.actor())[-1]
        shown = ", ".join(f"{k}={v}" for k, v in event.payload["scores"].items())
        ctx.emit({"project": project_id, "seq": event.seq, **dict(event.payload)},
                 ctx.say("intake.scored", id=project_id, who=event.payload["reviewer"],
                         scores=shown))

    _register_cohort(cli, pass_ctx, engine_of)
    _register_coaching(cli, project, pass_ctx, engine_of)


def _register_cohort(cli: click.Group, pass_ctx: Callable[..., Any],
                     engine_of: Callable[[Any], Any]) -> None:
    """Add ``cohort rank|select``."""

    @cli.group()
    def cohort() -> None:
        """A cohort's ranking and selection."""

    @cohort.command("rank")
    @click.option("--journey", required=True, metavar="KEY", help="The journey.")
    @click.option("--cohort", "name", help="The cohort (default: every cohort).")
    @_json_flag
    @pass_ctx
    def cohort_rank(ctx: Any, journey: str, name: str | None, local_json: bool) -> None:
        """Rank the cohort's applications by their normalised scores, best first."""
        from bompao.engine.selection import rank  # noqa: PLC0415

        ctx.unscoped("cohort rank")
        found = rank(engine_of(ctx), journey, name, actor=ctx.actor())
        if ctx.as_json or local_json:
            ctx.as_json = True
            ctx.emit([{k: e[k] for k in ("id", "name", "score", "count", "rank")}
                      for e in found])
            return
        from bompao.engine.views import table  # noqa: PLC0415

        table(["rank", "id", "name", "score", "mean", "reviewers"],
              [[e["rank"], e["id"], e["name"], "-" if e["score"] is None
                else f"{e['score']:.3f}", "-" if e["mean"] is None else f"{e['mean']:.2f}",
                e["count"]] for e in found], title=f"{journey}: {name or '-'}")
        click.echo(ctx.say("intake.tie_break"))

    @cohort.command("select")
    @click.option("--journey", required=True, metavar="KEY", help="The journey.")
    @click.option("--cohort", "name", help="The cohort (default: every cohort).")
    @click.option("--top", type=int, required=True, help="How many to select.")
    @click.option("--trigger", required=True, help="The trigger that advances the top N.")
    @click.option("--others", help="The trigger that advances the rest (default: none).")
    @click.option("--dry-run", is_flag=True, help="Show who would move; write nothing.")
    @click.option("--by", help="Who selects (recorded in the history).")
    @_json_flag
    @pass_ctx
    def cohort_select(ctx: Any, journey: str, name: str | None, top: int,  # noqa: PLR0917
                      trigger: str, others: str | None, dry_run: bool, by: str | None,
                      local_json: bool) -> None:
        """Advance the best N by --trigger and the others by --others, in one transaction."""
        from bompao.engine.selection import select  # noqa: PLC0415

        ctx.unscoped("cohort select")
        ctx.as_json = ctx.as_json or local_json
        found = select(engine_of(ctx), journey, name, top=top, trigger=trigger,
                       others=others, dry_run=dry_run, actor=ctx.actor(by))
        lines = [f"  {e['rank']:>3}. {e['id']} {e['name']} -> {e['trigger'] or '-'}"
                 for e in (*found["selected"], *found["others"])]
        moved = sum(1 for e in found["others"] if e["trigger"])
        key = "intake.would_select" if dry_run else "intake.selected"
        lines.append(ctx.say(key, selected=len(found["selected"]), trigger=trigger,
                             others=moved, other_trigger=others or "-"))
        lines.append(ctx.say("intake.tie_break"))
        ctx.emit(found, "\n".join(lines))


def _register_coaching(cli: click.Group, project: click.Group, pass_ctx: Callable[..., Any],
                       engine_of: Callable[[Any], Any]) -> None:
    """Add ``project session`` and ``coaches add|edit|remove|list|match``."""

    @project.command("session")
    @click.argument("project_id", type=int, metavar="ID")
    @click.option("--coach", required=True, help="The coach (see 'bompao coaches list').")
    @click.option("--on", "on", required=True, metavar="DATE", help="YYYY-MM-DD.")
    @click.option("--minutes", type=int, required=True, help="How long, in minutes.")
    @click.option("--notes", help="Notes kept with the session.")
    @click.option("--by", help="Who records it.")
    @pass_ctx
    def project_session(ctx: Any, project_id: int, coach: str, on: str,  # noqa: PLR0917
                        minutes: int, notes: str | None, by: str | None) -> None:
        """Record a coaching session (counted by CEL's sessions.count and minutes)."""
        from bompao.engine.coaching import log_session  # noqa: PLC0415

        engine = engine_of(ctx)
        log_session(engine, project_id, coach, on, minutes, notes=notes,
                    actor=ctx.actor(by))
        event = engine.history(project_id, ctx.actor())[-1]
        ctx.emit({"project": project_id, "seq": event.seq, **dict(event.payload)},
                 ctx.say("coach.session", id=project_id, minutes=minutes,
                         coach=event.payload["coach"], on=event.payload["on"]))

    @cli.group()
    def coaches() -> None:
        """Coaches: skills (coaching topics), capacity, and matching them to projects."""

    @coaches.command("add")
    @click.argument("name")
    @click.option("--skills", required=True, metavar="A,B", help="Coaching topics.")
    @click.option("--capacity", type=int, required=True, help="Projects at once.")
    @pass_ctx
    def coaches_add(ctx: Any, name: str, skills: str, capacity: int) -> None:
        """Add a coach."""
        from bompao.engine.coaching import add_coach  # noqa: PLC0415

        ctx.unscoped("coaches add")
        coach = add_coach(engine_of(ctx), name, skills.split(","), capacity)
        ctx.emit(coach.as_dict(), ctx.say("coach.added", name=coach.name,
                                          capacity=coach.capacity,
                                          skills=", ".join(coach.skills) or "-"))

    _register_coach_admin(coaches, pass_ctx, engine_of)

    @coaches.command("list")
    @_json_flag
    @pass_ctx
    def coaches_list(ctx: Any, local_json: bool) -> None:
        """List the coaches."""
        from bompao.engine.coaching import list_coaches  # noqa: PLC0415

        found = list_coaches(engine_of(ctx))
        if ctx.as_json or local_json:
            ctx.as_json = True
            ctx.emit([c.as_dict() for c in found])
            return
        from bompao.engine.views import table  # noqa: PLC0415

        table(["coach", "skills", "capacity"],
              [[c.name, ", ".join(c.skills), c.capacity] for c in found])

    @coaches.command("match")
    @click.option("--journey", required=True, metavar="KEY", help="The journey.")
    @click.option("--cohort", help="The cohort (default: every cohort).")
    @click.option("--apply", "apply_", is_flag=True, help="Assign the proposal.")
    @click.option("--by", help="Who assigns (recorded in the history).")
    @_json_flag
    @pass_ctx
    def coaches_match(ctx: Any, journey: str, cohort: str | None, apply_: bool,  # noqa: PLR0917
                      by: str | None, local_json: bool) -> None:
        """Propose the coach for each project that covers most needs within capacity."""
        from bompao.engine.coaching import match  # noqa: PLC0415

        ctx.unscoped("coaches match")
        ctx.as_json = ctx.as_json or local_json
        found = match(engine_of(ctx), journey, cohort, apply=apply_, actor=ctx.actor(by))
        lines = [f"  {a['id']} {a['name']} -> {a['coach']} ({', '.join(a['covers'])})"
                 for a in found["assignments"]]
        lines += [f"  {u['id']} {u['name']} -> - ({', '.join(u['needs'])})"
                  for u in found["unmatched"]]
        lines.append(ctx.say("coach.matched", count=len(found["assignments"]),
                             covered=found["covered"], needed=found["needed"],
                             unmatched=len(found["unmatched"])))
        if found["applied"]:
            lines.append(ctx.say("coach.applied", count=len(found["assignments"])))
        ctx.emit(found, "\n".join(lines))


def _register_coach_admin(coaches: click.Group, pass_ctx: Callable[..., Any],
                          engine_of: Callable[[Any], Any]) -> None:
    """Add ``coaches edit|remove``."""

    @coaches.command("edit")
    @click.argument("name")
    @click.option("--skills", metavar="A,B", help="The coach's topics (replaces the list).")
    @click.option("--capacity", type=int, help="Projects at once.")
    @pass_ctx
    def coaches_edit(ctx: Any, name: str, skills: str | None, capacity: int | None) -> None:
        """Change a coach's skills or capacity."""
        from bompao.engine.coaching import edit_coach  # noqa: PLC0415

        ctx.unscoped("coaches edit")
        coach = edit_coach(engine_of(ctx), name,
                           skills=skills.split(",") if skills is not None else None,
                           capacity=capacity)
        ctx.emit(coach.as_dict(), ctx.say("coach.edited", name=coach.name,
                                          capacity=coach.capacity,
                                          skills=", ".join(coach.skills) or "-"))

    @coaches.command("remove")
    @click.argument("name")
    @pass_ctx
    def coaches_remove(ctx: Any, name: str) -> None:
        """Remove a coach (their assignments to projects stay)."""
        from bompao.engine.coaching import remove_coach  # noqa: PLC0415

        ctx.unscoped("coaches remove")
        coach, still = remove_coach(engine_of(ctx), name)
        lines = [ctx.say("coach.removed", name=coach.name)]
        if still:
            lines.append(ctx.say("coach.still_assigned", count=len(still),
                                 ids=", ".join(map(str, still))))
        ctx.emit({**coach.as_dict(), "still_assigned": still}, "\n".join(lines))
