"""Alumni check-ins (issue 13, item 5): a final stage's ``check_ins`` plan follow-ups
to the owner, and ``report alumni`` gives survival by cohort at each check-in, checked
against a brute-force oracle over generated hand-offs and answers."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from dateutil.relativedelta import relativedelta

from bompao.definitions import compile_journey
from bompao.engine import Engine
from bompao.engine.alumni import alumni_report
from bompao.engine.config import Config
from bompao.engine.dispatch import Dispatcher
from bompao.errors import DefinitionError

BANGKOK = ZoneInfo("Asia/Bangkok")
JOURNEY = """\
journey: alumni
version: 1
roles: [participant, coach]
indicators:
  people_reached: {type: int, during: [run]}
  still_operating:
    title: {en: Still operating, th: ยังดำเนินงานอยู่}
    type: bool
    every: yearly
    during: [handoff]
    owner: participant
stages:
  run: {initial: true}
  handoff:
    final: true
    check_ins: [6 months, 12 months, 24 months]
transitions:
  - {trigger: hand_off, from: run, to: handoff}
"""
CHECK_INS = [6, 12, 24]
START = datetime(2025, 1, 15, 3, tzinfo=UTC)


def oracle_due(handed: datetime, months: int) -> datetime:
    """Calendar months after the hand-off, in Bangkok (dateutil, not bompao's code)."""
    return (handed.astimezone(BANGKOK) + relativedelta(months=months)).astimezone(UTC)


def test_check_ins_are_follow_ups_to_the_owner(engine: Engine, clock: Any) -> None:
    clock.now = START
    engine.publish(JOURNEY)
    project = engine.create_project("alumni", "Alum")
    engine.advance(project.id, "hand_off")
    planned = sorted((r["spec"], datetime.fromisoformat(str(r["due_at"])))
                     for r in engine.list_follow_ups(project=project.id))
    assert planned == sorted((f"check_in:{m}_months", oracle_due(START, m))
                             for m in CHECK_INS)
    clock.now = oracle_due(START, 6)
    result = Dispatcher(engine, Config(daemon_name="alumni")).run_due()
    assert (result.claimed, result.done) == (1, 1)
    sent = [e.payload for e in engine.history(project.id) if e.kind == "follow_up"]
    assert [(p["spec"], p["action"]) for p in sent] == [("check_in:6_months", "notify")]


def test_survival_by_cohort_equals_a_brute_force_count(engine: Engine, clock: Any) -> None:
    rng = random.Random(13)
    clock.now = START
    engine.publish(JOURNEY)
    plans = []
    for index in range(24):
        cohort = rng.choice(["2025A", "2025B", None])
        project = engine.create_project("alumni", f"P{index}", cohort=cohort)
        plans.append((project.id, cohort, timedelta(days=rng.randint(0, 400))))
    # hand-offs and answers in time order, through the engine
    actions: list[tuple[datetime, int, Any]] = []
    for pid, _, offset in plans:
        handed = START + offset
        actions.append((handed, pid, "hand_off"))
        actions.extend((handed + timedelta(days=rng.randint(1, 800)), pid, rng.random() < 0.7)
                       for _ in range(rng.randint(0, 4)))
    now = START + timedelta(days=900)
    handed_at: dict[int, datetime] = {}
    answers: dict[int, list[tuple[datetime, bool]]] = {}
    for when, pid, what in sorted(actions, key=lambda a: (a[0], a[1])):
        if when > now:
            continue
        clock.now = when
        if what == "hand_off":
            engine.advance(pid, "hand_off")
            handed_at[pid] = when
        else:
            engine.measure(pid, "still_operating", None, what)
            answers.setdefault(pid, []).append((when, what))
    clock.now = now
    # the oracle: per cohort and check-in, count by brute force over what was done
    expected: dict[str, dict[str, dict[str, Any]]] = {}
    for pid, cohort, _ in plans:
        if pid not in handed_at:
            continue
        dues = [oracle_due(handed_at[pid], m) for m in CHECK_INS]
        cells = expected.setdefault(cohort or "", {
            f"{m} months": {"due": 0, "reported": 0, "operating": 0} for m in CHECK_INS})
        for i, months in enumerate(CHECK_INS):
            if dues[i] > now:
                continue
            until = dues[i + 1] if i + 1 < len(dues) else None
            said = [v for at, v in answers.get(pid, [])
                    if at >= dues[i] and (until is None or at < until)]
            cell = cells[f"{months} months"]
            cell["due"] += 1
            cell["reported"] += bool(said)
            cell["operating"] += bool(said) and said[-1]
    found = alumni_report(engine, journey="alumni", now=now)
    assert found["check_ins"] == ["6 months", "12 months", "24 months"]
    got = {c: {k: {n: v[n] for n in ("due", "reported", "operating")} for k, v in cells.items()}
           for c, cells in found["cohorts"].items()}
    assert got == expected
    assert sum(cell["due"] for cells in expected.values() for cell in cells.values()) > 10
    for cells in found["cohorts"].values():
        for cell in cells.values():
            assert cell["share"] == (cell["operating"] / cell["reported"]
                                     if cell["reported"] else None)
    # one cohort
    one = alumni_report(engine, journey="alumni", cohort="2025A", now=now)
    assert list(one["cohorts"]) == (["2025A"] if "2025A" in expected else [])


def test_report_alumni_cli(engine: Engine, clock: Any, store_url: str, cli: Any) -> None:
    clock.now = datetime(2024, 1, 10, 3, tzinfo=UTC)
    engine.publish(JOURNEY)
    project = engine.create_project("alumni", "บ้านดิน", cohort="2024")
    engine.advance(project.id, "hand_off")
    clock.now = datetime(2024, 7, 20, 3, tzinfo=UTC)
    engine.measure(project.id, "still_operating", None, True)
    code, out, err = cli("--db", store_url, "--json", "report", "alumni", "--journey", "alumni")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["cohorts"]["2024"]["6 months"] == {"due": 1, "reported": 1, "operating": 1,
                                                   "share": 1.0}
    assert data["cohorts"]["2024"]["12 months"]["reported"] == 0
    code, table, _ = cli("--db", store_url, "--lang", "th", "report", "alumni", "--journey",
                         "alumni")
    assert code == 0
    assert "ยังดำเนินงาน" in table
    assert "100%" in table
    assert "6 เดือน" in table
    assert "6 months" not in table
    code, _, err = cli("--db", store_url, "report", "alumni", "--journey", "alumni",
                       "--format", "xlsx")
    assert code == 2
    assert err == "error: --format xlsx writes a file: give -o FILE.xlsx\n"


class _Cells(HTMLParser):
    """The cells of the page's ``table#alumni`` and the text inside its ``<svg>``."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.headers: list[str] = []
        self.svg_text: list[str] = []
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in.append(tag)
        if tag == "tr":
            self.rows.append([])

    def handle_endtag(self, tag: str) -> None:
        while self._in and self._in.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        if "svg" in self._in:
            self.svg_text.append(data)
        elif self._in and self._in[-1] == "th":
            self.headers.append(data)
        elif self._in and self._in[-1] == "td":
            self.rows[-1].append(data)


def _alumni_data(engine: Engine, clock: Any) -> None:
    """Two cohorts handed off 13 months ago; answers at the 6-month check-in (one says
    no) and one at 12 months."""
    now = datetime.now(UTC)
    clock.now = now - relativedelta(months=13)
    engine.publish(JOURNEY)
    made = [engine.create_project("alumni", name, cohort=cohort)
            for name, cohort in (("บ้านดิน", "รุ่น 1"), ("Rice Bank", "รุ่น 1"),
                                 ("Coral", "2025B"))]
    for project in made:
        engine.advance(project.id, "hand_off")
    clock.now = now - relativedelta(months=6, days=-3)
    for project, answer in zip(made, (True, False, True), strict=True):
        engine.measure(project.id, "still_operating", None, answer)
    clock.now = now - timedelta(days=10)
    engine.measure(made[0].id, "still_operating", None, True)
    clock.now = now


def test_report_alumni_in_xlsx_and_html(engine: Engine, clock: Any, store_url: str,
                                        cli: Any, tmp_path: Path) -> None:
    """Issue 13: xlsx read back with openpyxl (Thai text, numbers as numbers) and the
    HTML page parsed: the same cells as the JSON, check-ins in Thai, a chart."""
    _alumni_data(engine, clock)
    code, out, err = cli("--db", store_url, "--json", "report", "alumni", "--journey", "alumni")
    assert (code, err) == (0, ""), err
    data = json.loads(out)
    assert data["cohorts"]["รุ่น 1"]["6 months"] == {"due": 2, "reported": 2, "operating": 1,
                                                   "share": 0.5}
    assert data["cohorts"]["รุ่น 1"]["12 months"] == {"due": 2, "reported": 1,
                                                    "operating": 1, "share": 1.0}
    assert data["cohorts"]["2025B"]["24 months"] == {"due": 0, "reported": 0,
                                                   "operating": 0, "share": None}
    expected = [[cohort, label, c["due"], c["reported"], c["operating"], c["share"]]
                for cohort, cells in data["cohorts"].items() for label, c in cells.items()]
    thai_label = {"6 months": "6 เดือน", "12 months": "12 เดือน", "24 months": "24 เดือน"}

    book_path = tmp_path / "alumni.xlsx"
    code, _, err = cli("--db", store_url, "--lang", "th", "report", "alumni", "--journey",
                       "alumni", "--format", "xlsx", "-o", str(book_path))
    assert code == 0, err
    book = openpyxl.load_workbook(book_path)
    assert book.sheetnames == ["การอยู่รอดตามรุ่น"]
    rows = list(book.active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[0] == ("รุ่น", "การติดตาม", "ถึงกำหนด", "รายงานแล้ว", "ยังดำเนินงาน", "สัดส่วน")
    assert [list(r) for r in rows[1:]] == [
        [c, thai_label[label], *rest] for c, label, *rest in expected]
    numbers = [v for r in rows[1:] for v in r[2:] if v is not None]
    assert numbers
    assert all(isinstance(v, int | float) and not isinstance(v, bool)
                           for v in numbers)

    page_path = tmp_path / "alumni.html"
    code, _, err = cli("--db", store_url, "--lang", "th", "report", "alumni", "--journey",
                       "alumni", "--format", "html", "-o", str(page_path))
    assert code == 0, err
    page = page_path.read_text(encoding="utf-8")
    assert '<html lang="th">' in page
    assert "<svg" in page
    cells = _Cells()
    cells.feed(page)
    assert cells.headers == ["รุ่น", "การติดตาม", "ถึงกำหนด", "รายงานแล้ว", "ยังดำเนินงาน",
                             "สัดส่วน"]
    body = [r for r in cells.rows if r]
    assert body == [[c, thai_label[label], str(d), str(rep), str(op),
                     "-" if share is None else f"{round(share * 100)}%"]
                    for c, label, d, rep, op, share in expected]
    drawn = " ".join(cells.svg_text)
    assert all(label in drawn for label in thai_label.values())  # the ticks, in Thai
    assert "รุ่น 1" in drawn
    assert "2025B" in drawn
    english = cli("--db", store_url, "report", "alumni", "--journey", "alumni", "--format",
                  "html", "-o", str(page_path))
    assert english[0] == 0
    assert "6 months" in page_path.read_text(encoding="utf-8")


def test_check_ins_only_on_a_final_stage() -> None:
    text = JOURNEY.replace("    final: true\n    check_ins", "    check_ins") + (
        "  - {trigger: reopen, from: handoff, to: run}\n")
    with pytest.raises(DefinitionError) as caught:
        compile_journey(text, file="a.yaml")
    assert [str(d) for d in caught.value.diagnostics] == [
        ("a.yaml:15:5: error: stage 'handoff' is not final: 'check_ins' follow projects after "
         "the handoff; put them on a final stage")]


def test_check_ins_need_a_survival_indicator() -> None:
    text = JOURNEY.replace("    type: bool\n    every: yearly\n", "    type: int\n")
    with pytest.raises(DefinitionError) as caught:
        compile_journey(text, file="a.yaml")
    assert "need a bool indicator due in it" in str(caught.value.diagnostics[0])
    twice = JOURNEY.replace("[6 months, 12 months, 24 months]", "[6 months, 6 months]")
    with pytest.raises(DefinitionError) as caught:
        compile_journey(twice, file="a.yaml")
    assert str(caught.value.diagnostics[0]) == (
        "a.yaml:16:27: error: check-in '6 months' is given twice; give each duration once")
