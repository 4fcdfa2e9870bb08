"""Applications through the web app's two intake doors: the public form
(``/apply/KEY``) and inbound webhooks (``/hooks/NAME``).

Both go through :func:`bompao.engine.transfer.import_projects` — the validation and
the all-or-nothing write the CSV/xlsx import uses — with one row, and record a receipt
in the same transaction (:mod:`bompao.storage.receipts`): the reference the applicant
follows the application with and, for a webhook, its delivery id. A delivery seen
before creates nothing and answers with the first one's reference; two arriving at
once create one project (the second's transaction inserts no receipt and is rolled
back). Before the write each answer is checked on its own, so a refusal can name the
field it is about (:class:`ApplicationInvalid`).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from bompao.definitions.compiled import CompiledJourney
from bompao.definitions.intake import ApplicationSpec, check_application
from bompao.definitions.messages import Message
from bompao.engine.actor import Actor
from bompao.engine.transfer import ImportRefused, import_projects
from bompao.errors import BompaoError, ConflictError, InvalidValue, NotFound
from bompao.storage import receipts

__all__ = ["ApplicationInvalid", "Received", "Status", "application_journey", "check_open",
           "form_of",
           "status", "submit", "today_in"]

_APPLICANT = Actor("applicant")


@dataclass(frozen=True, slots=True)
class Received:
    """An application taken in: its reference, its project and whether it was a replay
    of a delivery seen before (nothing new written)."""

    reference: str
    project_id: int
    replay: bool = False


@dataclass(frozen=True, slots=True)
class Status:
    """What an applicant may see of their application: the journey and the stage."""

    journey: CompiledJourney
    stage: str
    received_at: Any


class ApplicationInvalid(InvalidValue):
    """An application refused with the field each problem is about (``""``: the
    application as a whole, ``"name"``: the project's name); nothing was written.

    Args:
        problems: field -> the error about it, the first one also this error's text.
    """

    def __init__(self, problems: Mapping[str, BompaoError]) -> None:
        self.problems = dict(problems)
        first = next(iter(self.problems.values()))
        super().__init__(first.args[0] if first.args else str(first))


class _Seen(Exception):
    """The delivery was recorded meanwhile: roll this import back."""


def application_journey(engine: Any, key: str) -> CompiledJourney:
    """The latest version of journey ``key``, which must declare an application form.

    Raises:
        NotFound: no such journey, or one without ``application:``.
    """
    compiled: CompiledJourney = engine.journey(key)
    if compiled.doc.application is None:
        raise NotFound(Message("apply.no_form", ref=compiled.ref))
    return compiled


def form_of(compiled: CompiledJourney) -> ApplicationSpec:
    """The journey's application form.

    Raises:
        NotFound: the journey declares none.
    """
    spec: ApplicationSpec | None = compiled.doc.application
    if spec is None:
        raise NotFound(Message("apply.no_form", ref=compiled.ref))
    return spec


def today_in(engine: Any, compiled: CompiledJourney) -> date:
    """Today in the journey's timezone."""
    return engine.now().astimezone(ZoneInfo(compiled.timezone)).date()  # type: ignore[no-any-return]


def check_open(engine: Any, compiled: CompiledJourney) -> None:
    """Refuse when today is outside the form's opening dates.

    Raises:
        ApplicationsClosed: before ``opens`` or after ``closes``.
    """
    spec = form_of(compiled)
    check_application(compiled.ref, spec.model_copy(update={"required": []}), {},
                      today_in(engine, compiled))


def _blank(value: Any) -> bool:
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def _check_each(compiled: CompiledJourney, name: str, answers: Mapping[str, Any]) -> None:
    """Every answer on its own, so each problem names its field.

    Raises:
        ApplicationInvalid: one entry per bad field.
    """
    spec = form_of(compiled)
    problems: dict[str, BompaoError] = {}
    if not name.strip():
        problems["name"] = InvalidValue(Message("apply.name_required"))
    for field in spec.required:
        if _blank(answers.get(field)):
            problems[field] = InvalidValue(Message("intake.required", name=field,
                                                   required=", ".join(spec.required)))
    for field, value in answers.items():
        if field in problems or _blank(value):
            continue
        if field not in spec.fields:
            problems[field] = InvalidValue(Message("intake.not_asked", name=field,
                                                   ref=compiled.ref,
                                                   asked=", ".join(spec.fields)))
            continue
        try:
            compiled.fields_from_text({field: value})
        except InvalidValue as exc:
            problems[field] = exc
    if problems:
        raise ApplicationInvalid(problems)


def _existing(engine: Any, source: str, delivery_id: str) -> Received | None:
    with engine.db.begin(write=False) as conn:
        row = receipts.receipt_by_delivery(conn, source, delivery_id)
    return None if row is None else Received(row.reference, int(row.project_id), True)


def submit(engine: Any, key: str, *, name: str, answers: Mapping[str, Any], source: str,
           delivery_id: str | None = None, partner: str | None = None,
           cohort: str | None = None) -> Received:
    """Take in one application to journey ``key``'s latest version, all or nothing.

    Args:
        key: the journey.
        name: the project's name.
        answers: field -> value (text as typed, or JSON values).
        source: ``"form"`` or ``"hook:NAME"``.
        delivery_id: a webhook delivery's id; a second delivery of it writes nothing.
        partner: the project's partner, if the door says.
        cohort: the project's cohort, if the door says.

    Returns:
        The reference, the project and whether it was a replay.

    Raises:
        NotFound: no such journey, or one without a form.
        ApplicationsClosed: outside the opening dates.
        ApplicationInvalid: a bad or missing answer (naming the field).
    """
    compiled = application_journey(engine, key)
    if delivery_id is not None and (seen := _existing(engine, source, delivery_id)):
        return seen
    check_open(engine, compiled)
    given = {field: value for field, value in answers.items() if not _blank(value)}
    _check_each(compiled, name, given)
    reference = secrets.token_urlsafe(24)
    row = {"journey": compiled.key, "version": compiled.version, "name": name.strip(),
           "partner": partner, "cohort": cohort, "fields": given}

    def record(cursor: Any, ids: list[int]) -> None:
        recorded = receipts.insert_receipt(engine.hot, cursor, {
            "reference": reference, "project_id": ids[0], "journey_key": compiled.key,
            "source": source, "delivery_id": delivery_id, "received_at": engine.now()})
        if not recorded:
            raise _Seen

    try:
        [project_id] = import_projects(engine, [row], actor=_APPLICANT, within=record)
    except _Seen:
        seen = _existing(engine, source, str(delivery_id))
        if seen is None:  # pragma: no cover - the receipt that stopped us is committed
            raise ConflictError("the delivery is being recorded; send it again") from None
        return seen
    except ImportRefused as exc:
        raise ApplicationInvalid({"": InvalidValue(exc.problems[0][1])}) from None
    return Received(reference, project_id)


def status(engine: Any, reference: str, journey: str | None = None) -> Status:
    """The stage of the application ``reference`` follows (to ``journey``, if given).

    Raises:
        NotFound: an unknown reference (or one of another journey).
    """
    if not reference or len(reference) > 64:
        raise NotFound(Message("apply.unknown_reference"))
    with engine.db.begin(write=False) as conn:
        row = receipts.receipt_by_reference(conn, reference)
    if row is None or journey not in (None, row.journey_key):
        raise NotFound(Message("apply.unknown_reference"))
    compiled = engine.journey(row.journey_key, row.journey_version)
    return Status(compiled, str(row.stage), row.received_at)
