"""Message templates: Jinja2 in a bounded sandbox, so a journey's text cannot reach Python
internals, nor spend the daemon's memory and time.

Journey files come from partners, so a template is held to more than Jinja's
sandbox: no globals at all (no ``range``, ``lipsum``, ``cycler``, ``self``…, whose
reprs would show Python objects), ``*`` and ``**`` refused when they would build
something huge, ``for`` loops nested at most :data:`MAX_LOOP_NESTING` deep (over
project data, whose lists are bounded), and the rendered message stopped at
:data:`MAX_MESSAGE` characters.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

__all__ = ["MAX_LOOP_NESTING", "MAX_MESSAGE", "TemplateProblem", "check_template", "render"]

MAX_MESSAGE = 20_000
"""Characters a rendered message may have; rendering stops there with an error."""
MAX_LOOP_NESTING = 2
"""How deep ``{% for %}`` loops may nest in one template."""
_MAX_EXPONENT = 64


class TemplateProblem(Exception):
    """A template syntax error at a 1-based line inside the template."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import ChainableUndefined  # noqa: PLC0415 - import only when a template is used
    from jinja2.exceptions import SecurityError  # noqa: PLC0415
    from jinja2.sandbox import ImmutableSandboxedEnvironment  # noqa: PLC0415

    class Bounded(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "**":
                if isinstance(right, int | float) and abs(right) > _MAX_EXPONENT:
                    raise SecurityError(f"exponent {right!r} is over {_MAX_EXPONENT}")
                return super().call_binop(context, operator, left, right)
            for sized, times in ((left, right), (right, left)):
                if isinstance(sized, str | list | tuple) and isinstance(times, int) and (
                        len(sized) * times > MAX_MESSAGE):
                    raise SecurityError(f"repeating {type(sized).__name__} {times:,} times "
                                        f"is over {MAX_MESSAGE:,} characters or items")
            return super().call_binop(context, operator, left, right)

    environment = Bounded(autoescape=False, undefined=ChainableUndefined)
    environment.globals.clear()
    return environment


def _needs_jinja(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


def _names(node: Any) -> set[str]:
    from jinja2 import nodes  # noqa: PLC0415

    return {name.name for name in node.find_all(nodes.Name)}


def _loop_nesting(node: Any, depth: int = 0) -> int:
    from jinja2 import nodes  # noqa: PLC0415

    here = depth + 1 if isinstance(node, nodes.For) else depth
    return max([here, *(_loop_nesting(child, here) for child in node.iter_child_nodes())])


@lru_cache(maxsize=4096)
def check_template(text: str) -> None:
    """Parse ``text`` as a template and check its bounds.

    Raises:
        TemplateProblem: the template does not parse, names ``self``, or nests loops
            too deeply.
    """
    if not _needs_jinja(text):
        return
    from jinja2 import TemplateSyntaxError  # noqa: PLC0415

    try:
        parsed = _environment().parse(text)
        nesting = _loop_nesting(parsed)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(exc.lineno or 1, f"template error: {exc.message}") from None
    except RecursionError:
        raise TemplateProblem(1, "template error: the template nests too deeply") from None
    if "self" in _names(parsed):  # Jinja's own reference to the template object
        raise TemplateProblem(1, "template error: 'self' is not available in messages; "
                              "use project, journey, stage, follow_up or days_in_stage")
    if nesting > MAX_LOOP_NESTING:
        raise TemplateProblem(1, f"template error: for-loops nest {nesting} deep; "
                              f"at most {MAX_LOOP_NESTING} are allowed")


def render(text: str, context: dict[str, Any]) -> str:
    """Render ``text`` in the bounded sandbox with ``context``.

    Raises:
        TemplateProblem: the template names ``self`` or nests loops too deeply.
        jinja2.exceptions.SecurityError: the template tried to reach Python internals,
            to build something huge, or rendered more than :data:`MAX_MESSAGE` characters.
        jinja2.TemplateError: the template failed to render.
    """
    if not _needs_jinja(text):
        return text
    from jinja2.exceptions import SecurityError  # noqa: PLC0415

    check_template(text)
    parts: list[str] = []
    size = 0
    for chunk in _environment().from_string(text).generate(context):
        size += len(chunk)
        if size > MAX_MESSAGE:
            raise SecurityError(f"the message is over {MAX_MESSAGE:,} characters")
        parts.append(chunk)
    return "".join(parts)
