"""Every family of CLI message in English and Thai, through the real ``bompao`` entry point.

Each test runs :func:`bompao.cli.main` (the console script's own function: click,
then bompao's error handling and exit codes) on a real SQLite file, once with
``--lang en`` and once with ``--lang th``, and compares the whole line with text
written out here by hand. The catalogue itself is checked too: both languages for
every key, the same placeholders, and Thai prose with no English left in it.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import string
from collections.abc import Callable
from pathlib import Path

import pytest

from bompao.catalogue import CATALOGUE, FAMILIES
from bompao.cli import main

REPO = Path(__file__).resolve().parents[1]
DEEP = REPO / "tests" / "fixtures" / "deep"
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with the bundled journeys published (made once, copied per test)."""
    path = tmp_path_factory.mktemp("template") / "b.db"
    main(["--db", f"sqlite:///{path}", "--json", "init"])
    return path


@pytest.fixture
def run(template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    """``run(*args)`` -> (exit code, stdout, stderr) of ``bompao --db FRESH_COPY ARGS``."""
    database = tmp_path / "b.db"
    for part in template.parent.glob("b.db*"):  # with its WAL, if not checkpointed
        shutil.copy(part, tmp_path / part.name)

    def invoke(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            main(["--db", f"sqlite:///{database}", *args])
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def ok(run: Run, *args: str) -> str:
    code, out, err = run(*args)
    assert code == 0, err
    return out


def refused(run: Run, code: int, *args: str) -> str:
    """The one ``error:`` line of a command that must fail with exit ``code``."""
    got, out, err = run(*args)
    assert got == code, (out, err)
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    return lines[0].removeprefix("error: ")


def project(run: Run, name: str = "Rice") -> None:
    ok(run, "project", "create", "--journey", "social-incubator", "--name", name)


# -- the catalogue ----------------------------------------------------------------------

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`")
# code, not prose: options, metavars and codes in capitals, names with _ . = @ / \,
# function calls, {{literal braces}}
_CODE = re.compile(r"--?[\w-]+|\b[A-Z][A-Z0-9]+\b|\S*[_.=@/\\]\S*|\w+\(\)")
_WORD = re.compile(r"[A-Za-z]{2,}")
# the program's name and the databases' (product names), technical terms Thai writing
# keeps (YAML's own words) and the journey format's keys and values that a Thai message
# names as the reader must type them
KEPT = {"bompao", "PostgreSQL", "SQLite", "alias", "anchor", "mapping", "from", "title", "th",
        "evidence", "approvals", "now", "table", "csv", "json", "html", "true", "false"}


def english_words(thai: str) -> list[str]:
    """The English words left in a Thai template's prose (placeholders, quoted text and
    code taken out first)."""
    literal = "".join(text for text, *_ in string.Formatter().parse(thai))
    literal = _CODE.sub(" ", _QUOTED.sub(" ", literal.replace("{", "").replace("}", "")))
    return [w for w in _WORD.findall(literal) if w not in KEPT]


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_key_has_english_and_thai() -> None:
    assert len(CATALOGUE) == sum(len(entries) for entries in FAMILIES.values())
    for key, templates in CATALOGUE.items():
        assert set(templates) == {"en", "th"}, key
        assert templates["en"].strip(), key
        assert templates["th"].strip(), key


def test_placeholders_agree_between_english_and_thai() -> None:
    """The same parameters in both, except a plural Thai does not have."""
    plural_only = {"unknown": {"whats"}}
    for key, templates in CATALOGUE.items():
        assert placeholders(templates["en"]) - plural_only.get(key, set()) == \
            placeholders(templates["th"]), key


def test_thai_templates_leave_no_english_prose() -> None:
    left = {key: words for key, t in CATALOGUE.items() if (words := english_words(t["th"]))}
    assert left == {}


def test_the_english_word_finder_finds_english() -> None:
    """The check above would catch an untranslated template."""
    assert english_words("สร้าง project {id} ในขั้น {stage!r} แล้ว") == ["project"]
    assert english_words("ให้ใช้ --by NAME กับ 'by=actor.name'") == []


def test_a_key_defined_in_two_families_is_refused() -> None:
    from bompao import catalogue  # noqa: PLC0415

    catalogue.FAMILIES["twice"] = {"done.wrote": {"en": "x", "th": "x"}}
    try:
        with pytest.raises(ValueError, match=r"'twice' defined twice: done\.wrote"):
            catalogue._merged()
    finally:
        del catalogue.FAMILIES["twice"]


# -- confirmations ------------------------------------------------------------------------

def test_confirmations(run: Run) -> None:
    assert ok(run, "--lang", "en", "project", "create", "--journey", "social-incubator",
              "--name", "Rice") == "created project 1 in stage idea\n"
    assert ok(run, "--lang", "th", "project", "create", "--journey", "social-incubator",
              "--name", "Mango") == "สร้างโครงการ 2 ในขั้น idea แล้ว\n"
    assert ok(run, "--lang", "en", "project", "evidence", "1", "stakeholder_map", "--url",
              "https://x.example") == "attached stakeholder_map to project 1\n"
    assert ok(run, "--lang", "th", "project", "evidence", "2", "stakeholder_map", "--url",
              "https://x.example") == "แนบ stakeholder_map ให้โครงการ 2 แล้ว\n"
    assert ok(run, "--lang", "en", "project", "approve", "1", "--role", "coach", "--by",
              "Ann") == "Ann approved project 1 as coach (1 in this stage)\n"
    assert ok(run, "--lang", "th", "project", "approve", "2", "--role", "coach", "--by",
              "Ann") == "Ann อนุมัติโครงการ 2 ในบทบาท coach แล้ว (ในขั้นนี้มีผู้อนุมัติ 1 คน)\n"
    assert ok(run, "--lang", "en", "project", "assign", "1", "--role", "coach", "--to",
              "Ann") == "assigned Ann as coach of project 1\n"
    assert ok(run, "--lang", "th", "project", "assign", "2", "--role", "coach", "--to",
              "Ann") == "มอบหมายให้ Ann เป็น coach ของโครงการ 2 แล้ว\n"
    statement = "problem_statement=Farmers lose a third of their harvest"
    ok(run, "project", "set", "1", statement)
    ok(run, "project", "set", "2", statement)
    assert ok(run, "--lang", "en", "project", "advance", "1", "validate") == \
        "project 1 is now in stage validation\n"
    assert ok(run, "--lang", "th", "project", "advance", "2", "validate") == \
        "โครงการ 2 อยู่ในขั้น validation แล้ว\n"


def test_written_files_are_confirmed(run: Run, tmp_path: Path) -> None:
    target = tmp_path / "d.mmd"
    assert ok(run, "--lang", "en", "diagram", "social-incubator", "-o", str(target)) == \
        f"wrote {target}\n"
    assert ok(run, "--lang", "th", "diagram", "social-incubator", "-o", str(target)) == \
        f"บันทึกไฟล์ {target} แล้ว\n"
    project(run)
    code, out, err = run("--lang", "th", "project", "export", "-o", str(tmp_path / "p.csv"))
    assert (code, out, err) == (0, "", f"ส่งออก 1 โครงการไปที่ {tmp_path / 'p.csv'} แล้ว\n")
    assert ok(run, "--lang", "th", "project", "import", str(tmp_path / "p.csv"),
              "--dry-run") == "จะนำเข้า 1 โครงการ (ยังไม่ได้บันทึก)\n"
    assert ok(run, "--lang", "en", "project", "import", str(tmp_path / "p.csv"),
              "--dry-run") == "would import 1 project(s)\n"


def test_validate_ok(run: Run) -> None:
    path = str(REPO / "journeys" / "social-incubator.yaml")
    assert ok(run, "--lang", "en", "validate", path) == \
        f"ok: {path} (social-incubator@3: 8 stages, 9 transitions)\n"
    assert ok(run, "--lang", "th", "validate", path) == \
        f"ผ่าน: {path} (social-incubator@3: 8 ขั้น, การเปลี่ยนขั้น 9 แบบ)\n"


# -- refusals ----------------------------------------------------------------------------

def test_not_found(run: Run) -> None:
    assert refused(run, 2, "--lang", "en", "project", "show", "9") == "no project with id 9"
    assert refused(run, 2, "--lang", "th", "project", "show", "9") == "ไม่มีโครงการรหัส 9"
    assert refused(run, 2, "--lang", "th", "journeys", "show", "nosuch") == (
        "ไม่รู้จักเส้นทาง 'nosuch' เส้นทางที่มี: incubator-builder, "
        "local-government-incubator, social-incubator, university-incubator")


def test_a_value_that_does_not_fit_its_field(run: Run) -> None:
    project(run)
    cases = [
        ("interviews_done=many", "field 'interviews_done': expected int, got 'many'",
         "ฟิลด์ 'interviews_done': ต้องเป็น int แต่ได้ 'many'"),
        ("interviews_done=99999999999999999999",
         "field 'interviews_done': expected a 64-bit integer, got 99999999999999999999",
         "ฟิลด์ 'interviews_done': ต้องเป็นจำนวนเต็ม 64 บิต แต่ได้ 99999999999999999999"),
        ("demo_day=soon", "field 'demo_day': expected date, got 'soon'",
         "ฟิลด์ 'demo_day': ต้องเป็น date แต่ได้ 'soon'"),
    ]
    for assignment, english, thai in cases:
        assert refused(run, 2, "--lang", "en", "project", "set", "1", assignment) == english
        assert refused(run, 2, "--lang", "th", "project", "set", "1", assignment) == thai


def test_unknown_trigger_and_trigger_not_offered(run: Run) -> None:
    project(run)
    assert refused(run, 2, "--lang", "en", "project", "advance", "1", "nope") == (
        "unknown trigger 'nope' in journey social-incubator@3; from stage 'idea' the "
        "triggers are: validate, withdraw, admit, decline")
    assert refused(run, 2, "--lang", "th", "project", "advance", "1", "nope") == (
        "ไม่มีทริกเกอร์ 'nope' ในเส้นทาง social-incubator@3 ทริกเกอร์จากขั้น 'idea' มี: "
        "validate, withdraw, admit, decline")
    assert refused(run, 1, "--lang", "en", "project", "advance", "1", "present") == (
        "trigger 'present' is not available in stage 'idea'; available: validate, withdraw, "
        "admit, decline")
    assert refused(run, 1, "--lang", "th", "project", "advance", "1", "present") == (
        "ขั้น 'idea' ไม่มีทริกเกอร์ 'present' ที่ใช้ได้คือ: validate, withdraw, admit, "
        "decline")


def test_gate_refused_names_the_journeys_own_thai_criteria(run: Run) -> None:
    project(run)
    assert refused(run, 1, "--lang", "en", "project", "advance", "1", "validate") == (
        "project 1 cannot 'validate' from 'idea' to 'validation': missing A problem "
        "statement of at least 20 characters; A stakeholder map is attached; The coach "
        "approves")
    assert refused(run, 1, "--lang", "th", "project", "advance", "1", "validate") == (
        "โครงการ 1 ใช้ 'validate' จาก 'idea' ไป 'validation' ไม่ได้: ยังขาด "
        "เขียนปัญหาที่ต้องการแก้อย่างน้อย 20 ตัวอักษร; แนบแผนที่ผู้มีส่วนได้ส่วนเสียแล้ว; "
        "โค้ชอนุมัติ")


def test_gate_refused_json_keeps_english_keys_and_carries_the_message(run: Run) -> None:
    project(run)
    code, out, _ = run("--lang", "th", "--json", "project", "advance", "1", "validate")
    data = json.loads(out)
    assert code == 1
    assert data["passable"] is False
    assert data["from"] == "idea"
    assert data["message"].startswith("โครงการ 1 ใช้ 'validate' จาก 'idea'")
    assert data["error"].startswith("project 1 cannot 'validate' from 'idea'")


def test_permission_denied(run: Run) -> None:
    project(run)
    args = ("project", "advance", "1", "withdraw", "--by", "Ann", "--role", "coach")
    assert refused(run, 1, "--lang", "en", *args) == (
        "trigger 'withdraw' needs one of the roles program_manager; Ann acts as coach")
    assert refused(run, 1, "--lang", "th", *args) == (
        "ทริกเกอร์ 'withdraw' ต้องใช้บทบาทใดบทบาทหนึ่ง: program_manager แต่ Ann "
        "ทำในบทบาท: coach")
    assert refused(run, 1, "--lang", "th", "--partner", "p1", "project", "list",
                   "--partner", "p2") == (
        "project list --partner 'p2' อยู่นอกขอบเขตภาคีของการใช้งานนี้ (bompao --partner p1)")


def test_conflict(run: Run) -> None:
    project(run)
    approve = ("project", "approve", "1", "--role", "coach", "--by", "Ann")
    ok(run, *approve)
    assert refused(run, 1, "--lang", "en", *approve) == (
        "'Ann' has already approved project 1 as 'coach' in stage 'idea'")
    assert refused(run, 1, "--lang", "th", *approve) == (
        "'Ann' อนุมัติโครงการ 1 ในบทบาท 'coach' ในขั้น 'idea' ไปแล้ว")


def test_usage_errors(run: Run) -> None:
    assert refused(run, 2, "--lang", "en", "--partner", "p1", "init") == (
        "'bompao init' acts for every partner and cannot run with --partner p1; run it "
        "without --partner (or BOMPAO_PARTNER)")
    assert refused(run, 2, "--lang", "th", "--partner", "p1", "init") == (
        "'bompao init' ทำงานกับทุกภาคี จึงใช้กับ --partner p1 ไม่ได้ ให้เรียกโดยไม่มี "
        "--partner (หรือ BOMPAO_PARTNER)")
    assert refused(run, 2, "--lang", "th", "scheduler", "run", "--now", "2026-01-01") == \
        "--now ต้องใช้คู่กับ --once"
    assert refused(run, 2, "--lang", "th", "report", "funnel", "-o", "x.txt") == (
        "--format table แสดงผลบนเทอร์มินัลเท่านั้น ถ้าใช้ -o ให้เลือก csv, json หรือ html")


def test_clicks_own_usage_errors_in_both_languages(run: Run) -> None:
    """click's messages (written through gettext) come from the catalogue in Thai and stay
    click's own in English; the words click puts in them (``integer``) are Thai too."""
    cases = [
        (("project", "advance"), "Missing argument 'ID'. (see 'bompao project advance --help')",
         "ขาดอาร์กิวเมนต์ 'ID'. (ดู 'bompao project advance --help')"),
        (("project", "list", "--bogus"),
         "No such option '--bogus'. (see 'bompao project list --help')",
         "ไม่มีตัวเลือก '--bogus' (ดู 'bompao project list --help')"),
        (("projct",), "No such command 'projct'. Did you mean 'project'? (see 'bompao --help')",
         "ไม่มีคำสั่ง 'projct' หมายถึง 'project' หรือไม่? (ดู 'bompao --help')"),
        (("project", "show", "abc"),
         ("Invalid value for 'ID': 'abc' is not a valid integer. "
         "(see 'bompao project show --help')"),
         ("ค่าของ 'ID' ไม่ถูกต้อง: 'abc' ไม่ใช่จำนวนเต็มที่ถูกต้อง "
         "(ดู 'bompao project show --help')")),
        (("project", "show", "1", "2", "3"),
         "Got unexpected extra arguments (2 3) (see 'bompao project show --help')",
         "มีอาร์กิวเมนต์เกินมา (2 3) (ดู 'bompao project show --help')"),
        (("project", "create", "--journey"), "Option '--journey' requires an argument.",
         "ตัวเลือก '--journey' ต้องมีค่าตามหลัง"),
    ]
    for args, english, thai in cases:
        assert refused(run, 2, "--lang", "en", *args) == english
        assert refused(run, 2, "--lang", "th", *args) == thai
    # the help's own headings follow the language; click is English again afterwards
    assert ok(run, "--lang", "th", "project", "--help").startswith("วิธีใช้: bompao project")
    assert ok(run, "--lang", "en", "project", "--help").startswith("Usage: bompao project")


def test_every_usage_template_is_a_click_message_id() -> None:
    """A catalogue entry that matches no message click has would never be used."""
    import ast  # noqa: PLC0415

    import click  # noqa: PLC0415

    from bompao.catalogue.usage import ENTRIES  # noqa: PLC0415

    ids: set[str] = set()
    for source in Path(click.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                    node.func.id in ("_", "ngettext"):
                ids.update(arg.value for arg in node.args
                           if isinstance(arg, ast.Constant) and isinstance(arg.value, str))
    words = {entry["en"] for key, entry in ENTRIES.items() if key.startswith("click.word.")}
    assert {entry["en"] for entry in ENTRIES.values()} - ids - words == set()


BROKEN_SCHEMA = """\
journey: broken
version: 0
stages:
  start: {initial: true, expected_duration: 3 fortnights, titel: Start}
  done: {final: yes}
roles: coach
transitions:
  - {trigger: finish, from: start, to: done, gate: {all: [{}]}}
  - {trigger: again, from: done}
"""


def test_schema_problems_in_both_languages(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN_SCHEMA, encoding="utf-8")
    _, _, english = run("--lang", "en", "validate", str(path))
    _, _, thai = run("--lang", "th", "validate", str(path))
    where = f"{path}:"
    english_lines = [line.removeprefix(where) for line in english.splitlines()]
    thai_lines = [line.removeprefix(where) for line in thai.splitlines()]
    assert english_lines == [
        "2:10: error: version: expected greater than or equal to 1, got 0",
        ("4:45: error: stages.start.expected_duration: bad duration '3 fortnights': expected "
        "N day(s), week(s), month(s), year(s) or business day(s), e.g. '14 days'"),
        ("4:59: error: unknown key 'titel' in stages.start (did you mean 'title'?); allowed: "
        "after, check_ins, description, expected_duration, final, follow_ups, initial, title"),
        "5:17: error: stages.done.final: expected a valid boolean, got 'yes'",
        "6:8: error: roles: expected a valid list, got 'coach'",
        ("8:59: error: transitions[0].gate.all[0]: a criterion needs exactly one of "
        "all, any, not, expr, evidence, approval, min_time_in_stage; got none"),
        ("9:5: error: transitions[1]: a transition needs 'to' (one destination) or "
        "'branches' (several, tried in order)"),
    ]
    assert thai_lines == [
        "2:10: error: version: ต้องมากกว่าหรือเท่ากับ 1 แต่ได้ 0",
        ("4:45: error: stages.start.expected_duration: ช่วงเวลา '3 fortnights' ไม่ถูกต้อง: "
        "ต้องเป็น 'N days', 'N weeks', 'N months', 'N years' หรือ 'N business days' "
        "(วัน สัปดาห์ เดือน ปี วันทำการ) เช่น '14 days'"),
        ("4:59: error: ไม่รู้จักคีย์ 'titel' ใน stages.start (หมายถึง 'title' หรือไม่?) "
        "คีย์ที่ใช้ได้: after, check_ins, description, expected_duration, final, follow_ups, initial, "
        "title"),
        "5:17: error: stages.done.final: ต้องเป็น true หรือ false แต่ได้ 'yes'",
        "6:8: error: roles: ต้องเป็นรายการ แต่ได้ 'coach'",
        ("8:59: error: transitions[0].gate.all[0]: เกณฑ์หนึ่งข้อต้องมีชนิดเดียวจาก "
        "all, any, not, expr, evidence, approval, min_time_in_stage แต่ได้ ไม่มี"),
        ("9:5: error: transitions[1]: การเปลี่ยนขั้นต้องมี 'to' (ปลายทางเดียว) หรือ "
        "'branches' (หลายทาง ลองตามลำดับ)"),
    ]


def test_audit_summary_in_both_languages(run: Run) -> None:
    project(run)
    english = ok(run, "--lang", "en", "audit").splitlines()
    thai = ok(run, "--lang", "th", "audit").splitlines()
    assert english[:2] == [
        ("checked: projects 1, events 1, transitions 0, overrides 0, follow_ups 1, pending 1, "
        "runs 0, stage_visits 1, journeys 1"), "violations: 0, warnings: 0"]
    assert thai[:2] == [
        ("ตรวจแล้ว: โครงการ 1, เหตุการณ์ 1, การเปลี่ยนขั้น 0, การข้ามเงื่อนไข 0, การติดตาม 1, "
        "รอดำเนินการ 1, การทำงาน 0, การอยู่ในขั้น 1, เส้นทาง 1"), "ผิดกฎ: 0 คำเตือน: 0"]


# -- headings and labels -------------------------------------------------------------------

def cells(out: str) -> list[list[str]]:
    """A rich table's rows as cells (split on runs of two or more spaces)."""
    return [re.split(r"\s{2,}", line.strip()) for line in out.splitlines()
            if line.strip() and not set(line.strip()) <= {"─"}]


def test_list_headings(run: Run) -> None:
    project(run)
    assert cells(ok(run, "--lang", "en", "project", "list"))[0] == \
        ["id", "name", "journey", "stage", "partner", "cohort", "flags"]
    assert cells(ok(run, "--lang", "th", "project", "list"))[0] == \
        ["รหัส", "ชื่อ", "เส้นทาง", "ขั้น", "ภาคี", "รุ่นผู้เข้าร่วม", "ธง"]
    assert cells(ok(run, "--lang", "th", "followups", "list"))[0] == \
        ["รหัส", "โครงการ", "ขั้น", "งานติดตาม", "การทำงาน", "ถึงกำหนด", "สถานะ", "ข้อผิดพลาด"]
    assert cells(ok(run, "--lang", "en", "journeys", "list"))[0] == \
        ["journey", "version", "title", "partner", "extends", "stages"]
    assert cells(ok(run, "--lang", "th", "journeys", "list"))[0] == \
        ["เส้นทาง", "รุ่น", "ชื่อ", "ภาคี", "ต่อยอดจาก", "ขั้น"]


def test_journeys_show(run: Run) -> None:
    english = ok(run, "--lang", "en", "journeys", "show", "social-incubator").splitlines()
    thai = ok(run, "--lang", "th", "journeys", "show", "social-incubator").splitlines()
    assert english[1:3] == ["timezone Asia/Bangkok, calendar TH",
                            "Roles: participant, coach, advisor, program_manager, committee"]
    assert thai[1:3] == ["เขตเวลา Asia/Bangkok, ปฏิทินวันหยุด TH",
                         "บทบาท: participant, coach, advisor, program_manager, committee"]
    rows = cells("\n".join(thai))
    assert ["idea", "ไอเดีย", "ขั้นเริ่มต้น", "หลัง 14 วัน: notify"] in rows
    assert ["stalled", "หยุดชะงัก", "หลัง 1 เดือน แล้วทุก 3 เดือน: notify"] in rows
    assert any(row[:3] == ["handoff", "ส่งต่อ", "ขั้นสุดท้าย"] for row in rows)
    assert ["idea", "Idea", "initial", "after 14 days: notify"] in cells("\n".join(english))
    assert any(row[:2] == ["การเปลี่ยนขั้น", "บทบาท"] for row in rows)


LONG_CALENDAR = """\
journey: holidays
version: 1
calendar:
  country: TH
  categories: [government]
  weekend: [fri, sat]
  add: {2026-06-02: Special holiday}
  remove: [2026-05-01]
stages:
  start: {initial: true, follow_ups: [{after: 3 business days, action: notify, to: [coach],
          message: hi}]}
  done: {final: true}
roles: [coach]
transitions:
  - {trigger: finish, from: start, to: done}
"""


def test_journeys_show_json_gives_a_long_form_calendar_as_json(run: Run, tmp_path: Path
                                                               ) -> None:
    path = tmp_path / "holidays.yaml"
    path.write_text(LONG_CALENDAR, encoding="utf-8")
    data = json.loads(ok(run, "--json", "journeys", "show", str(path)))
    assert data["calendar"] == {"country": "TH", "categories": ["government"],
                                "weekend": ["fri", "sat"],
                                "add": {"2026-06-02": "Special holiday"},
                                "remove": ["2026-05-01"]}
    assert data["stages"][0]["follow_ups"][0]["after"] == "3 business days"
    assert ok(run, "--lang", "en", "journeys", "show", str(path)).splitlines()[1] == (
        "timezone Asia/Bangkok, calendar TH (government; weekend fri, sat; 1 days added; "
        "1 days removed)")
    assert ok(run, "--lang", "th", "journeys", "show", str(path)).splitlines()[1] == (
        "เขตเวลา Asia/Bangkok, ปฏิทินวันหยุด TH (government วันหยุดสุดสัปดาห์ fri, sat "
        "เพิ่ม 1 วัน ตัดออก 1 วัน)")


def test_project_show_and_history(run: Run) -> None:
    project(run)
    ok(run, "project", "evidence", "1", "stakeholder_map", "--note", "drawn")
    english = ok(run, "--lang", "en", "project", "show", "1").splitlines()
    thai = ok(run, "--lang", "th", "project", "show", "1").splitlines()
    assert english[0] == "project 1: Rice"
    assert english[1] == "  journey  social-incubator@3"
    assert re.fullmatch(r"  stage    idea \(since \d{4}-\d\d-\d\d \d\d:\d\d \+07:00\)",
                        english[2])
    assert english[-1] == "  evidence stakeholder_map"
    assert thai[0] == "โครงการ 1: Rice"
    # labels padded to the widest (รุ่นผู้เข้าร่วม: 9 columns; vowels and tone marks above and
    # below take none), so the values line up on a terminal
    assert thai[1] == "  เส้นทาง    social-incubator@3"
    assert re.fullmatch(r"  ขั้น        idea \(ตั้งแต่ \d{4}-\d\d-\d\d \d\d:\d\d \+07:00\)",
                        thai[2])
    assert thai[-1] == "  หลักฐาน    stakeholder_map"
    kinds = [line.split()[4] for line in
             ok(run, "--lang", "th", "project", "history", "1").splitlines()]
    assert kinds == ["สร้าง", "แนบหลักฐาน"]
    kinds = [line.split()[4] for line in
             ok(run, "--lang", "en", "project", "history", "1").splitlines()]
    assert kinds == ["created", "evidence_added"]


def test_project_check(run: Run) -> None:
    """Exit 1: the gate is not passable."""
    project(run)
    assert run("--lang", "en", "project", "check", "1")[:2] == (1, (
        "project 1: validate (idea -> validation) is not passable\n"
        "  [ ] A problem statement of at least 20 characters  (problem_statement=)\n"
        "  [ ] A stakeholder map is attached  (evidence=stakeholder_map, attached=False)\n"
        "  [ ] The coach approves  (role=coach, approvals=0, needed=1)\n"))
    code, out, _ = run("--lang", "th", "project", "check", "1")
    assert code == 1
    assert out.splitlines() == [
        "โครงการ 1: validate (idea -> validation) ยังผ่านไม่ได้",
        "  [ ] เขียนปัญหาที่ต้องการแก้อย่างน้อย 20 ตัวอักษร  (problem_statement=)",
        "  [ ] แนบแผนที่ผู้มีส่วนได้ส่วนเสียแล้ว  (evidence=stakeholder_map, attached=False)",
        "  [ ] โค้ชอนุมัติ  (role=coach, approvals=0, needed=1)",
    ]


# -- scheduler and reports ---------------------------------------------------------------

def test_scheduler(run: Run) -> None:
    once = ("scheduler", "run", "--once", "--now", "2026-01-01T00:00:00")
    assert ok(run, "--lang", "en", *once) == \
        "claimed 0, done 0, failed 0, refused 0, cancelled 0, lost 0\n"
    assert ok(run, "--lang", "th", *once) == \
        "รับงาน 0, สำเร็จ 0, ล้มเหลว 0, ถูกปฏิเสธ 0, ยกเลิก 0, สูญหาย 0\n"
    assert ok(run, "--lang", "th", "scheduler", "status").splitlines() == [
        "เดมอน: ทำงานอยู่ 0",
        "ถึงกำหนดตอนนี้: 0, รายการที่ค้างนานที่สุดถึงกำหนดเมื่อ 0.0 วินาทีก่อน",
        "ล้มเหลว: 0",
    ]
    assert ok(run, "--lang", "en", "scheduler", "status").splitlines() == [
        "daemons: 0 alive", "due now: 0, oldest due 0.0 s ago", "failed: 0"]
    assert refused(run, 2, "--lang", "th", "scheduler", "forget", "ghost") == \
        "ไม่มีเดมอนชื่อ 'ghost' ที่ส่งสัญญาณชีพ เดมอนที่มี: ไม่มี"
    assert refused(run, 2, "--lang", "en", "scheduler", "forget", "ghost") == \
        "no daemon named 'ghost' has a heartbeat; daemons: none"
    assert refused(run, 2, "--lang", "th", "followups", "retry", "7") == \
        "ไม่มีงานติดตามรหัส 7 ดูได้ด้วย 'bompao followups list --status failed'"


def test_report_text(run: Run, tmp_path: Path) -> None:
    project(run)
    target = tmp_path / "r.csv"
    code, out, err = run("--lang", "th", "report", "funnel", "--format", "csv",
                         "-o", str(target))
    assert (code, out, err) == (0, "", f"บันทึกไฟล์ {target} แล้ว\n")
    assert target.read_text(encoding="utf-8").splitlines()[0] == \
        "ขั้น,เคยถึง,อยู่ตอนนี้,ผ่านไปขั้นถัดไป,ทางออก"


# -- validate --deep -----------------------------------------------------------------------

DEEP_THAI = {
    'contradiction.yaml': [
        ("17:13: error: เงื่อนไขของทริกเกอร์ 'impossible' ไม่มีทางผ่านได้: "
         "นิพจน์ 'score > 10 && score < 5' ไม่มีทางเป็นจริง (score เป็น int)"),
        ("24:17: error: เงื่อนไขของทริกเกอร์ 'over_max' ไม่มีทางผ่านได้: นิพจน์ "
         "'grade > 10' ไม่มีทางเป็นจริง (grade เป็น int ต่ำสุด 0 สูงสุด 10)"),
        ("32:18: error: เงื่อนไขของทริกเกอร์ 'ratio_out' ไม่มีทางผ่านได้: "
         "นิพจน์ 'ratio * 2.0 > 2.5' ไม่มีทางเป็นจริง (ratio เป็น float ต่ำสุด "
         "0.0 สูงสุด 1.0)"),
        ("38:17: error: เงื่อนไขของทริกเกอร์ 'finish' ไม่มีทางผ่านได้: นิพจน์ "
         "'score >= 3' ขัดแย้งกับ นิเสธของนิพจน์ 'score > 1' (บรรทัด 39)"),
    ],
    'time.yaml': [
        ("11:31: error: งานติดตาม 'too_late' ไม่มีทางทำงาน: งานติดตาม 'give_up' "
         "(หลัง 3 เดือน เปลี่ยนขั้นด้วย 'stall') จะพาโครงการออกจากขั้น "
         "'running' ก่อนเสมอ"),
        ("12:29: error: งานติดตาม 'review' ไม่มีทางทำงาน: งานติดตาม 'give_up' "
         "(หลัง 3 เดือน เปลี่ยนขั้นด้วย 'stall') จะพาโครงการออกจากขั้น "
         "'running' ก่อนเสมอ"),
        ("22:30: error: เงื่อนไขของทริกเกอร์ 'finish' ไม่มีทางผ่านได้ในขั้น "
         "'running': งานติดตาม 'give_up' (หลัง 3 เดือน เปลี่ยนขั้นด้วย 'stall') "
         "จะพาโครงการออกจากขั้นนี้ก่อนเสมอ ก่อนจะถึง ระยะเวลาขั้นต่ำในขั้น "
         "(min_time_in_stage) 6 เดือน"),
    ],
    'reach.yaml': [
        ("5:1: note: การอนุมัติ: เส้นทางกำหนดบทบาท ไม่ได้กำหนดตัวบุคคล "
         "(ในแต่ละบทบาทมีผู้อนุมัติได้กี่คนก็ได้ "
         "คนละครั้งต่อการเข้าขั้นหนึ่งครั้ง) "
         "จึงรายงานจำนวนการอนุมัติเฉพาะเมื่อเงื่อนไขขัดแย้งกันเอง เช่น ใช้ "
         "'approvals.ROLE' ในนิพจน์หรือใต้ 'not'"),
        ("9:3: error: จากขั้น 'intake' ไม่มีทางไปถึงขั้นสุดท้ายผ่านเงื่อนไขที่ผ่"
         "านได้ เงื่อนไขที่ไม่มีทางผ่านปิดทาง 'shelve' ไป 'archive' "
         "ส่วนทางออกอื่นไปได้แค่ขั้นที่ไปไม่ถึงขั้นสุดท้ายเช่นกัน"),
        ("10:3: error: จากขั้น 'review' ไม่มีทางไปถึงขั้นสุดท้ายผ่านเงื่อนไขที่ผ"
         "่านได้ เงื่อนไขที่ไม่มีทางผ่านปิดทาง 'accept' ไป 'done' "
         "ส่วนทางออกอื่นไปได้แค่ขั้นที่ไปไม่ถึงขั้นสุดท้ายเช่นกัน"),
        ("11:3: error: ไม่มีทางเข้าขั้น 'archive' ได้: "
         "ทุกทางเข้ามีเงื่อนไขที่ไม่มีทางผ่าน: 'shelve' จาก 'intake' (บรรทัด 28)"),
        ("12:3: error: ไม่มีทางเข้าขั้น 'done' ได้: "
         "ทุกทางเข้ามีเงื่อนไขที่ไม่มีทางผ่าน: 'accept' จาก 'review' (บรรทัด 21)"),
        ("22:21: error: เงื่อนไขของทริกเกอร์ 'accept' ไม่มีทางผ่านได้: หลักฐาน "
         "'plan' ขัดแย้งกับ นิเสธของหลักฐาน 'plan' (บรรทัด 23)"),
        ("29:21: error: เงื่อนไขของทริกเกอร์ 'shelve' ไม่มีทางผ่านได้: "
         "การอนุมัติของบทบาท committee 3 คน ขัดแย้งกับ นิพจน์ "
         "'approvals.committee < 2' (บรรทัด 30)"),
    ],
    'subset.yaml': [
        ("18:18: note: ไม่ได้ตรวจ: \"'ok' in tags\" ใช้ 'in' กับฟิลด์ชนิดรายการ "
         "ซึ่งอยู่นอกส่วนที่การตรวจเชิงลึกเข้าใจ (การเปรียบเทียบ เลขคณิต "
         "'size()' '&&' '||' '!' กับฟิลด์ชนิด 'int' 'float' 'bool' 'string' และ "
         "'list')"),
        ("22:18: note: ไม่ได้ตรวจ: 'now > demo_day' ใช้ การประทับเวลา ('now') "
         "ซึ่งอยู่นอกส่วนที่การตรวจเชิงลึกเข้าใจ (การเปรียบเทียบ เลขคณิต "
         "'size()' '&&' '||' '!' กับฟิลด์ชนิด 'int' 'float' 'bool' 'string' และ "
         "'list')"),
        ("42:18: error: เงื่อนไขของทริกเกอร์ 'named' ไม่มีทางผ่านได้: นิพจน์ "
         "\"name.startsWith('Ban') && size(name) == 3 && name != 'Ban'\" "
         "ไม่มีทางเป็นจริง (name เป็น string)"),
    ],
}


@pytest.mark.parametrize("name", sorted(DEEP_THAI))
def test_deep_findings_in_thai(run: Run, name: str) -> None:
    path = DEEP / name
    code, out, err = run("--lang", "th", "validate", "--deep", str(path))
    assert code == 1
    assert out == ""
    assert err.splitlines() == [f"{path}:{line}" for line in DEEP_THAI[name]]


def test_deep_findings_json_stay_english(run: Run) -> None:
    """--json is for tools: the findings' messages stay in English whatever --lang says."""
    path = DEEP / "time.yaml"
    code, out, _ = run("--lang", "th", "--json", "validate", "--deep", str(path))
    findings = json.loads(out)["files"][0]["findings"]
    assert code == 1
    assert findings[0]["message"] == (
        "follow-up 'too_late' can never fire: follow-up 'give_up' (after 3 months, action: "
        "transition 'stall') always leaves stage 'running' first")


HOOKS = """\
journey: needs-config
version: 1
roles: [coach]
stages:
  a:
    initial: true
    follow_ups:
      - {id: ping, after: 1 day, action: webhook, endpoint: crm}
      - {id: letter, after: 2 days, action: email, to: [coach]}
  b: {final: true}
transitions:
  - {trigger: go, from: a, to: b}
"""


def test_follow_ups_that_will_fail_are_warned_in_thai(run: Run, tmp_path: Path) -> None:
    journey = tmp_path / "hooks.yaml"
    journey.write_text(HOOKS, encoding="utf-8")
    config = tmp_path / "ops.toml"
    config.write_text('[webhooks.chat]\nurl = "http://127.0.0.1:9/x"\n', encoding="utf-8")
    code, out, err = run("--config", str(config), "--lang", "th", "journeys", "publish",
                         str(journey))
    assert (code, out) == (0, "เผยแพร่ needs-config@1 แล้ว\n")
    assert err.splitlines() == [
        ("warning: needs-config@1 ขั้น 'a' งานติดตาม 'ping' (webhook) จะล้มเหลว: ปลายทาง"
         "เว็บฮุก 'crm' ไม่อยู่ในการตั้งค่า ('[webhooks.NAME]' ที่ตั้งไว้: chat)"),
        ("warning: needs-config@1 ขั้น 'a' งานติดตาม 'letter' (email) จะล้มเหลว: อีเมลต้องมี"
         "เซิร์ฟเวอร์ SMTP ('[smtp] host')"),
    ]
    out = ok(run, "--config", str(config), "--lang", "th", "scheduler", "status")
    assert out.splitlines()[-3:] == [
        "จะล้มเหลว (ยังไม่ได้ตั้งค่า): 2",
        ("  needs-config@1 ขั้น 'a' งานติดตาม 'ping' (webhook) จะล้มเหลว: ปลายทางเว็บฮุก "
         "'crm' ไม่อยู่ในการตั้งค่า ('[webhooks.NAME]' ที่ตั้งไว้: chat)"),
        ("  needs-config@1 ขั้น 'a' งานติดตาม 'letter' (email) จะล้มเหลว: อีเมลต้องมี"
         "เซิร์ฟเวอร์ SMTP ('[smtp] host')"),
    ]
    data = json.loads(ok(run, "--config", str(config), "--lang", "th", "--json",
                         "scheduler", "status"))
    assert data["unconfigured"][1]["message"] == (  # --json: English
        "needs-config@1 stage 'a' follow-up 'letter' (email) will fail: email needs an "
        "SMTP server ([smtp] host)")


def test_the_language_comes_from_lang_then_bompao_lang_then_the_locale(
        run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.setenv("LANG", "th_TH.UTF-8")
    monkeypatch.setenv("BOMPAO_LANG", "en")
    assert refused(run, 2, "project", "show", "9") == "no project with id 9"
    monkeypatch.setenv("BOMPAO_LANG", "th")
    assert refused(run, 2, "project", "show", "9") == "ไม่มีโครงการรหัส 9"
    assert refused(run, 2, "--lang", "en", "project", "show", "9") == "no project with id 9"
    monkeypatch.delenv("BOMPAO_LANG")
    project(run)
    assert ok(run, "project", "list").splitlines()[1].split()[:2] == ["รหัส", "ชื่อ"]


# -- the database ------------------------------------------------------------------------

def _db_refusal(db: str, lang: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    try:
        main(["--db", db, "--lang", lang, "project", "list"])
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1, err
    return code, lines[0].removeprefix("error: ")


def test_a_database_that_cannot_be_used(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(bytes(range(256)) * 32)  # not a SQLite file
    cases = [
        (f"sqlite:///{junk}", 2,
         f"cannot open the database at sqlite:///{junk}: file is not a database",
         f"เปิดฐานข้อมูลที่ sqlite:///{junk} ไม่ได้: file is not a database"),
        (f"sqlite:///{tmp_path / 'no' / 'x.db'}", 2,
         (f"cannot open the database at sqlite:///{tmp_path / 'no' / 'x.db'}: directory "
         f"'{tmp_path / 'no'}' does not exist"),
         (f"เปิดฐานข้อมูลที่ sqlite:///{tmp_path / 'no' / 'x.db'} ไม่ได้: ไม่มีโฟลเดอร์ "
         f"'{tmp_path / 'no'}'")),
        ("mysql://u@h/d", 2,
         ("unsupported database URL mysql://u@h/d: expected sqlite:///PATH, "
         "postgresql://USER@HOST/DB or postgresql+psycopg://USER@HOST/DB"),
         ("ไม่รองรับ URL ฐานข้อมูล mysql://u@h/d: ต้องเป็น sqlite:///PATH, "
         "postgresql://USER@HOST/DB หรือ postgresql+psycopg://USER@HOST/DB")),
        (f"sqlite:///{tmp_path / 'empty.db'}", 1,
         (f"the database at sqlite:///{tmp_path / 'empty.db'} has no bompao tables; run "
         "'bompao init' to create them"),
         (f"ฐานข้อมูลที่ sqlite:///{tmp_path / 'empty.db'} ยังไม่มีตารางของ bompao ให้รัน "
         "'bompao init' เพื่อสร้าง")),
    ]
    for db, code, english, thai in cases:
        assert _db_refusal(db, "en", capsys) == (code, english)
        assert _db_refusal(db, "th", capsys) == (code, thai)


def test_a_busy_database_is_a_conflict_in_both_languages(
        template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for part in template.parent.glob("b.db*"):
        shutil.copy(part, tmp_path / part.name)
    path = tmp_path / "b.db"
    main(["--db", f"sqlite:///{path}", "project", "create", "--journey",
          "social-incubator", "--name", "Rice"])
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another connection holds the write lock
    try:
        url = f"sqlite:///{path}?busy_timeout=0.2"
        results = {}
        for lang in ("en", "th"):
            capsys.readouterr()
            with pytest.raises(SystemExit) as exit_:
                main(["--db", url, "--lang", lang, "project", "set", "1", "interviews_done=3"])
            results[lang] = (exit_.value.code, capsys.readouterr().err.strip())
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    shown = f"sqlite:///{path}?busy_timeout=0.2"
    assert results["en"] == (1, (f"error: the database at {shown} is busy: another "
                                "connection held its write lock for 0.2 s; nothing was "
                                "written: try again"))
    assert results["th"] == (1, (f"error: ฐานข้อมูลที่ {shown} ไม่ว่าง: การเชื่อมต่ออื่นถือ"
                                "สิทธิ์เขียนไว้นาน 0.2 วินาที ยังไม่ได้บันทึกสิ่งใด "
                                "โปรดลองอีกครั้ง"))
