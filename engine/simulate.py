"""A Monte Carlo forecast of a cohort (``bompao simulate``).

A cohort of ``projects`` new projects starts in the initial stage at time 0 and is
followed for ``months`` months (of :data:`MONTH_DAYS` days), ``runs`` times. Each
stage moves its projects on by one of two models:

- **history** — the stage has at least :data:`MIN_HISTORY` finished visits in the event
  log (each held by the event that ended it): each stay is one of them, drawn at
  random, giving both the days spent and the stage entered next (so "stalled after
  12 months" and "presented after 7" keep their own timing).
- **expected_duration** — otherwise, a stay lasts the stage's ``minimum`` (the
  ``min_time_in_stage`` of the main way out, if any) plus an exponential time, so
  that its mean is the stage's ``expected_duration``; the project then takes the main
  way out: the first transition declared from the stage, not counting ``from: "*"``
  (its first branch, for a transition with ``branches``).
  A follow-up ``action: transition`` that always succeeds (``force: true`` or no
  gate) cuts the stay at its time and takes its transition instead.

A stage with neither keeps its projects (``stays``); final stages keep them too.

**Coach load** in month *m* is the number of (project, coach) pairs to serve at the
end of month *m*: the projects then in a *coached* stage (one with a follow-up that
notifies or emails ``coach_role``) times the coaches a project has, the mean over
the journey's projects that have someone assigned in ``coach_role`` (1 when none has).

Sampling is vectorised with NumPy over all runs × projects at once: each step moves
every project whose stay ends within the horizon. Forecasts with the same seed are
the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bompao.definitions import CompiledJourney
from bompao.definitions.ways import Way, ways
from bompao.errors import InvalidValue

__all__ = ["MIN_HISTORY", "MONTH_DAYS", "Forecast", "Observed", "StageModel", "forecast",
           "observe", "stage_models"]

MONTH_DAYS = 365.2425 / 12
"""Days in a forecast month: the same 30.44 days a journey's ``1 month`` lasts on average."""
MIN_HISTORY = 5
"""Finished visits a stage needs before its history replaces ``expected_duration``."""
MAX_STEPS = 1_000
"""Stage changes followed per project at most (a guard against cycles of zero-day stays
in the history); a forecast that needed more says so (``truncated``)."""
LIMITS = {"projects": 100_000, "months": 240, "runs": 100_000, "cells": 20_000_000}
"""Bounds of the counts; ``cells`` bounds both projects × runs × stages and runs ×
(months + 2) × stages, the sizes of the arrays a forecast holds (8 bytes each)."""


@dataclass(frozen=True)
class Observed:
    """What the event log says: per stage, finished stays as (days, next stage), and the
    coaches assigned per project."""

    visits: Mapping[str, Sequence[tuple[float, str]]] = field(default_factory=dict)
    coaches: Sequence[int] = ()

    @property
    def coaches_per_project(self) -> float:
        """The mean number of coaches of a project that has any (1.0 without data)."""
        return float(np.mean(self.coaches)) if len(self.coaches) else 1.0


@dataclass(frozen=True)
class StageModel:
    """How a stage moves its projects on (see the module docstring)."""

    source: str
    """``history``, ``expected_duration``, ``stays`` or ``final``."""
    days: np.ndarray[Any, Any] = field(default_factory=lambda: np.zeros(0))
    next_stage: np.ndarray[Any, Any] = field(default_factory=lambda: np.zeros(0, dtype=int))
    minimum: float = 0.0
    mean: float = 0.0
    main: int = -1
    cut: float = float("inf")
    cut_to: int = -1

    def describe(self, stages: Sequence[str]) -> dict[str, Any]:
        """A JSON-ready description."""
        result: dict[str, Any] = {"source": self.source}
        if self.source == "history":
            result["visits"] = len(self.days)
        if self.source == "expected_duration":
            result.update({"mean_days": round(self.mean, 2), "min_days": round(self.minimum, 2),
                           "then": stages[self.main] if self.main >= 0 else None})
        if self.cut_to >= 0:
            result.update({"leaves_by_days": round(self.cut, 2), "leaves_to": stages[self.cut_to]})
        return result


def _always_leaves(out: list[Way], journey: CompiledJourney,
                   stage: str) -> tuple[float, str] | None:
    best: tuple[float, str] | None = None
    for follow_up in journey.stages[stage].follow_ups:
        spec = follow_up.spec
        due = spec.after if spec.after is not None else spec.every
        if spec.action != "transition" or due is None or spec.trigger is None:
            continue
        taken = [w for w in out if w.trigger == spec.trigger]
        # forced: the first way (branch) is taken; else the first without a gate
        way = taken[0] if spec.force and taken else next(
            (w for w in taken if w.gate is None), None)
        if way is not None and (best is None or due.approx_days() < best[0]):
            best = (due.approx_days(), way.dest)
    return best


