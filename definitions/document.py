"""Schema step: turn loaded data into a :class:`JourneyDoc`, or explain every problem.

pydantic finds all key and type problems in one pass; this module rewrites each into
one positioned line that names the bad key with ``!r`` and lists what is allowed.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from bompao.definitions.messages import Localised, Message, Texts, did_you_mean, key_name_message
from bompao.definitions.model import JourneyDoc
from bompao.definitions.source import Source
from bompao.errors import Diagnostic, SchemaError

__all__ = ["parse_document", "path_text"]


def path_text(path: tuple[str | int, ...]) -> str:
    """``('stages', 'idea', 'follow_ups', 0)`` → ``stages.idea.follow_ups[0]``."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text or "the document"


def parse_document(source: Source) -> JourneyDoc:
    """Validate ``source.data`` against the journey model.

    Raises:
        SchemaError: with one diagnostic per unknown, missing or mistyped key.
    """
    try:
        return JourneyDoc.model_validate(source.data)
    except ValidationError as exc:
        diagnostics = _diagnostics(source, exc)
    raise SchemaError(diagnostics)


def _diagnostics(source: Source, exc: ValidationError) -> list[Diagnostic]:
    seen: set[tuple[Any, ...]] = set()
    result: list[Diagnostic] = []
    errors = exc.errors(include_url=False)
    # a name that fails its pattern also fails the union's other shapes ('*', a list):
    # those add nothing (an issue-15 root-cause rule)
    named = {error["loc"][:-1] for error in errors if error["type"] ==
             "string_pattern_mismatch" and error["loc"][-1:] == ("constrained-str",)}
    bad_stages = {error["loc"][1] for error in errors if error["loc"][:1] == ("stages",)
                  and error["loc"][-1:] == ("[key]",)}
    for error in errors:
        path = _data_path(source.data, error["loc"])
        kind = error["type"]
        if kind in ("literal_error", "list_type") and error["loc"][:-1] in named:
            continue
        if error["loc"][:1] == ("transitions",) and isinstance(error.get("input"), str) \
                and error["input"] in bad_stages:
            continue  # a reference to a stage whose key is reported already
        if error["loc"][-1:] == ("[key]",) and kind == "string_pattern_mismatch":
            message: Localised | str = key_name_message(path[:-1])
            diagnostic = source.diagnostic(path[:-1], message, key=True)
        elif kind == "extra_forbidden":
            message = _unknown_key(path)
            diagnostic = source.diagnostic(path, message, key=True)
        elif kind == "missing":
            message = Message("schema.missing_key", where=_where(path[:-1]), key=path[-1])
            diagnostic = source.diagnostic(path[:-1], message)
        else:
            message = Message("schema.at", where=_where(path), problem=_message(error))
            diagnostic = source.diagnostic(path, message)
        signature = (diagnostic.line, diagnostic.column, diagnostic.message)
        if signature not in seen:
            seen.add(signature)
            result.append(diagnostic)
    result.sort(key=lambda d: (d.file, d.line, d.column))
    return result


_WANTS = {"string_type": "text", "int_type": "int", "int_parsing": "int",
          "int_from_float": "int", "float_type": "number", "float_parsing": "number",
          "bool_type": "bool", "bool_parsing": "bool", "list_type": "list",
          "dict_type": "map", "model_type": "map", "model_attributes_type": "map",
          "date_type": "date", "date_parsing": "date", "date_from_datetime_parsing": "date"}
_LIMITS = {"greater_than_equal": ("schema.ge", "ge"), "greater_than": ("schema.gt", "gt"),
           "less_than_equal": ("schema.le", "le"), "less_than": ("schema.lt", "lt"),
           "string_too_short": ("schema.min_length", "min_length"),
           "string_too_long": ("schema.max_length", "max_length"),
           "too_short": ("schema.min_items", "min_length"),
           "too_long": ("schema.max_items", "max_length")}


def _where(path: tuple[str | int, ...]) -> Message | str:
    return path_text(path) if path else Message("where.document")


def _message(error: Any) -> Localised | str:
    """pydantic's complaint in words the catalogue holds in every language (its own
    English where the catalogue has no entry for the kind of error)."""
    kind, context = error["type"], error.get("ctx") or {}
    cause = context.get("error")
    if isinstance(cause, Exception) and len(cause.args) == 1 and \
            isinstance(cause.args[0], Localised):
        return cause.args[0]  # our own validator raised a catalogue message
    if kind == "string_pattern_mismatch":
        value, pattern = error.get("input"), context.get("pattern", "")
        if pattern.startswith("^[a-z_]"):
            return Message("schema.bad_name", value=value)
        return Message("schema.no_match", value=value, pattern=pattern)
    problem: Localised | str
    if kind in _WANTS:
        problem = Message("schema.expected", want=Message(f"want.{_WANTS[kind]}"))
    elif kind in ("literal_error", "enum") and "expected" in context:
        expected = str(context["expected"])
        problem = Message("schema.expected", want=Message("want.one_of", expected=Texts({
            "en": expected, "th": expected.replace(" or ", " หรือ ")})))
    elif kind in _LIMITS and _LIMITS[kind][1] in context:
        key, limit = _LIMITS[kind]
        problem = Message(key, limit=context[limit])
    else:
        message = str(error["msg"])
        for prefix in ("Value error, ", "Assertion failed, "):
            message = message.removeprefix(prefix)
        if "Input should be" not in message:
            return message
        problem = message.replace("Input should be", "expected")
    if "input" in error and not isinstance(error["input"], dict | list):
        return Message("schema.got", problem=problem, got=error["input"])
    return problem


def _data_path(data: Any, loc: tuple[Any, ...]) -> tuple[str | int, ...]:
    """Keep the steps of pydantic's ``loc`` that are real keys or indices of ``data``."""
    path: list[str | int] = []
    node = data
    for step in loc:
        if (isinstance(node, dict) and step in node) or (
                isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node)):
            path.append(step)
            node = node[step]
        elif isinstance(step, str) and step == loc[-1] and (
                node is None or (isinstance(node, dict) and step not in node)):
            path.append(step)
    return tuple(path)


def _unknown_key(path: tuple[str | int, ...]) -> Message:
    key = path[-1]
    model = _model_at(JourneyDoc, path[:-1])
    where = _where(path[:-1])
    if model is None:
        return Message("schema.unknown_key_here", key=key, where=where)
    allowed = sorted(
        (info.alias or name) for name, info in model.model_fields.items())
    return Message("schema.unknown_key", key=key, where=where,
                   hint=did_you_mean(str(key), allowed), allowed=", ".join(allowed))


def _model_at(model: type[BaseModel], path: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The model class that validates the mapping at ``path``."""
    annotation: Any = model
    for step in path:
        annotation = _unwrap(annotation, step)
        if annotation is None:
            return None
    return _find_model(annotation)


def _unwrap(annotation: Any, step: str | int) -> Any:
    model = _find_model(annotation)
    if model is not None and isinstance(step, str):
        for name, info in model.model_fields.items():
            if step in (name, info.alias):
                return info.annotation
        return None
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _unwrap(args[0], step)
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            found = _unwrap(arg, step)
            if found is not None:
                return found
        return None
    if origin is dict and isinstance(step, str):
        return args[1]
    if origin is list and isinstance(step, int):
        return args[0]
    if model is not None and isinstance(step, int):
        # a list written where a criterion is expected means "all"
        return _unwrap(model.model_fields["all_"].annotation, step) if (
            "all_" in model.model_fields) else None
    return None


def _find_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated or origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _find_model(arg)
            if found is not None:
                return found
    return None
