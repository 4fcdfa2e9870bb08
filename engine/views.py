"""Human-readable rendering of listings and reports: aligned tables that get Thai right.

rich measures Thai combining vowels and tone marks as zero-width, so columns line up.
Colour appears only on a terminal; piped output is plain text.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["calendar_text", "console", "follow_up_when", "printable", "report_cells",
           "report_table", "show_journey", "table"]

_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` safe for a terminal: control characters (escape sequences, bell, carriage
    return) and bidirectional overrides shown as ``\\xNN``/``\\uNNNN``; newlines and tabs kept.

    Names, fields and journey texts come from partners and their people; printed raw, an
    escape sequence in a project's name would rewrite the operator's terminal.
    """
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def console() -> Any:
    """A rich console on stdout: full width when piped, so nothing is cut."""
    from rich.console import Console  # noqa: PLC0415 - rich only for human output

    tty = sys.stdout.isatty()
    # piped: as wide as the content, so no cell is wrapped or cut for whoever reads it
    width = shutil.get_terminal_size((120, 24)).columns if tty else 10_000
    return Console(width=width, highlight=False, soft_wrap=not tty)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> None:
    """Print an aligned table; cells are plain text (``[bold]`` in a name stays text)."""
    from rich import box  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415
    from rich.text import Text  # noqa: PLC0415

    grid = Table(title=None if title is None else Text(printable(title)), box=box.SIMPLE_HEAD,
                 title_justify="left")
    for header in headers:
        grid.add_column(Text(printable(header)))
    for row in rows:
        grid.add_row(*(Text("" if cell is None else printable(str(cell))) for cell in row))
    console().print(grid)


def _gate_lines(gate: dict[str, Any] | None, depth: int = 0) -> list[str]:
    if gate is None:
        return []
    lines = ["  " * depth + "- " + gate["says"]]
    for child in gate.get("criteria", []):
        lines.extend(_gate_lines(child, depth + 1))
    return lines


def _duration(value: str, lang: str) -> str:
    from bompao.definitions.durations import parse_duration  # noqa: PLC0415
    from bompao.definitions.texts import duration_text  # noqa: PLC0415

    return duration_text(parse_duration(value), lang)


def follow_up_when(follow_up: dict[str, Any], lang: str = "en") -> str:
    """When a follow-up of ``journeys show`` runs (``after 2 weeks, then every month``),
    in ``lang``."""
    from bompao.definitions.messages import text  # noqa: PLC0415

    after, every, at = follow_up.get("after"), follow_up.get("every"), follow_up.get("at")
    parts = []
    if after and every:
        parts.append(text("show.after_every", lang, duration=_duration(after, lang),
                          every=_duration(every, lang)))
    elif after:
        parts.append(text("show.after", lang, duration=_duration(after, lang)))
    elif every:
        parts.append(text("show.every", lang, every=_duration(every, lang)))
    if at:
        parts.append(text("show.at", lang, at=at))
    return " ".join(parts)


def calendar_text(calendar: str | dict[str, Any] | None, lang: str = "en") -> str:
    """A journey's calendar for people: ``TH``, or the long form summed up."""
    from bompao.definitions.messages import text  # noqa: PLC0415

    if calendar is None:
        return text("show.no_calendar", lang)
    if isinstance(calendar, str):
        return calendar
    weekend = calendar.get("weekend")
    added, removed = len(calendar.get("add") or {}), len(calendar.get("remove") or [])
    return text("show.calendar_long", lang, country=calendar["country"],
                categories=", ".join(calendar.get("categories") or []),
                weekend=text("show.calendar_weekend", lang, days=", ".join(weekend))
                if weekend else "",
                added=text("show.calendar_added", lang, count=added) if added else "",
                removed=text("show.calendar_removed", lang, count=removed) if removed else "")