def _main_way(out: list[Way]) -> tuple[str, float] | None:
    chosen = next((w for w in out if not w.wildcard), None) or (out[0] if out else None)
    if chosen is None:
        return None
    gate = chosen.gate
    criteria = ([] if gate is None else gate.all_ if gate.kind == "all" else [gate]) or []
    minimum = max((c.min_time_in_stage.approx_days() for c in criteria
                   if c.min_time_in_stage is not None), default=0.0)
    return chosen.dest, minimum


def stage_models(journey: CompiledJourney, observed: Observed) -> dict[str, StageModel]:
    """The model of every stage of ``journey`` given what was ``observed``."""
    names = list(journey.stages)
    index = {name: i for i, name in enumerate(names)}
    models: dict[str, StageModel] = {}
    all_ways = list(ways(journey))
    for name, stage in journey.stages.items():
        if stage.final:
            models[name] = StageModel("final")
            continue
        seen = [(d, n) for d, n in observed.visits.get(name, ()) if n in index]
        if len(seen) >= MIN_HISTORY:
            models[name] = StageModel("history", np.array([d for d, _ in seen], dtype=float),
                                      np.array([index[n] for _, n in seen], dtype=np.int64))
            continue
        out = [w for w in all_ways if w.source == name]
        leaves = _always_leaves(out, journey, name)
        main = _main_way(out)
        cut, cut_to = (leaves[0], index[leaves[1]]) if leaves else (float("inf"), -1)
        if stage.expected_duration is not None and main is not None:
            minimum = min(main[1], cut)
            models[name] = StageModel("expected_duration", minimum=minimum,
                                      mean=max(stage.expected_duration.approx_days(), minimum),
                                      main=index[main[0]], cut=cut, cut_to=cut_to)
        elif leaves:
            models[name] = StageModel("expected_duration", minimum=cut, mean=cut, main=cut_to,
                                      cut=cut, cut_to=cut_to)
        else:
            models[name] = StageModel("stays")
    return models


@dataclass(frozen=True)
class Forecast:
    """The outcome of :func:`forecast`: per run, month (0..months) and stage, the projects
    that reached the stage by the end of that month and those in it then, and the coach
    load per run and month."""

    journey: CompiledJourney
    stages: list[str]
    projects: int
    months: int
    runs: int
    seed: int | None
    reached: np.ndarray[Any, Any]
    occupancy: np.ndarray[Any, Any]
    coach_load: np.ndarray[Any, Any]
    coached: list[str]
    coaches_per_project: float
    models: dict[str, StageModel]
    truncated: int = 0
    """Projects still moving after :data:`MAX_STEPS` stage changes (then held where they
    were); 0 in any forecast whose stays are not near zero days."""

    @staticmethod
    def _summary(values: np.ndarray[Any, Any]) -> dict[str, float]:
        p10, p90 = np.percentile(values, [10, 90])
        return {"mean": round(float(np.mean(values)), 3), "p10": round(float(p10), 3),
                "p90": round(float(p90), 3)}

    def as_dict(self) -> dict[str, Any]:
        """``{"runs", "months", "stages": {STAGE: {"mean", "p10", "p90"}}, ...}``: projects
        that reached each stage by the end of month ``months``, and more."""
        return {
            "journey": self.journey.ref, "runs": self.runs, "months": self.months,
            "projects": self.projects, "seed": self.seed,
            "stages": {name: self._summary(self.reached[:, self.months, i])
                       for i, name in enumerate(self.stages)},
            "by_month": {name: [self._summary(self.reached[:, m, i])
                                for m in range(self.months + 1)]
                         for i, name in enumerate(self.stages)},
            "coach_load": [{"month": m, **self._summary(self.coach_load[:, m])}
                           for m in range(1, self.months + 1)],
            "coached_stages": self.coached,
            "coaches_per_project": round(self.coaches_per_project, 3),
            "model": {name: model.describe(self.stages) for name, model in self.models.items()},
            "truncated": self.truncated,
        }


def _check(projects: int, months: int, runs: int, seed: int | None, stages: int) -> None:
    if seed is not None and not 0 <= seed < 2**63:
        raise InvalidValue(f"--seed must be from 0 to 2**63 - 1; got {seed}")
    for name, value in (("projects", projects), ("months", months), ("runs", runs)):
        if not 1 <= value <= LIMITS[name]:
            raise InvalidValue(f"--{name} must be from 1 to {LIMITS[name]:,}; got {value}")
    for what, cells in (("--projects × --runs", projects * runs * stages),
                        ("--runs × (--months + 2)", runs * (months + 2) * stages)):
        if cells > LIMITS["cells"]:
            raise InvalidValue(f"{what} × {stages} stages must be at most "
                               f"{LIMITS['cells']:,}; got {cells:,}")


def _coached(journey: CompiledJourney, role: str) -> list[str]:
    return [name for name, stage in journey.stages.items()
            if any(f.spec.action in ("notify", "email") and role in f.spec.to
                   for f in stage.follow_ups)]


