"""Message templates: Jinja2 in its sandbox, so a journey's text cannot reach Python internals."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

__all__ = ["TemplateProblem", "check_template", "render"]


class TemplateProblem(Exception):
    """A template syntax error at a 1-based line inside the template."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import ChainableUndefined  # noqa: PLC0415 - import only when a template is used
    from jinja2.sandbox import ImmutableSandboxedEnvironment  # noqa: PLC0415

    return ImmutableSandboxedEnvironment(autoescape=False, undefined=ChainableUndefined)


def _needs_jinja(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


@lru_cache(maxsize=4096)
def check_template(text: str) -> None:
    """Parse ``text`` as a template.

    Raises:
        TemplateProblem: the template does not parse.
    """
    if not _needs_jinja(text):
        return
    from jinja2 import TemplateSyntaxError  # noqa: PLC0415

    try:
        _environment().parse(text)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(exc.lineno or 1, f"template error: {exc.message}") from None
    except RecursionError:
        raise TemplateProblem(1, "template error: the template nests too deeply") from None


def render(text: str, context: dict[str, Any]) -> str:
    """Render ``text`` in the sandbox with ``context``.

    Raises:
        jinja2.exceptions.SecurityError: the template tried to reach Python internals.
        jinja2.TemplateError: the template failed to render.
    """
    if not _needs_jinja(text):
        return text
    return str(_environment().from_string(text).render(context))
