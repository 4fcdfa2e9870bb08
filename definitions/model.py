"""The journey document as pydantic models: the neutral model between YAML and compilation.

Every model forbids unknown keys. The JSON Schema that ``bompao schema`` prints is
generated from these classes, so the schema and the parser accept the same keys.
"""

from __future__ import annotations

import functools
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from bompao.definitions.durations import Duration, parse_duration
from bompao.definitions.indicators import Number, Rhythm, RhythmValue, Tag
from bompao.definitions.intake import ApplicationSpec, CoachingSpec, ScoringSpec
from bompao.definitions.messages import Message

__all__ = [
    "ACTIONS",
    "CRITERION_KINDS",
    "FIELD_TYPES",
    "Approval",
    "BranchSpec",
    "Criterion",
    "DurationValue",
    "EvidenceSpec",
    "FieldSpec",
    "FollowUpSpec",
    "IndicatorSpec",
    "JourneyDoc",
    "Name",
    "RemoveSpec",
    "StageSpec",
    "Text",
    "TransitionSpec",
]

NAME_PATTERN = r"^[a-z_][a-z0-9_]*$"
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN, max_length=64)]
JourneyKey = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
ExtendsRef = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*@[1-9][0-9]*$")]

CalendarCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")]
FIELD_TYPES = ("string", "int", "float", "bool", "date", "datetime",
               "list[string]", "list[int]", "list[float]")
ACTIONS = ("notify", "email", "flag", "unflag", "transition", "webhook")
CRITERION_KINDS = ("all", "any", "not", "expr", "evidence", "approval", "min_time_in_stage")


def _text(value: Any) -> Any:
    return {"en": value} if isinstance(value, str) else value


Text = Annotated[
    dict[Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")],
         Annotated[str, StringConstraints(max_length=2000)]],
    BeforeValidator(_text),
    WithJsonSchema({
        "anyOf": [
            {"type": "string"},
            {"type": "object", "additionalProperties": {"type": "string"},
             "propertyNames": {"pattern": "^[a-z]{2,3}(-[A-Za-z]{2,4})?$"},
             "examples": [{"en": "Idea", "th": "ไอเดีย"}]},
        ],
        "description": "Text in one language, or a mapping of language code to text.",
    }),
]

DurationValue = Annotated[
    Duration,
    BeforeValidator(parse_duration),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({
        "type": "string",
        "pattern": r"^\s*\d{1,6}\s+(business\s+days?|days?|weeks?|months?|years?)\s*$",
        "examples": ["14 days", "2 weeks", "6 months", "10 business days"],
    }),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True, strict=True)


def _empty_if_none(value: Any) -> Any:
    return {} if value is None else value


def _field_shorthand(value: Any) -> Any:
    return {"type": value} if isinstance(value, str) else _empty_if_none(value)


class FieldSpec(_Strict):
    """A typed project fact that CEL expressions see by name."""

    type: Literal["string", "int", "float", "bool", "date", "datetime",
                  "list[string]", "list[int]", "list[float]"]
    default: Any = None
    min: int | Annotated[float, Field(allow_inf_nan=False)] | None = None
    max: int | Annotated[float, Field(allow_inf_nan=False)] | None = None
    title: Text | None = None
    description: Text | None = None

    @model_validator(mode="after")
    def _bounds(self) -> FieldSpec:
        if self.min is None and self.max is None:
            return self
        if self.type not in ("int", "float"):
            raise ValueError(Message("bounds.type", type=self.type))
        if self.type == "int" and any(isinstance(b, float) for b in (self.min, self.max)):
            raise ValueError(Message("bounds.whole"))
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(Message("bounds.crossed", min=self.min, max=self.max))
        if isinstance(self.default, int | float) and not isinstance(self.default, bool):
            if self.min is not None and self.default < self.min:
                raise ValueError(Message("bounds.default_below", default=self.default,
                                         min=self.min))
            if self.max is not None and self.default > self.max:
                raise ValueError(Message("bounds.default_above", default=self.default,
                                         max=self.max))
        return self


class EvidenceSpec(_Strict):
    """A named item (a link or a note) a project can attach."""

    title: Text | None = None
    description: Text | None = None


class Approval(_Strict):
    """``count`` approvals by people acting in ``role``, since the stage was entered."""

    role: Name
    count: int = Field(1, ge=1, le=100)


_KIND_FIELDS = (("all", "all_"), ("any", "any_"), ("not", "not_"), ("expr", "expr"),
                ("evidence", "evidence"), ("approval", "approval"),
                ("min_time_in_stage", "min_time_in_stage"))
"""Each criterion kind and the field that holds it."""