class _Sampler:
    def __init__(self, models: list[StageModel], rng: np.random.Generator) -> None:
        self.models = models
        self.rng = rng

    def stays(self, stage: np.ndarray[Any, Any]) -> tuple[np.ndarray[Any, Any],
                                                         np.ndarray[Any, Any]]:
        """Days of the stay just begun in ``stage`` and the stage entered after it."""
        days = np.full(stage.shape, np.inf)
        dest = stage.copy()
        for i, model in enumerate(self.models):
            where = np.flatnonzero(stage == i)
            if where.size == 0 or model.source in ("final", "stays"):
                continue
            if model.source == "history":
                pick = self.rng.integers(0, len(model.days), where.size)
                days[where] = model.days[pick]
                dest[where] = model.next_stage[pick]
                continue
            extra = model.mean - model.minimum
            stay = model.minimum + (self.rng.exponential(extra, where.size) if extra > 0
                                    else np.zeros(where.size))
            cut = stay >= model.cut
            days[where] = np.where(cut, model.cut, stay)
            dest[where] = np.where(cut, model.cut_to, model.main)
        return days, dest


def forecast(journey: CompiledJourney, observed: Observed | None = None, *, projects: int = 20,
             months: int = 12, runs: int = 1000, seed: int | None = None,
             coach_role: str = "coach") -> Forecast:
    """Simulate ``runs`` cohorts of ``projects`` new projects for ``months`` months.

    Raises:
        InvalidValue: a count out of range (see :data:`LIMITS`).
    """
    _check(projects, months, runs, seed, len(journey.stages))
    observed = observed or Observed()
    names = list(journey.stages)
    models = stage_models(journey, observed)
    sampler = _Sampler([models[n] for n in names], np.random.default_rng(seed))
    count, n_stages, horizon = runs * projects, len(names), months * MONTH_DAYS
    run_of = np.repeat(np.arange(runs), projects)
    stage = np.full(count, names.index(journey.initial), dtype=np.int64)
    enter = np.zeros(count)
    first = np.full((count, n_stages), np.inf)
    first[:, stage[0]] = 0.0
    cells = runs * (months + 2) * n_stages
    occupied = np.zeros(cells)

    def flat(run: np.ndarray[Any, Any], month: np.ndarray[Any, Any],
             where: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        index: np.ndarray[Any, Any] = (run * (months + 2) + month) * n_stages + where
        return index
    days, dest = sampler.stays(stage)
    leave = enter + days

    def occupy(who: np.ndarray[Any, Any], until: np.ndarray[Any, Any]) -> None:
        # in the stage at the end of month m when enter <= m * MONTH_DAYS < until
        start = np.ceil(enter[who] / MONTH_DAYS - 1e-12).astype(np.int64)
        stop = np.minimum(np.ceil(np.minimum(until, horizon + MONTH_DAYS) / MONTH_DAYS - 1e-12),
                          months + 1).astype(np.int64)
        keep = start < stop
        runs_kept, stages_kept = run_of[who][keep], stage[who][keep]
        occupied[:] += np.bincount(flat(runs_kept, start[keep], stages_kept), minlength=cells)
        occupied[:] -= np.bincount(flat(runs_kept, stop[keep], stages_kept), minlength=cells)

    truncated = 0
    for step in range(MAX_STEPS + 1):
        moving = np.flatnonzero(leave <= horizon)
        if moving.size == 0:
            break
        if step == MAX_STEPS:
            truncated = int(moving.size)
            break
        occupy(moving, leave[moving])
        enter[moving] = leave[moving]
        stage[moving] = dest[moving]
        np.minimum.at(first, (moving, stage[moving]), enter[moving])
        days, dest[moving] = sampler.stays(stage[moving])
        leave[moving] = enter[moving] + days
    everyone = np.arange(count)
    occupy(everyone, np.full(count, np.inf))
    shape = (runs, months + 2, n_stages)
    occupancy = np.cumsum(occupied.reshape(shape), axis=1)[:, :months + 1, :]
    month_reached = np.ceil(first / MONTH_DAYS - 1e-12)
    rows, cols = np.nonzero(month_reached <= months)
    reached_at = np.bincount(flat(run_of[rows], month_reached[rows, cols].astype(np.int64), cols),
                             minlength=cells).reshape(shape)
    reached = np.cumsum(reached_at, axis=1)[:, :months + 1, :]
    coached = _coached(journey, coach_role)
    per_project = observed.coaches_per_project
    coached_index = [names.index(n) for n in coached]
    load = occupancy[:, :, coached_index].sum(axis=2) * per_project
    return Forecast(journey, names, projects, months, runs, seed, reached, occupancy, load,
                    coached, per_project, models, truncated)


def observe(engine: Any, journey_key: str, *, partner: str | None = None,
            coach_role: str = "coach") -> Observed:
    """What the event log of ``engine``'s database says about ``journey_key``."""
    from bompao.storage.observed import coach_counts, completed_visits  # noqa: PLC0415

    with engine.db.begin(write=False) as conn:
        visits = completed_visits(conn, journey_key, partner)
        coaches = coach_counts(conn, journey_key, coach_role, partner)
    by_stage: dict[str, list[tuple[float, str]]] = {}
    for visit in visits:
        by_stage.setdefault(visit.stage, []).append((visit.days, visit.next_stage))
    return Observed(by_stage, coaches)
