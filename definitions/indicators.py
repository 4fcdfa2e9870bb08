"""Impact indicators: their declaration, reporting rhythm, periods and summaries.

An indicator is a typed value a project reports once per calendar period (a month,
a quarter, a half-year, a year) in the journey's timezone. This module is pure: it
knows how to read and name periods, which periods were due, how values combine into
a ``total`` and what CEL sees (``indicators.NAME.total|latest|periods|missing|
progress``); the engine reads the measurements from the event log and passes them in.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, WithJsonSchema

from bompao.definitions.messages import Message

__all__ = [
    "AGGREGATES",
    "INDICATOR_TYPES",
    "VIEWS",
    "Measurement",
    "Rhythm",
    "RhythmValue",
    "Tag",
    "cel_declarations",
    "check_tag",
    "due_periods",
    "figures",
    "number_problem",
    "parse_rhythm",
    "summarize",
    "value_cel_type",
]

INDICATOR_TYPES = ("int", "decimal", "percent", "money", "bool")
AGGREGATES = ("sum", "last", "max", "mean")
VIEWS = ("total", "latest", "periods", "missing", "progress")
"""What CEL sees of each indicator, as ``indicators.NAME.VIEW``."""

_ALIASES = {"monthly": 1, "bimonthly": 2, "quarterly": 3, "half-yearly": 6,
            "yearly": 12, "annually": 12}
_RHYTHM = re.compile(r"^\s*(\d{1,2})\s+(months?|quarters?|years?)\s*$")
_ALLOWED_MONTHS = (1, 2, 3, 4, 6, 12)
RHYTHM_EXPECTED = ("monthly, quarterly, half-yearly, yearly, or 'N months' with N one of "
                   "1, 2, 3, 4, 6, 12 (also '1 quarter', '1 year')")


_PERIOD = re.compile(r"(\d{4})(?:-(Q[1-4]|H[12]|\d{2}))?", flags=re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Rhythm:
    """Calendar periods of ``months`` months, aligned to January (``3``: quarters)."""

    months: int

    def __str__(self) -> str:
        return f"{self.months} month{'s' if self.months != 1 else ''}"

    def start_of(self, day: date) -> date:
        """The first day of the period holding ``day``."""
        index = (day.month - 1) // self.months * self.months
        return date(day.year, index + 1, 1)

    def next(self, start: date) -> date:
        """The first day of the period after the one starting on ``start``."""
        month = start.month - 1 + self.months
        return date(start.year + month // 12, month % 12 + 1, 1)

    def label(self, start: date) -> str:
        """The period's name: ``2027-03`` (months), ``2027-Q1``, ``2027-H1``, ``2027``."""
        if self.months == 12:
            return f"{start.year:04d}"
        if self.months == 6:
            return f"{start.year:04d}-H{(start.month - 1) // 6 + 1}"
        if self.months == 3:
            return f"{start.year:04d}-Q{(start.month - 1) // 3 + 1}"
        return f"{start.year:04d}-{start.month:02d}"

    def examples(self, year: int = 2027) -> str:
        """Two period names of this rhythm, for messages."""
        first = date(year, 1, 1)
        return f"{self.label(first)}, {self.label(self.next(first))}"

    def parse(self, text: str) -> date:
        """The first day of the period ``text`` names (canonical or ``YYYY-MM`` of its
        first month).

        Raises:
            ValueError: ``text`` names no period of this rhythm; the message gives
                examples of names that do.
        """
        text = text.strip()
        match = _PERIOD.fullmatch(text)
        if match is not None and match.group(2) and match.group(2).isdigit() \
                and self.months != 12:  # the common case, without building a message
            year, month = int(match.group(1)), int(match.group(2))
            if year >= 1900 and 1 <= month <= 12 and self.start_of(date(year, month, 1)) \
                    == date(year, month, 1):
                return date(year, month, 1)
        expected = Message("period.expected", rhythm=str(self), examples=self.examples())
        if match is None:
            raise ValueError(Message("period.not_a_name", text=text, expected=expected))
        year, part = int(match.group(1)), (match.group(2) or "").upper()
        if year < 1900:
            raise ValueError(Message("period.before_1900", text=text, expected=expected))
        if not part:
            if self.months != 12:
                raise ValueError(Message("period.whole_year", text=text, expected=expected))
            return date(year, 1, 1)
        if part[0] in "QH":
            size = 3 if part[0] == "Q" else 6
            if size != self.months:
                raise ValueError(Message("period.other_rhythm", text=text, expected=expected))
            return date(year, (int(part[1]) - 1) * size + 1, 1)
        month = int(part)
        if not 1 <= month <= 12:
            raise ValueError(Message("period.bad_month", text=text, month=month,
                                     expected=expected))
        start = date(year, month, 1)
        if self.start_of(start) != start:
            raise ValueError(Message("period.not_a_start", text=text, rhythm=str(self),
                                     expected=expected))
        return start


