"""Localised texts: pick a language with English as the fallback, and the default ``says``."""

from __future__ import annotations

from collections.abc import Mapping

from bompao.definitions.durations import Duration

__all__ = ["LANGUAGES", "duration_text", "pick"]

LANGUAGES = ("en", "th")
_TH_UNITS = {"day": "วัน", "week": "สัปดาห์", "month": "เดือน", "year": "ปี",
             "business day": "วันทำการ"}


def pick(text: Mapping[str, str] | None, lang: str = "en", default: str = "") -> str:
    """The text in ``lang``, else English, else any language, else ``default``."""
    if not text:
        return default
    return text.get(lang) or text.get("en") or next(iter(text.values()), default)


def duration_text(duration: Duration, lang: str = "en") -> str:
    """``6 months`` / ``6 เดือน``."""
    if lang == "th":
        return f"{duration.count} {_TH_UNITS[duration.unit]}"
    return str(duration)
