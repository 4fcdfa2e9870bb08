"""Schema step: turn loaded data into a :class:`JourneyDoc`, or explain every problem.

pydantic finds all key and type problems in one pass; this module rewrites each into
one positioned line that names the bad key with ``!r`` and lists what is allowed.
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from bompao.definitions.messages import key_name_message
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
            message: str = key_name_message(path[:-1])
            diagnostic = source.diagnostic(path[:-1], message, key=True)
        elif kind == "extra_forbidden":
            message = _unknown_key(path)
            diagnostic = source.diagnostic(path, message, key=True)
        elif kind == "missing":
            where = path_text(path[:-1])
            message = f"{where} is missing the required key {path[-1]!r}"
            diagnostic = source.diagnostic(path[:-1], message)
        else:
            message = f"{path_text(path)}: {_message(error)}"
            diagnostic = source.diagnostic(path, message)
        signature = (diagnostic.line, diagnostic.column, diagnostic.message)
        if signature not in seen:
            seen.add(signature)
            result.append(diagnostic)
    result.sort(key=lambda d: (d.file, d.line, d.column))
    return result


def _message(error: Any) -> str:
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if error["type"] == "string_pattern_mismatch":
        value = error.get("input")
        pattern = error.get("ctx", {}).get("pattern", "")
        if pattern.startswith("^[a-z_]"):
            return (f"{value!r} is not a valid name: use lower-case letters, digits "
                    f"and '_', starting with a letter")
        return f"{value!r} does not match {pattern}"
    if error["type"] in ("literal_error", "enum") or "Input should be" in message:
        message = message.replace("Input should be", "expected")
        if "input" in error and not isinstance(error["input"], dict | list):
            message += f", got {error['input']!r}"
    return message


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


def _unknown_key(path: tuple[str | int, ...]) -> str:
    key = path[-1]
    model = _model_at(JourneyDoc, path[:-1])
    where = path_text(path[:-1])
    if model is None:
        return f"unknown key {key!r} in {where}"
    allowed = sorted(
        (info.alias or name) for name, info in model.model_fields.items())
    close = difflib.get_close_matches(str(key), allowed, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown key {key!r} in {where}{hint}; allowed: {', '.join(allowed)}"


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