def parse_rhythm(value: Any) -> Rhythm:
    """``monthly``, ``quarterly``, ``3 months``, ``1 year`` → a :class:`Rhythm`.

    Raises:
        ValueError: not a calendar rhythm; the message lists what is allowed.
    """
    if isinstance(value, Rhythm):
        return value
    if not isinstance(value, str):
        raise ValueError(f"bad reporting rhythm {value!r}: expected {RHYTHM_EXPECTED}")  # noqa: TRY004 - pydantic reports ValueError
    if value.strip().lower() in _ALIASES:
        return Rhythm(_ALIASES[value.strip().lower()])
    match = _RHYTHM.match(value.lower())
    if match is None:
        raise ValueError(f"bad reporting rhythm {value!r}: expected {RHYTHM_EXPECTED}")
    count, unit = int(match.group(1)), match.group(2).rstrip("s")
    months = count * {"month": 1, "quarter": 3, "year": 12}[unit]
    if months not in _ALLOWED_MONTHS:
        raise ValueError(f"bad reporting rhythm {value!r}: calendar periods split a year "
                         f"evenly; expected {RHYTHM_EXPECTED}")
    return Rhythm(months)


RhythmValue = Annotated[
    Rhythm,
    BeforeValidator(parse_rhythm),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({
        "type": "string",
        "pattern": r"^\s*(monthly|bimonthly|quarterly|half-yearly|yearly|annually|"
                   r"(0?[1-46]|12)\s+months?|[124]\s+quarters?|1\s+years?)\s*$",
        "examples": ["1 month", "monthly", "quarterly", "1 year"],
    }),
]

_SDG = re.compile(r"^sdg:(\d{1,2})(?:\.(\d{1,2}|[a-z]))?$", flags=re.IGNORECASE)
_IRIS = re.compile(r"^iris:([A-Z]{2}\d{4})$", flags=re.IGNORECASE)
_PLAIN = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
TAG_PATTERN = (r"^([sS][dD][gG]:(1[0-7]|0?[1-9])(\.([1-9][0-9]?|[a-jA-J]))?"
               r"|[iI][rR][iI][sS]:[A-Za-z]{2}[0-9]{4}|[a-z][a-z0-9_-]{0,39})$")
TAG_EXPECTED = ("an SDG target such as 'sdg:4.4' (goal 1 to 17, target a number or a "
                "letter), an IRIS+ metric code such as 'iris:PI4060' (two letters, four "
                "digits), or a plain tag such as 'education'")


def check_tag(tag: str) -> str:
    """Check an indicator tag's format.

    Raises:
        ValueError: the tag is none of the formats; the message says which are allowed.
    """
    sdg = _SDG.match(tag)
    if sdg is not None:
        goal = int(sdg.group(1))
        if not 1 <= goal <= 17:
            raise ValueError(f"tag {tag!r}: the SDGs are goals 1 to 17; expected "
                             f"{TAG_EXPECTED}")
        target = sdg.group(2)
        if target is not None and (target == "0" or target.startswith("0")
                                   or (target.lower() > "j" and target.isalpha())):
            raise ValueError(f"tag {tag!r}: an SDG target is 1 to 19 or a letter a to j, "
                             "e.g. 'sdg:4.4' or 'sdg:4.a'")
        return tag
    if tag.lower().startswith("sdg"):
        raise ValueError(f"tag {tag!r} is not an SDG target; expected {TAG_EXPECTED}")
    if _IRIS.match(tag) is not None:
        return tag
    if tag.lower().startswith("iris"):
        raise ValueError(f"tag {tag!r} is not an IRIS+ code; expected {TAG_EXPECTED}")
    if _PLAIN.match(tag) is None:
        raise ValueError(f"bad tag {tag!r}: expected {TAG_EXPECTED}")
    return tag


Tag = Annotated[str, AfterValidator(check_tag), WithJsonSchema(
    {"type": "string", "pattern": TAG_PATTERN, "examples": ["sdg:4.4", "iris:PI4060"]})]

Number = int | Annotated[float, Field(allow_inf_nan=False)]