def show_journey(data: dict[str, Any], lang: str = "en") -> None:
    """Print ``bompao journeys show`` (the mapping of ``describe``) in ``lang``."""
    from bompao.definitions.messages import text  # noqa: PLC0415

    def say(key: str, **params: Any) -> str:
        return text(key, lang, **params)

    out = console()
    out.print(printable(f"{data['title']} ({data['journey']}@{data['version']})"),
              markup=False, style="bold")
    details = [say("show.timezone", value=data["timezone"]),
               say("show.calendar", value=calendar_text(data["calendar"], lang))]
    if data.get("partner"):
        details.append(say("show.partner", value=data["partner"]))
    if data.get("extends"):
        details.append(say("show.extends", value=data["extends"]))
    out.print(printable(", ".join(details)), markup=False)
    out.print(printable(say("show.roles", roles=", ".join(data["roles"]))), markup=False)
    table([say("show.stages"), "", "", say("show.follow_ups")], [
        [s["stage"], s["title"], say("show.initial") if s["initial"] else say("show.final")
         if s["final"] else "",
         "; ".join(f"{follow_up_when(f, lang)}: {f['action']}" for f in s["follow_ups"])]
        for s in data["stages"]])
    table([say("show.transitions"), "", "", say("show.role_column"), say("show.gate")], [
        [t["trigger"], ", ".join(t["from"]), t["to"],
         ", ".join(t["roles"]) if t["roles"] is not None else say("show.anyone"),
         "\n".join(_gate_lines(t["gate"]))]
        for t in data["transitions"]])
    table([say("show.fields"), "", ""], [[name, f["type"], f["title"]]
                                         for name, f in data["fields"].items()])
    table([say("show.evidence"), ""], [[name, title]
                                       for name, title in data["evidence"].items()])


_COLUMNS: dict[str, list[tuple[str, str, str]]] = {
    "funnel": [("stage", "stage", "ขั้น"), ("reached", "ever reached", "เคยถึง"),
               ("now", "there now", "อยู่ตอนนี้"), ("conversion", "to next", "ผ่านไปขั้นถัดไป"),
               ("exit", "exit", "ทางออก")],
    "stages": [("stage", "stage", "ขั้น"), ("visits", "visits", "จำนวนครั้ง"),
               ("median_days", "median days", "มัธยฐาน (วัน)"),
               ("p90_days", "p90 days", "เปอร์เซ็นไทล์ 90 (วัน)"),
               ("max_days", "max days", "สูงสุด (วัน)"),
               ("expected_days", "expected days", "ที่คาดไว้ (วัน)")],
    "at-risk": [("id", "id", "รหัส"), ("name", "name", "ชื่อ"), ("stage", "stage", "ขั้น"),
                ("reasons", "why", "เหตุผล"), ("days_in_stage", "days in stage", "วันในขั้น"),
                ("assigned", "assigned", "ผู้รับผิดชอบ")],
    "coaches": [("person", "person", "ผู้รับผิดชอบ"), ("role", "role", "บทบาท"),
                ("projects", "projects", "โครงการ"), ("due_follow_ups", "due follow-ups",
                                                      "งานติดตามที่ถึงกำหนด")],
}
_TITLES = {"funnel": ("Funnel", "ภาพรวมการผ่านขั้น"),
           "stages": ("Time in stage", "เวลาในแต่ละขั้น"),
           "at-risk": ("At risk", "โครงการที่มีความเสี่ยง"),
           "coaches": ("Coach workload", "ภาระงานของโค้ช")}


def report_cells(name: str, rows: Sequence[dict[str, Any]], lang: str = "en",
                 labels: dict[str, str] | None = None) -> tuple[list[str], list[list[Any]]]:
    """Headings and plain cells of a report, for tables and CSV."""
    columns = _COLUMNS[name]
    if name == "coaches" and any("hours" in row for row in rows):  # journeys with coaching
        columns = [*columns, ("hours", "hours by month", "ชั่วโมงรายเดือน")]
    headers = [th if lang == "th" else en for _, en, th in columns]
    labels = labels or {}
    cells: list[list[Any]] = []
    for row in rows:
        line = []
        for key, _, _ in columns:
            value = row.get(key)
            if key == "stage":
                value = labels.get(str(value), value)
            elif key == "conversion" and value is not None:
                value = f"{value:.0%}"
            elif key == "exit":
                value = "✓" if value else ""
            elif key == "reasons":
                value = ", ".join(value or [])
            elif key == "hours":
                value = "; ".join(f"{m}: {h:g}" for m, h in (value or {}).items())
            elif key == "assigned":
                value = "; ".join(f"{r}: {', '.join(p)}" for r, p in (value or {}).items())
            line.append(value)
        cells.append(line)
    return headers, cells


def report_table(name: str, rows: Sequence[dict[str, Any]], lang: str = "en",
                 labels: dict[str, str] | None = None) -> None:
    """Print a report as an aligned table."""
    headers, cells = report_cells(name, rows, lang, labels)
    en, th = _TITLES[name]
    table(headers, cells, title=th if lang == "th" else en)