class Criterion(_Strict):
    """One gate criterion: exactly one of the kinds, plus an optional ``says`` text."""

    all_: list[Criterion] | None = Field(None, alias="all")
    any_: list[Criterion] | None = Field(None, alias="any")
    not_: Criterion | None = Field(None, alias="not")
    expr: Annotated[str, StringConstraints(max_length=4000)] | None = None
    evidence: Name | None = None
    approval: Approval | None = None
    min_time_in_stage: DurationValue | None = None
    says: Text | None = None

    @model_validator(mode="before")
    @classmethod
    def _list_means_all(cls, value: Any) -> Any:
        return {"all": value} if isinstance(value, list) else value

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> Criterion:
        kinds = self.kinds()
        if len(kinds) == 1:
            self.__dict__["kind"] = kinds[0]  # where the cached property keeps it
            return self
        got: Message | str = ", ".join(repr(k) for k in kinds) if kinds else \
            Message("word.none")
        raise ValueError(Message("criterion.one_kind", allowed=", ".join(CRITERION_KINDS),
                                 got=got))

    def kinds(self) -> list[str]:
        """The criterion kinds present (exactly one once validated)."""
        values = self.__dict__
        return [kind for kind, attribute in _KIND_FIELDS if values[attribute] is not None]

    @functools.cached_property
    def kind(self) -> str:
        """The criterion's kind (worked out once: the checks, the compile step and the
        describers all ask, several times per criterion)."""
        return self.kinds()[0]


class FollowUpSpec(_Strict):
    """Something to do at a time relative to stage entry or at a date field."""

    id: Name | None = None
    after: DurationValue | None = None
    every: DurationValue | None = None
    at: Name | None = None
    action: Name
    to: list[Name] = Field(default_factory=list)
    message: Text | None = None
    subject: Text | None = None
    flag: Name | None = None
    trigger: Name | None = None
    force: bool = False
    endpoint: Annotated[str, StringConstraints(max_length=200)] | None = None
    title: Text | None = None
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_timing(self) -> FollowUpSpec:
        if self.at is not None and (self.after is not None or self.every is not None):
            raise ValueError(Message("follow_up.at_alone"))
        if self.at is None and self.after is None and self.every is None:
            raise ValueError(Message("follow_up.timing"))
        return self


class IndicatorSpec(_Strict):
    """An impact indicator: one typed value per calendar period, reported by ``owner``.

    ``aggregate`` says how periods combine into ``total`` (default: ``sum`` for int,
    decimal and money, ``last`` for percent and bool); ``during`` names the stages in
    which a value is due (default: every stage that is not final).
    """

    title: Text | None = None
    description: Text | None = None
    type: Literal["int", "decimal", "percent", "money", "bool"]
    unit: Text | None = None
    aggregate: Literal["sum", "last", "max", "mean"] | None = None
    every: RhythmValue = Rhythm(1)
    during: list[Name] | None = None
    owner: Name | None = None
    remind_after: DurationValue | None = None
    at_risk_after: int | None = Field(None, ge=1, le=120)
    """Flag the project ``at_risk`` once this many due periods lack a value (checked
    when a reminder goes out; cleared when values bring it below)."""
    baseline: bool | Number | None = None
    target: bool | Number | None = None
    tags: list[Tag] = Field(default_factory=list)

    @model_validator(mode="after")
    def _default_aggregate(self) -> IndicatorSpec:
        if self.aggregate is None:
            default = "last" if self.type in ("percent", "bool") else "sum"
            object.__setattr__(self, "aggregate", default)
        return self


class StageSpec(_Strict):
    """A stage of the journey."""

    initial: bool = False
    final: bool = False
    title: Text | None = None
    description: Text | None = None
    expected_duration: DurationValue | None = None
    follow_ups: list[FollowUpSpec] = Field(default_factory=list)
    check_ins: list[DurationValue] = Field(default_factory=list)
    """A final stage's alumni check-ins (``[6 months, 12 months, 24 months]``): at each,
    the owners of the indicators due in the stage are asked for them."""
    after: Name | None = None
    """Place this stage right after that one in the journey's order (reports, lists):
    how a partner puts a stage it adds where it belongs instead of last."""


class BranchSpec(_Strict):
    """One destination of a branched transition, taken when its gate passes (or has none)."""

    to: Name
    gate: Criterion | None = None
    title: Text | None = None


def _destination_problem(value: Any) -> InitErrorDetails | None:
    """The error of a transition mapping with both or neither of ``to`` and ``branches``."""
    if not isinstance(value, dict):
        return None
    if "branches" in value:
        given = [key for key in ("to", "gate") if key in value]
        if not given:
            return None
        keys = " and ".join(repr(key) for key in given)
        return InitErrorDetails(type=_custom(Message("transition.branches_exclusive",
                                                     keys=keys)),
                                loc=("branches",), input=value)
    if value.get("to") is not None:
        return None
    return InitErrorDetails(type=_custom(Message("transition.needs_to")), loc=(), input=value)