def number_problem(kind: str, value: Any) -> str | None:
    """Why ``value`` is no value of an indicator of type ``kind`` (None: it is one)."""
    if kind == "bool":
        return None if isinstance(value, bool) else Message("indicator.value.bool", got=value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return Message("indicator.value.number", got=value)
    if not math.isfinite(value):
        return Message("indicator.value.finite", got=value)
    if kind == "int" and not (isinstance(value, int) or float(value).is_integer()):
        return Message("indicator.value.whole", got=value)
    if kind == "percent" and not 0 <= value <= 100:
        return Message("indicator.value.percent", got=value)
    if kind == "money" and round(value, 2) != value:
        return Message("indicator.value.money", got=value)
    return None


def value_cel_type(kind: str) -> str:
    """The CEL type (as a journey field type) of one value of an indicator."""
    return {"int": "int", "bool": "bool"}.get(kind, "float")


def _total_type(kind: str, aggregate: str) -> str:
    if kind == "bool":
        return "bool"
    if kind == "int" and aggregate != "mean":
        return "int"
    return "float"


def cel_declarations(indicators: Mapping[str, Any]) -> dict[str, str]:
    """The qualified CEL names of ``indicators`` (name → spec) and their field types:
    ``indicators.NAME.total`` and the others; ``progress`` only with a target."""
    result: dict[str, str] = {}
    for name, spec in indicators.items():
        prefix = f"indicators.{name}."
        result[prefix + "total"] = _total_type(spec.type, spec.aggregate)
        result[prefix + "latest"] = value_cel_type(spec.type)
        result[prefix + "periods"] = "int"
        result[prefix + "missing"] = "int"
        if spec.target is not None:
            result[prefix + "progress"] = "float"
    return result


def due_periods(rhythm: Rhythm, stays: Iterable[tuple[str, datetime, datetime | None]],
                due_in: Sequence[str], now: datetime, timezone: str) -> list[date]:
    """The periods that have ended by ``now`` and during which the project stayed in
    one of the ``due_in`` stages at some moment, oldest first.

    Args:
        rhythm: the indicator's periods.
        stays: ``(stage, entered, left)`` of each stage visit (``left`` None: still there).
        due_in: the stages in which a value is due.
        now: the current aware time.
        timezone: the journey's IANA timezone (periods are its calendar periods).
    """
    zone = ZoneInfo(timezone)

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(0), zone)

    due: set[date] = set()
    for stage, entered, left in stays:
        if stage not in due_in:
            continue
        start = rhythm.start_of(entered.astimezone(zone).date())
        while midnight(rhythm.next(start)) <= now and (left is None or
                                                       left > midnight(start)):
            due.add(start)
            start = rhythm.next(start)
    return sorted(due)


@dataclass(frozen=True, slots=True)
class Measurement:
    """One recorded value (the effective one of its period is the last recorded)."""

    period: date
    value: Any
    at: datetime
    by: str | None
    note: str | None = None


def figures(spec: Any, effective: Mapping[date, Any], due: Iterable[date]) -> dict[str, Any]:
    """``total``, ``latest``, ``periods``, ``missing`` and ``progress`` of an indicator
    from each period's effective value (period's first day -> value)."""
    periods = sorted(effective)
    found = [effective[p] for p in periods]
    total: Any = None
    if spec.aggregate == "sum":
        total = sum(found) if found else 0
    elif found and spec.aggregate == "last":
        total = found[-1]
    elif found and spec.aggregate == "max":
        total = max(found)
    elif found:
        total = sum(found) / len(found)
    kind = _total_type(spec.type, spec.aggregate)
    if total is not None:
        total = bool(total) if kind == "bool" else int(total) if kind == "int" \
            else float(total)
    return {
        "total": total,
        "latest": _as(value_cel_type(spec.type), found[-1]) if found else None,
        "periods": len(periods),
        "missing": sum(1 for p in due if p not in effective),
        "progress": _progress(spec, total),
    }


def summarize(spec: Any, rhythm: Rhythm, measurements: Iterable[Measurement],
              due: Iterable[date]) -> dict[str, Any]:
    """An indicator's summary: ``total`` (its periods combined by ``aggregate``),
    ``latest`` (the latest period's value), ``periods`` (how many have a value),
    ``missing`` (due periods without one), ``progress`` (toward the target, 1.0 = met)
    and ``values`` (each period's effective value, a correction replacing the earlier).

    ``total``, ``latest`` and ``progress`` are None when there is nothing to show
    (no value yet, except that a ``sum`` of nothing is 0; no target). The figures are
    :func:`figures` of the effective values (what a report over many projects uses).
    """
    effective: dict[date, Measurement] = {}
    for measurement in measurements:  # in event order: the last of a period wins
        effective[measurement.period] = measurement
    due = list(due)
    summary = figures(spec, {p: m.value for p, m in effective.items()}, due)
    periods = sorted(effective)
    return {
        **summary,
        "missing_periods": [rhythm.label(p) for p in due if p not in effective],
        "values": [{"period": rhythm.label(p), "value": effective[p].value,
                    "at": effective[p].at.isoformat(), "by": effective[p].by,
                    "note": effective[p].note} for p in periods],
    }


def _as(kind: str, value: Any) -> Any:
    return bool(value) if kind == "bool" else int(value) if kind == "int" else float(value)


def _progress(spec: Any, total: Any) -> float | None:
    if spec.target is None or total is None:
        return None
    if isinstance(spec.target, bool):
        return 1.0 if bool(total) is spec.target else 0.0
    baseline = spec.baseline if isinstance(spec.baseline, int | float) else 0
    span = spec.target - baseline
    if span == 0:
        return 1.0 if total >= spec.target else 0.0
    return float((total - baseline) / span)
