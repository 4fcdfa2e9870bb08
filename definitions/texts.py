"""Localised texts: pick a language with English as the fallback, and the default ``says``."""

from __future__ import annotations

from collections.abc import Mapping

from bompao.definitions.durations import Duration

__all__ = ["LANGUAGES", "duration_text", "pick"]

LANGUAGES = ("en", "th")


def pick(text: Mapping[str, str] | None, lang: str = "en", default: str = "") -> str:
    """The text in ``lang``, else English, else any language, else ``default``."""
    if not text:
        return default
    return text.get(lang) or text.get("en") or next(iter(text.values()), default)


def duration_text(duration: Duration, lang: str = "en") -> str:
    """``6 months`` / ``6 เดือน`` (other languages from the catalogue's
    ``duration.count.UNIT``)."""
    if lang == "en":
        return str(duration)
    from bompao.definitions.messages import text  # noqa: PLC0415 - messages imports texts' kin

    return text(f"duration.count.{duration.unit.replace(' ', '_')}", lang,
                count=duration.count)