def _custom(message: Message) -> PydanticCustomError:
    """A ``value_error`` whose context carries the catalogue message (the schema step
    renders it in the reader's language)."""
    return PydanticCustomError("value_error", "{error}", {"error": ValueError(message)})


class TransitionSpec(_Strict):
    """A way from one or more stages to another, fired by ``trigger``.

    Either ``to`` (with an optional ``gate``) or ``branches``: destinations tried in
    order, the first whose gate passes being taken.
    """

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, frozen=True, strict=True,
        json_schema_extra={"oneOf": [
            {"required": ["to"], "not": {"required": ["branches"]}},
            {"required": ["branches"],
             "not": {"anyOf": [{"required": ["to"]}, {"required": ["gate"]}]}},
        ]})

    trigger: Name
    from_: Name | Literal["*"] | list[Name] = Field(alias="from")
    to: Name | None = None
    gate: Criterion | None = None
    branches: list[BranchSpec] | None = Field(None, min_length=1)
    roles: list[Name] | None = None
    override_roles: list[Name] | None = None
    title: Text | None = None
    description: Text | None = None

    @model_validator(mode="wrap")
    @classmethod
    def _to_or_branches(cls, value: Any, handler: Any) -> Any:
        """``to`` (with an optional ``gate``) or ``branches``, reported beside any other
        problem of the transition."""
        problem = _destination_problem(value)
        try:
            result = handler(value)
        except ValidationError as exc:
            if problem is None:
                raise
            errors = [InitErrorDetails(type=e["type"], loc=e["loc"], input=e["input"],
                                       ctx=e.get("ctx", {})) for e in exc.errors()]
            errors.append(problem)
            raise ValidationError.from_exception_data(exc.title, errors) from None
        if problem is not None:
            raise ValidationError.from_exception_data(cls.__name__, [problem])
        return result

    def targets(self) -> list[BranchSpec]:
        """The destinations in order: the branches, or the one ``to`` with its ``gate``."""
        return list(self.destinations)

    @functools.cached_property
    def destinations(self) -> tuple[BranchSpec, ...]:
        """:meth:`targets`, made once (the checks and the compile step ask for them
        several times per transition)."""
        if self.branches is not None:
            return tuple(self.branches)
        assert self.to is not None
        return (BranchSpec(to=self.to, gate=self.gate),)


class RemoveSpec(_Strict):
    """What a journey that ``extends`` another drops from it."""

    stages: list[Name] = Field(default_factory=list)
    transitions: list[Name | dict[str, str]] = Field(default_factory=list)
    fields: list[Name] = Field(default_factory=list)
    evidence: list[Name] = Field(default_factory=list)
    indicators: list[Name] = Field(default_factory=list)


class CalendarSpec(_Strict):
    """The long ``calendar:`` form: a country's holidays of some categories, a weekend,
    days added and removed (see ``definitions.durations.Calendar``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True, strict=False)

    country: CalendarCode
    categories: list[Annotated[str, StringConstraints(pattern=r"^[a-z_]{2,30}$")]] = Field(
        default_factory=lambda: ["public"], min_length=1)
    weekend: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] | None = None
    add: dict[date, Annotated[str, StringConstraints(max_length=200)]] = Field(
        default_factory=dict)
    remove: list[date] = Field(default_factory=list)


class JourneyDoc(_Strict):
    """A whole journey document (after ``extends`` is resolved)."""

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, frozen=True, strict=True,
        title="bompao journey",
        json_schema_extra={"$id": "https://bompao.dev/schema/journey.json"},
    )

    journey: JourneyKey
    version: int = Field(ge=1)
    title: Text | None = None
    description: Text | None = None
    timezone: str = "Asia/Bangkok"
    calendar: CalendarCode | CalendarSpec | None = "TH"
    language: Literal["en", "th"] | None = None
    partner: Annotated[str, StringConstraints(max_length=100)] | None = None
    extends: ExtendsRef | None = None
    roles: list[Name] = Field(default_factory=list)
    override_roles: list[Name] = Field(default_factory=list)
    assign_roles: list[Name] = Field(default_factory=list)
    """When set, only actors holding one of these roles may assign people to roles."""
    fields: dict[Name, Annotated[FieldSpec, BeforeValidator(_field_shorthand)]] = Field(
        default_factory=dict)
    evidence: dict[Name, Annotated[EvidenceSpec, BeforeValidator(_empty_if_none)]] = Field(
        default_factory=dict)
    indicators: dict[Name, IndicatorSpec] = Field(default_factory=dict)
    stages: dict[Name, Annotated[StageSpec, BeforeValidator(_empty_if_none)]]
    transitions: list[TransitionSpec] = Field(default_factory=list)
    remove: RemoveSpec | None = None
    # intake, selection and coaching: see definitions/intake.py
    application: ApplicationSpec | None = None
    scoring: ScoringSpec | None = None
    coaching: CoachingSpec | None = None
