"""click's own usage messages in the reader's language.

click writes its messages (``Missing argument 'ID'.``, ``No such option '--bogus'.``,
``'abc' is not a valid integer.``, the ``--help`` headings) through :mod:`gettext`,
the way a program written for translation does. :func:`speaking` gives click, for the
length of one CLI run, translations taken from the catalogue's ``usage`` family
(:mod:`bompao.catalogue.usage`, whose English templates are click's message ids)
instead of a compiled ``.mo`` file; outside that run click is as it was.
"""

from __future__ import annotations

import contextlib
import gettext
import sys
from collections.abc import Iterator
from typing import Any

from bompao.catalogue.usage import ENTRIES

__all__ = ["speaking", "translator"]


class _Template(str):
    """A Thai template that also translates the English words click formats into it
    (``integer``, ``argument``)."""

    words: dict[str, str]

    def __new__(cls, template: str, words: dict[str, str]) -> _Template:
        self = super().__new__(cls, template)
        self.words = words
        return self

    def format(self, *args: Any, **kwargs: Any) -> str:
        """``str.format`` with click's English words in the template's language."""
        kwargs = {name: self.words.get(value, value) if isinstance(value, str) else value
                  for name, value in kwargs.items()}
        return str.format(self, *args, **kwargs)


def translator(lang: str) -> tuple[Any, Any]:
    """``(gettext, ngettext)`` functions that answer click's message ids in ``lang``
    (click's own English where the catalogue has no entry)."""
    single = {entry["en"]: entry.get(lang) or entry["en"] for entry in ENTRIES.values()}
    words = {entry["en"]: entry.get(lang) or entry["en"]
             for key, entry in ENTRIES.items() if key.startswith("click.word.")}

    def translate(message: str) -> str:
        found = single.get(message)
        return message if found is None else _Template(found, words)

    def translate_plural(singular: str, plural: str, count: int) -> str:
        return translate(singular if count == 1 else plural)

    return translate, translate_plural


@contextlib.contextmanager
def speaking(lang: str) -> Iterator[None]:
    """For the block, click's modules speak ``lang`` (nothing changes for English)."""
    if lang == "en":
        yield
        return
    translate, translate_plural = translator(lang)
    patched: list[tuple[Any, str, Any]] = []
    for name, module in list(sys.modules.items()):
        if name != "click" and not name.startswith("click."):
            continue
        for attribute, original, replacement in (("_", gettext.gettext, translate),
                                                  ("ngettext", gettext.ngettext,
                                                   translate_plural)):
            if getattr(module, attribute, None) is original:
                patched.append((module, attribute, original))
                setattr(module, attribute, replacement)
    try:
        yield
    finally:
        for module, attribute, original in patched:
            setattr(module, attribute, original)
