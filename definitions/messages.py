"""Messages that teach, in English and Thai.

Every text bompao prints is a key of one catalogue (:data:`CATALOGUE`, assembled in
:mod:`bompao.catalogue`) with an English and a Thai ``str.format`` template. A
:class:`Message` is a ``str`` (its English text), so it goes wherever a message went
before — a :class:`~bompao.errors.Diagnostic`, an exception — and it remembers its
key and parameters, so :func:`localise` can render it in another language
(``bompao --lang th``). Parameters may be messages themselves, or :class:`Texts` (a
journey's own text in several languages); they are rendered in the same language.
:func:`text` renders a key straight into one language (the CLI's confirmations,
headings and labels).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from bompao.catalogue import CATALOGUE
from bompao.errors import Diagnostic

__all__ = ["CATALOGUE", "Joined", "Localised", "Message", "Texts", "diagnostic_text",
           "did_you_mean", "error_text", "key_name_message", "localise", "text", "unknown_name"]


class Localised(str):
    """English text that can render itself in another language."""

    def render(self, lang: str) -> str:
        """The text in ``lang``."""
        return str.__str__(self)


class Texts(Localised):
    """A text given in several languages (a stage's title, a criterion's ``says``), to
    pass as a :class:`Message` parameter: it is English as a ``str`` and renders in
    the message's language (English, else any language given, where ``lang`` is
    missing).

    Args:
        texts: language code to text.
    """

    texts: dict[str, str]

    def __new__(cls, texts: Mapping[str, str]) -> Texts:
        self = super().__new__(cls, _pick(texts, "en"))
        self.texts = dict(texts)
        return self

    def render(self, lang: str) -> str:
        """The text in ``lang``, else English, else any language given."""
        return _pick(self.texts, lang)

    def __reduce__(self) -> tuple[Any, ...]:
        """Copies and pickles keep every language."""
        return Texts, (self.texts,)


class Joined(Localised):
    """Several texts (messages, :class:`Texts`, plain) joined by ``separator``, each
    rendered in the language of the message it is a parameter of.

    Args:
        items: the texts.
        separator: what goes between them.
    """

    items: tuple[str, ...]
    separator: str

    def __new__(cls, items: Iterable[str], separator: str = ", ") -> Joined:
        kept = tuple(items)
        self = super().__new__(cls, separator.join(str(item) for item in kept))
        self.items, self.separator = kept, separator
        return self

    def render(self, lang: str) -> str:
        """Each item in ``lang``, joined."""
        return self.separator.join(localise(item, lang) for item in self.items)

    def __reduce__(self) -> tuple[Any, ...]:
        """Copies and pickles keep the items' languages."""
        return Joined, (self.items, self.separator)


def _pick(texts: Mapping[str, str], lang: str) -> str:
    return texts.get(lang) or texts.get("en") or next(iter(texts.values()), "")


class Message(Localised):
    """An English message that can render itself in another language.

    Args:
        key: a key of :data:`CATALOGUE`.
        params: the template's parameters (text, numbers, or other messages).

    Raises:
        KeyError: ``key`` is not in the catalogue.
    """

    key: str
    params: dict[str, Any]

    def __new__(cls, key: str, /, **params: Any) -> Message:
        self = super().__new__(cls, _render(key, params, "en"))
        self.key = key
        self.params = params
        return self

    def render(self, lang: str) -> str:
        """The message in ``lang`` (English where the catalogue has no translation)."""
        return _render(self.key, self.params, lang)

    def __reduce__(self) -> tuple[Any, ...]:
        """Copies and pickles keep the key and parameters (not just the English)."""
        return _rebuild, (self.key, self.params)


def _rebuild(key: str, params: dict[str, Any]) -> Message:
    return Message(key, **params)


def _render(key: str, params: dict[str, Any], lang: str) -> str:
    templates = CATALOGUE[key]
    template = templates.get(lang) or templates["en"]
    values = {name: value.render(lang) if isinstance(value, Localised) else value
              for name, value in params.items()}
    return template.format(**values)


def localise(text: str, lang: str) -> str:
    """``text`` in ``lang`` when it is a :class:`Message` or :class:`Texts`; other text
    as it is."""
    return text.render(lang) if isinstance(text, Localised) else str(text)


def text(key: str, lang: str, /, **params: Any) -> str:
    """The catalogue's ``key`` rendered in ``lang`` (English where ``lang`` has none).

    Raises:
        KeyError: ``key`` is not in the catalogue.
    """
    return _render(key, params, lang)


_KINDS = {"stages": "stage", "fields": "field", "evidence": "evidence",
          "indicators": "indicator"}


def key_name_message(path: tuple[str | int, ...]) -> Message:
    """The message for a key at ``path`` that fails the name pattern: a key in Thai
    (or any non-English letters) is pointed to ``title: {th: ...}``."""
    name = str(path[-1]) if path else ""
    container = path[-2] if len(path) >= 2 else ""
    kind = _KINDS.get(str(container))
    where: Message | str = Message(f"what.{kind}") if kind else (
        str(container) or "the document")
    if any(not char.isascii() for char in name):
        return Message("name.thai_key", name=name, where=where)
    return Message("name.invalid_key", name=name, where=where)


def unknown_name(what: str, name: str, known: Iterable[str]) -> Message:
    """``unknown stage 'x' (did you mean 'y'?); stages: ...`` (``what``: stage, role,
    field or evidence item)."""
    names = sorted(known)
    listing: Message | str = ", ".join(names) if names else Message("none_declared")
    return Message("unknown", what=Message(f"what.{what}"), whats=Message(f"what.{what}s"),
                   name=name, hint=did_you_mean(name, names), listing=listing)


def did_you_mean(name: str, known: Iterable[str]) -> Message | str:
    """`` (did you mean 'x'?)`` for the closest of ``known``, or ``""``."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return Message("hint.did_you_mean", name=close[0]) if close else ""


def diagnostic_text(diagnostic: Diagnostic, lang: str) -> str:
    """``FILE:LINE:COL: error: MESSAGE`` with the message in ``lang``."""
    return (f"{diagnostic.file}:{diagnostic.line}:{diagnostic.column}: error: "
            f"{localise(diagnostic.message, lang)}")


def error_text(error: BaseException, lang: str) -> str:
    """An error's message in ``lang`` (when it was raised with a :class:`Message`)."""
    first = error.args[0] if len(error.args) == 1 else None
    return localise(first, lang) if isinstance(first, Localised) else str(error)
