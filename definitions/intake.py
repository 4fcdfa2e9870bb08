"""Intake, selection and coaching in a journey: the application form, the scoring rubric
and the coaching topics.

Three optional top-level keys::

    application:                 # the intake form; answers become fields
      fields: [problem_statement, team_size]
      required: [problem_statement]
      help: {problem_statement: {en: What problem?, th: ปัญหาคืออะไร}}
      opens: 2027-01-01
      closes: 2027-02-28
    scoring:
      role: reviewer             # reviewers are the people assigned in this role
      stage: applied             # where projects are scored (default: the initial stage)
      reviewers: 3               # per project, assigned by load
      conflicts: partner         # or a list: [partner, {field: F}, {reviewer: R, partner: P}]
      rubric:
        need: {title: {en: Need}, weight: 2, scale: 1..5}
      normalise: zscore          # none | zscore | trimmed
    coaching:
      role: coach
      needs: needs               # a list[string] field: the topics a project needs
      topics: {...}              # default: the program's four topics

This module is pure: the models, the checks that need the whole journey (positioned by
the checks step) and the names CEL sees (``score.mean|weighted|count``, ``rank``,
``sessions.count|minutes``). The engine computes the values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from bompao.definitions.messages import Message
from bompao.errors import ConflictError, InvalidValue

__all__ = [
    "COACHING_VIEWS",
    "DEFAULT_TOPICS",
    "NORMALISATIONS",
    "SCORE_VIEWS",
    "ApplicationSpec",
    "ApplicationsClosed",
    "CoachingSpec",
    "ConflictSpec",
    "RubricCriterion",
    "Scale",
    "ScaleValue",
    "ScoringSpec",
    "TopicSpec",
    "cel_declarations",
    "check_application",
    "check_intake",
    "parse_scale",
    "reserved_names",
]

NAME_PATTERN = r"^[a-z_][a-z0-9_]*$"
_Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN, max_length=64)]
_Line = Annotated[str, StringConstraints(max_length=2000)]
NORMALISATIONS = ("none", "zscore", "trimmed")
SCORE_VIEWS = ("mean", "weighted", "count")
COACHING_VIEWS = ("count", "minutes")
_SCALE = re.compile(r"^\s*(-?\d{1,4})\s*\.\.\s*(-?\d{1,4})\s*$")


def _text(value: Any) -> Any:
    return {"en": value} if isinstance(value, str) else value


_Text = Annotated[
    dict[Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")], _Line],
    BeforeValidator(_text),
    WithJsonSchema({"anyOf": [{"type": "string"}, {
        "type": "object", "additionalProperties": {"type": "string"},
        "examples": [{"en": "Need", "th": "ความจำเป็น"}]}],
        "description": "Text in one language, or a mapping of language code to text."}),
]


@dataclass(frozen=True, slots=True)
class Scale:
    """The whole numbers ``low`` to ``high`` a criterion is scored on (``1..5``)."""

    low: int
    high: int

    def __str__(self) -> str:
        return f"{self.low}..{self.high}"

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) \
            and self.low <= value <= self.high


def parse_scale(value: Any) -> Scale:
    """``"1..5"`` → ``Scale(1, 5)``.

    Raises:
        ValueError: not ``LOW..HIGH`` with whole numbers, ``LOW`` below ``HIGH``.
    """
    if isinstance(value, Scale):
        return value
    match = _SCALE.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"bad scale {value!r}: expected LOW..HIGH in whole numbers, "
                         "e.g. '1..5' or '0..10'")
    low, high = int(match.group(1)), int(match.group(2))
    if low >= high:
        raise ValueError(f"bad scale {value!r}: {low} is not below {high}; e.g. '1..5'")
    return Scale(low, high)


ScaleValue = Annotated[
    Scale, BeforeValidator(parse_scale), PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\s*-?\d{1,4}\s*\.\.\s*-?\d{1,4}\s*$",
                    "examples": ["1..5", "0..10"]}),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True,
                              strict=False)


class ApplicationSpec(_Model):
    """The intake form: the declared fields it asks, which are required, help texts and
    the dates between which applications are accepted (both days included, in the
    journey's timezone)."""

    title: _Text | None = None
    fields: list[_Name] = Field(min_length=1)
    required: list[_Name] = Field(default_factory=list)
    help: dict[_Name, _Text] = Field(default_factory=dict)
    opens: date | None = None
    closes: date | None = None

    @model_validator(mode="before")
    @classmethod
    def _dates_only(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for key in ("opens", "closes"):
                given = value.get(key)
                if isinstance(given, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", given):
                    raise ValueError(f"application.{key}: expected a date YYYY-MM-DD, "
                                     f"got {given!r}")
        return value


class RubricCriterion(_Model):
    """One criterion of the rubric: scored in whole numbers on ``scale``, weighted."""

    title: _Text | None = None
    description: _Text | None = None
    weight: Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False)] = 1
    scale: ScaleValue = Scale(1, 5)


class ConflictSpec(_Model):
    """A declared conflict: ``{field: F}`` (a list[string] field naming the people who
    may not review the project) or ``{reviewer: NAME, partner: P}``."""

    field: _Name | None = None
    reviewer: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    partner: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ConflictSpec:
        if (self.field is None) == (self.reviewer is None and self.partner is None):
            raise ValueError("a conflict is 'partner', {field: FIELD} or "
                             "{reviewer: NAME, partner: PARTNER}")
        if self.field is None and (self.reviewer is None or self.partner is None):
            raise ValueError("a listed conflict needs both 'reviewer' and 'partner'")
        return self


def _conflicts(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, str):
        return [] if value == "none" else [value]
    return value


class ScoringSpec(_Model):
    """Review and scoring: who reviews, how many per project, who may not, the rubric
    and how scores of different reviewers are made comparable."""

    role: _Name
    stage: _Name | None = None
    reviewers: int = Field(3, ge=1, le=50)
    conflicts: Annotated[list[Literal["partner"] | ConflictSpec],
                         BeforeValidator(_conflicts)] = Field(default_factory=list)
    rubric: dict[_Name, RubricCriterion] = Field(min_length=1)
    normalise: Literal["none", "zscore", "trimmed"] = "none"

    @property
    def partner_conflict(self) -> bool:
        """No reviewer of the project's own partner."""
        return "partner" in self.conflicts

    def listed(self) -> list[ConflictSpec]:
        """The conflicts given as mappings."""
        return [c for c in self.conflicts if isinstance(c, ConflictSpec)]


class TopicSpec(_Model):
    """A coaching topic (a skill a coach has, a need a project has)."""

    title: _Text | None = None


DEFAULT_TOPICS: dict[str, dict[str, Any]] = {
    "idea_development": {"title": {"en": "Idea development", "th": "การพัฒนาไอเดีย"}},
    "model_and_plan": {"title": {"en": "Model and plan", "th": "โมเดลและแผนงาน"}},
    "project_management": {"title": {"en": "Project management", "th": "การบริหารโครงการ"}},
    "impact_measurement": {"title": {"en": "Impact measurement",
                                     "th": "การวัดผลลัพธ์ทางสังคม"}},
}
"""The program's coach topics, used when a journey's ``coaching`` gives none."""


def _default_topics() -> dict[str, TopicSpec]:
    return {name: TopicSpec.model_validate(spec) for name, spec in DEFAULT_TOPICS.items()}


class CoachingSpec(_Model):
    """Coaching: the role coaches are assigned in, the topics, the field naming what a
    project needs and the stages in which projects are matched (default: every stage
    that is not final)."""

    role: _Name = "coach"
    needs: _Name
    topics: dict[_Name, Annotated[TopicSpec, BeforeValidator(
        lambda v: {} if v is None else v)]] = Field(default_factory=_default_topics,
                                                    min_length=1)
    during: list[_Name] | None = None


def reserved_names(doc: Any) -> set[str]:
    """The field names a journey's intake keys take for CEL."""
    names: set[str] = set()
    if doc.scoring is not None:
        names |= {"score", "rank"}
    if doc.coaching is not None:
        names.add("sessions")
    return names


def cel_declarations(doc: Any) -> dict[str, str]:
    """The CEL names the intake keys declare, with their journey types."""
    result: dict[str, str] = {}
    if doc.scoring is not None:
        result.update({"score.mean": "float", "score.weighted": "float",
                       "score.count": "int", "rank": "int"})
    if doc.coaching is not None:
        result.update({"sessions.count": "int", "sessions.minutes": "int"})
    return result


Problem = Callable[..., None]


def check_intake(doc: Any, problem: Problem, unknown: Callable[[str, str, Any], str]) -> None:
    """Report every problem of the intake keys through ``problem(path, message, key=)``.

    Args:
        doc: the journey document.
        problem: records one problem at a path of the document.
        unknown: ``unknown(what, name, known)`` — the "unknown X" message.
    """
    fields: Mapping[str, Any] = doc.fields
    taken = {"score": ("score.*", "scoring"), "rank": ("rank", "scoring"),
             "sessions": ("sessions.*", "coaching")}
    for name in sorted(reserved_names(doc) & set(fields)):
        cel, key = taken[name]
        problem(("fields", name), f"field name {name!r} is taken by CEL's {cel} while the "
                f"journey declares {key!r}; rename the field", key=True)
    if doc.application is not None:
        _application(doc, problem, unknown)
    if doc.scoring is not None:
        _scoring(doc, problem, unknown)
    if doc.coaching is not None:
        _coaching(doc, problem, unknown)


def _application(doc: Any, problem: Problem, unknown: Callable[[str, str, Any], str]) -> None:
    spec: ApplicationSpec = doc.application
    seen: set[str] = set()
    for index, name in enumerate(spec.fields):
        if name not in doc.fields:
            problem(("application", "fields", index), unknown("field", name, doc.fields))
        if name in seen:
            problem(("application", "fields", index), f"field {name!r} is asked twice")
        seen.add(name)
    for index, name in enumerate(spec.required):
        if name not in spec.fields:
            problem(("application", "required", index), f"required field {name!r} is not "
                    f"one the form asks; the form asks: {', '.join(spec.fields)}")
    for name in spec.help:
        if name not in spec.fields:
            problem(("application", "help", name), f"help for {name!r}, which the form "
                    f"does not ask; the form asks: {', '.join(spec.fields)}", key=True)
    if spec.opens is not None and spec.closes is not None and spec.opens > spec.closes:
        problem(("application", "closes"), f"application closes on {spec.closes} before "
                f"it opens on {spec.opens}")


def _scoring(doc: Any, problem: Problem, unknown: Callable[[str, str, Any], str]) -> None:
    spec: ScoringSpec = doc.scoring
    if spec.role not in doc.roles:
        problem(("scoring", "role"), unknown("role", spec.role, doc.roles))
    if spec.stage is not None and spec.stage not in doc.stages:
        problem(("scoring", "stage"), unknown("stage", spec.stage, doc.stages))
    if spec.normalise == "trimmed" and spec.reviewers < 3:
        problem(("scoring", "normalise"), f"a trimmed mean drops each project's highest "
                f"and lowest score: it needs reviewers: 3 or more, not {spec.reviewers}")
    for index, conflict in enumerate(spec.conflicts):
        if not isinstance(conflict, ConflictSpec) or conflict.field is None:
            continue
        field = doc.fields.get(conflict.field)
        where = ("scoring", "conflicts", index, "field")
        if field is None:
            problem(where, unknown("field", conflict.field, doc.fields))
        elif field.type not in ("list[string]", "string"):
            problem(where, f"conflicts field {conflict.field!r} is {field.type}; it must "
                    "be list[string] (or string) naming the people who may not review")


def _coaching(doc: Any, problem: Problem, unknown: Callable[[str, str, Any], str]) -> None:
    spec: CoachingSpec = doc.coaching
    if spec.role not in doc.roles:
        problem(("coaching", "role"), unknown("role", spec.role, doc.roles))
    field = doc.fields.get(spec.needs)
    if field is None:
        problem(("coaching", "needs"), unknown("field", spec.needs, doc.fields))
    elif field.type not in ("list[string]", "string"):
        problem(("coaching", "needs"), f"needs field {spec.needs!r} is {field.type}; it "
                "must be list[string] naming coaching topics")
    for index, stage in enumerate(spec.during or []):
        if stage not in doc.stages:
            problem(("coaching", "during", index), unknown("stage", stage, doc.stages))


class ApplicationsClosed(ConflictError):
    """Today is outside the application's opening dates: nothing is taken in (exit 1)."""


def check_application(ref: str, spec: ApplicationSpec, given: Mapping[str, Any],
                      today: date) -> None:
    """Refuse an application outside the opening dates, with a field the form does not
    ask, or without a required field (empty text counts as missing).

    Args:
        ref: the journey's ``key@version``, for messages.
        spec: the journey's ``application``.
        given: the answers as given (field → value or text).
        today: the date in the journey's timezone.

    Raises:
        ApplicationsClosed: before ``opens`` or after ``closes``.
        InvalidValue: a field not on the form, a required field missing.
    """
    if spec.opens is not None and today < spec.opens:
        raise ApplicationsClosed(Message("intake.not_open", ref=ref, opens=spec.opens,
                                         today=today))
    if spec.closes is not None and today > spec.closes:
        raise ApplicationsClosed(Message("intake.closed", ref=ref, closes=spec.closes,
                                         today=today))
    for name in given:
        if name not in spec.fields:
            raise InvalidValue(Message("intake.not_asked", name=name, ref=ref,
                                       asked=", ".join(spec.fields)))
    for name in spec.required:
        value = given.get(name)
        if value is None or (isinstance(value, str | list) and not str(value).strip()
                             ) or value == []:
            raise InvalidValue(Message("intake.required", name=name,
                                       required=", ".join(spec.required)))
