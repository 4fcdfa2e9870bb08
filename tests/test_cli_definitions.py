"""The journey-language commands of ``bompao``: validate, schema, diagram, journeys.

Some tests run the installed ``.venv/bin/bompao`` as a real process (exit codes,
stderr, lazy imports); the rest call :func:`bompao.cli.main` in-process, which goes
through the same error handling. No command may ever print a Python traceback.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bompao.cli import main

REPO = Path(__file__).resolve().parents[1]
JOURNEYS = REPO / "journeys"
FIXTURES = REPO / "tests" / "fixtures"
BROKEN = FIXTURES / "broken"
PARTNERS = FIXTURES / "partners"
BOMPAO = Path(sys.executable).with_name("bompao")
DIAGNOSTIC = re.compile(r"^\S+:\d+:\d+: error: \S.*$")

SOCIAL_STAGES = ["idea", "validation", "test_run", "showcase", "handoff", "stalled",
                 "withdrawn"]
"""social-incubator@1's stages (the latest adds 'declined', for the call's others)."""
SOCIAL_TRIGGERS = ["validate", "start_test_run", "present", "hand_off", "stall", "resume",
                   "withdraw"]
OK_LINES = [
    "ok: journeys/incubator-builder.yaml (incubator-builder@1: 8 stages, 7 transitions)",
    ("ok: journeys/local-government-incubator.yaml (local-government-incubator@2: 9 stages, "
    "10 transitions)"),
    "ok: journeys/social-incubator.yaml (social-incubator@3: 8 stages, 9 transitions)",
    ("ok: journeys/university-incubator.yaml (university-incubator@2: 9 stages, "
    "10 transitions)"),
]


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()


Bompao = Callable[..., Result]


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOMPAO_")}
    env.update({"LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8"})
    env.update(extra or {})
    return env


def run(*args: str, cwd: Path = REPO, env: dict[str, str] | None = None) -> Result:
    """``bompao ARGS`` as a real process."""
    done = subprocess.run([str(BOMPAO), *args], capture_output=True, text=True,
                          encoding="utf-8", cwd=cwd, env=_env(env), timeout=120, check=False)
    result = Result(done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in result.err, result.err
    return result


@pytest.fixture
def bompao(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
           tmp_path: Path) -> Bompao:
    """``bompao ARGS`` in-process, through :func:`bompao.cli.main`."""
    for name in list(os.environ):
        if name.startswith("BOMPAO_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    monkeypatch.setenv("BOMPAO_DATABASE_URL", f"sqlite:///{tmp_path / 'unused.db'}")

    def call(*args: str) -> Result:
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        result = Result(code, captured.out, captured.err)
        assert "Traceback" not in result.err, result.err
        return result

    return call


# --- validate ----------------------------------------------------------------------------------

def test_validate_the_bundled_directory_as_a_process() -> None:
    result = run("validate", "journeys")
    assert (result.code, result.err) == (0, "")
    assert result.out.splitlines() == OK_LINES


def test_validate_the_bundled_files_as_a_process() -> None:
    files = sorted(str(p.relative_to(REPO)) for p in JOURNEYS.glob("*.yaml"))
    result = run("validate", *files)
    assert (result.code, result.err) == (0, "")
    assert result.out.splitlines() == OK_LINES


def test_validate_broken_fixtures_as_a_process() -> None:
    result = run("validate", str(BROKEN.relative_to(REPO)))
    assert result.code == 1
    assert "ok:" not in result.out
    assert result.err_lines
    assert all(DIAGNOSTIC.match(line) for line in result.err_lines), result.err
    reported = {line.split(":", 1)[0] for line in result.err_lines}
    assert {f"tests/fixtures/broken/{p.name}" for p in BROKEN.glob("*.yaml")} == reported
    assert ("tests/fixtures/broken/yes_no.yaml:5:14: error: stages.start.initial: expected a "
            "valid boolean, got 'yes'") in result.err_lines


def test_validate_one_broken_file_prints_every_problem(bompao: Bompao) -> None:
    result = bompao("validate", str(BROKEN / "unknown_role.yaml"))
    assert result.code == 1
    assert result.out == ""
    where = BROKEN / "unknown_role.yaml"
    assert result.err_lines == [
        f"{where}:10:21: error: unknown role 'mentor'; roles: coach, committee",
        (f"{where}:16:13: error: unknown role 'cooch' (did you mean 'coach'?); roles: coach, "
        "committee"),
        f"{where}:18:24: error: unknown role 'jury'; roles: coach, committee",
    ]


def test_validate_a_mix_reports_both_and_fails(bompao: Bompao) -> None:
    result = bompao("validate", str(JOURNEYS / "social-incubator.yaml"),
                    str(BROKEN / "duplicate_key.yaml"))
    assert result.code == 1
    assert result.out.startswith(f"ok: {JOURNEYS / 'social-incubator.yaml'} ")
    assert result.err_lines == [
        f"{BROKEN / 'duplicate_key.yaml'}:7:3: error: duplicate key 'start' (first at line 4)"]


def test_validate_files_that_extend_each_other(bompao: Bompao) -> None:
    result = bompao("validate", str(BROKEN / "cycle_a.yaml"),
                    str(BROKEN / "cycle_b.yaml"))
    assert result.code == 1
    assert sorted(result.err_lines) == sorted([
        (f"{BROKEN / 'cycle_b.yaml'}:3:10: error: extends cycle: cycle-a@1 -> cycle-b@1 -> "
        "cycle-a@1"),
        (f"{BROKEN / 'cycle_a.yaml'}:3:10: error: extends cycle: cycle-b@1 -> cycle-a@1 -> "
        "cycle-b@1"),
    ])


def test_validate_a_missing_path_as_a_process() -> None:
    result = run("validate", "no-such-journey.yaml")
    assert result.code == 2
    assert result.out == ""
    assert result.err_lines == ["error: no such file or directory: 'no-such-journey.yaml'"]


def test_validate_a_directory_without_journeys(bompao: Bompao, tmp_path: Path) -> None:
    result = bompao("validate", str(tmp_path))
    assert result.code == 2
    assert result.err_lines == [f"error: no .yaml files in directory '{tmp_path}'"]


def test_validate_without_a_path_is_bad_usage(bompao: Bompao) -> None:
    result = bompao("validate")
    assert result.code == 2
    assert len(result.err_lines) == 1
    assert result.err_lines[0].startswith("error: Missing argument 'PATH...'")


def test_validate_json(bompao: Bompao) -> None:
    ok = bompao("--json", "validate", str(JOURNEYS / "social-incubator.yaml"))
    assert ok.code == 0
    assert json.loads(ok.out) == {"ok": True, "files": [{
        "file": str(JOURNEYS / "social-incubator.yaml"), "ok": True,
        "journey": "social-incubator", "version": 3, "stages": 8, "transitions": 9,
        "diagnostics": []}]}
    bad = bompao("--json", "validate", str(BROKEN / "yes_no.yaml"),
                 str(BROKEN / "unreachable.yaml"))
    assert bad.code == 1
    assert bad.err == ""
    data = json.loads(bad.out)
    assert data["ok"] is False
    assert [f["file"] for f in data["files"]] == [str(BROKEN / "yes_no.yaml"),
                                                  str(BROKEN / "unreachable.yaml")]
    assert data["files"][0]["diagnostics"] == [
        {"file": str(BROKEN / "yes_no.yaml"), "line": 5, "column": 14,
         "message": "stages.start.initial: expected a valid boolean, got 'yes'"},
        {"file": str(BROKEN / "yes_no.yaml"), "line": 6, "column": 17,
         "message": "stages.done.final: expected a valid boolean, got 'on'"}]


def test_validate_json_as_a_process() -> None:
    result = run("--json", "validate", "journeys")
    assert result.code == 0
    data = json.loads(result.out)
    assert data["ok"] is True
    assert [f["journey"] for f in data["files"]] == [
        "incubator-builder", "local-government-incubator", "social-incubator",
        "university-incubator"]


def test_validate_a_file_with_control_characters(bompao: Bompao, tmp_path: Path) -> None:
    """A NUL byte in a journey file is a positioned diagnostic with exit 1, not an
    'internal error'."""
    path = tmp_path / "nul.yaml"
    path.write_bytes(b"journey: a\x00b\nversion: 1\n")
    result = bompao("validate", str(path))
    assert result.code == 1
    assert len(result.err_lines) == 1
    assert result.err_lines[0].startswith(f"{path}:1:"), result.err
    assert DIAGNOSTIC.match(result.err_lines[0])


# --- schema ------------------------------------------------------------------------------------

def test_schema_as_a_process() -> None:
    result = run("schema")
    assert (result.code, result.err) == (0, "")
    schema = json.loads(result.out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema["required"]) == {"journey", "version"}  # stages unless it extends
    assert schema["then"] == {"required": ["stages"]}


# --- diagram -----------------------------------------------------------------------------------

def test_diagram_mermaid_as_a_process() -> None:
    result = run("diagram", "social-incubator", "--format", "mermaid")
    assert (result.code, result.err) == (0, "")
    text = result.out
    assert "stateDiagram-v2" in text
    for stage in SOCIAL_STAGES:
        assert f" as {stage}\n" in text, stage
    for trigger in SOCIAL_TRIGGERS:
        assert re.search(rf"^\s*\w+ --> \w+: {trigger}\b", text, re.MULTILINE), trigger
    assert ("idea --> validation: validate [A problem statement of at least 20 characters & "
            "A stakeholder map is attached & The coach approves]") in text
    assert "test_run --> showcase: present [At least 6 months of test run" in text
    assert 'state "Test run" as test_run' in text


def test_diagram_dot(bompao: Bompao) -> None:
    result = bompao("diagram", "social-incubator", "--format", "dot")
    assert result.code == 0
    text = result.out
    assert text.startswith("digraph")
    for stage in SOCIAL_STAGES:
        assert re.search(rf"^\s*{stage} \[", text, re.MULTILINE), stage
    for trigger in SOCIAL_TRIGGERS:
        assert re.search(rf'-> \w+ \[label="?{trigger}\b', text), trigger
    assert ("showcase -> handoff [label=\"hand_off [At least one partner has committed & "
            "A handoff plan is attached]\"]") in text


def test_diagram_in_thai(bompao: Bompao) -> None:
    result = bompao("--lang", "th", "diagram", "social-incubator")
    assert result.code == 0
    assert 'state "ไอเดีย" as idea' in result.out
    assert "เขียนปัญหาที่ต้องการแก้อย่างน้อย 20 ตัวอักษร" in result.out


def test_diagram_of_a_file_and_json(bompao: Bompao) -> None:
    path = PARTNERS / "ngo-incubator.yaml"
    result = bompao("--json", "diagram", str(path))
    assert result.code == 0
    data = json.loads(result.out)
    assert (data["journey"], data["format"]) == ("ngo-incubator@1", "mermaid")
    assert "test_run --> community_pilot: present" in data["diagram"]


def test_diagram_errors(bompao: Bompao) -> None:
    unknown = bompao("diagram", "no-such-journey")
    assert unknown.code == 2
    assert unknown.err_lines == [
        ("error: unknown journey 'no-such-journey'; known journeys: incubator-builder, "
        "local-government-incubator, social-incubator, university-incubator")]
    fmt = bompao("diagram", "social-incubator", "--format", "svg")
    assert fmt.code == 2
    assert len(fmt.err_lines) == 1
    assert fmt.err_lines[0].startswith("error: Invalid value for '--format'")
    broken = bompao("diagram", str(BROKEN / "dead_end.yaml"))
    assert broken.code == 1
    assert all(DIAGNOSTIC.match(line) for line in broken.err_lines)


# --- journeys list / show ------------------------------------------------------------------------

def test_journeys_list_as_a_process() -> None:
    result = run("journeys", "list")
    assert (result.code, result.err) == (0, "")
    for key in ("incubator-builder", "local-government-incubator", "social-incubator",
                "university-incubator"):
        assert key in result.out
    assert "Social Incubator" in result.out


def test_journeys_list_in_thai_as_a_process() -> None:
    result = run("--lang", "th", "journeys", "list")
    assert result.code == 0
    assert "ระบบบ่มเพาะโครงการและกิจการเพื่อสังคม" in result.out
    assert "การสร้างระบบบ่มเพาะโครงการและกิจการเพื่อสังคม" in result.out


def test_journeys_list_json(bompao: Bompao) -> None:
    result = bompao("--json", "journeys", "list")
    assert result.code == 0
    rows = json.loads(result.out)
    assert [(r["journey"], r["version"], r["stages"], r["valid"]) for r in rows] == [
        ("incubator-builder", 1, 8, True), ("local-government-incubator", 1, 8, True),
        ("local-government-incubator", 2, 9, True), ("social-incubator", 1, 7, True),
        ("social-incubator", 2, 7, True), ("social-incubator", 3, 8, True),
        ("university-incubator", 1, 8, True), ("university-incubator", 2, 9, True)]
    extends = {(r["journey"], r["version"]): r["extends"] for r in rows}
    assert extends["university-incubator", 1] == "social-incubator@1"
    assert extends["university-incubator", 2] == "social-incubator@3"
    extends = {r["journey"]: r["extends"] for r in rows}
    assert extends["social-incubator"] is None
    thai = json.loads(bompao("--json", "--lang", "th", "journeys", "list").out)
    assert {r["journey"]: r["title"] for r in thai}["social-incubator"] == \
        "ระบบบ่มเพาะโครงการและกิจการเพื่อสังคม"


def test_journeys_show(bompao: Bompao) -> None:
    result = bompao("journeys", "show", "social-incubator")
    assert result.code == 0
    for stage in SOCIAL_STAGES:
        assert stage in result.out
    assert "Social Incubator (social-incubator@3)" in result.out
    assert "A problem statement of at least 20 characters" in result.out
    thai = bompao("--lang", "th", "journeys", "show", "social-incubator")
    assert thai.code == 0
    assert "ระบบบ่มเพาะโครงการและกิจการเพื่อสังคม (social-incubator@3)" in thai.out
    assert "การตรวจสอบไอเดียกับกลุ่มเป้าหมาย" in thai.out


def test_journeys_show_json(bompao: Bompao) -> None:
    result = bompao("--json", "journeys", "show", "social-incubator@1")
    assert result.code == 0
    data = json.loads(result.out)
    assert (data["journey"], data["version"], data["timezone"], data["calendar"]) == (
        "social-incubator", 1, "Asia/Bangkok", "TH")
    assert [s["stage"] for s in data["stages"]] == SOCIAL_STAGES
    assert [t["trigger"] for t in data["transitions"]] == SOCIAL_TRIGGERS
    gate = data["transitions"][0]["gate"]
    assert [c["kind"] for c in gate["criteria"]] == ["expr", "evidence", "approval"]
    thai = json.loads(bompao("--json", "--lang", "th", "journeys", "show",
                             "social-incubator").out)
    assert [s["title"] for s in thai["stages"]][:2] == ["ไอเดีย",
                                                        "การตรวจสอบไอเดียกับกลุ่มเป้าหมาย"]


def test_journeys_show_errors(bompao: Bompao) -> None:
    unknown = bompao("journeys", "show", "nope")
    assert unknown.code == 2
    assert len(unknown.err_lines) == 1
    assert unknown.err_lines[0].startswith("error: unknown journey 'nope'")
    version = bompao("journeys", "show", "social-incubator@9")
    assert version.code == 2
    assert version.err_lines == [
        ("error: unknown journey version 'social-incubator@9'; known: social-incubator@1, "
         "social-incubator@2, social-incubator@3")]


# --- extra journey directories --------------------------------------------------------------------

def test_journeys_option_adds_a_directory_as_a_process() -> None:
    listed = run("--journeys", str(PARTNERS), "--json", "journeys", "list")
    assert listed.code == 0
    rows = {r["journey"]: r for r in json.loads(listed.out)}
    assert rows["ngo-incubator"]["extends"] == "social-incubator@1"
    assert rows["ngo-incubator"]["partner"] == "ngo"
    assert rows["ngo-incubator"]["valid"] is True
    shown = run("--journeys", str(PARTNERS), "--lang", "th", "journeys", "show",
                "ngo-incubator")
    assert shown.code == 0
    assert "ระบบบ่มเพาะขององค์กรพัฒนาเอกชน" in shown.out
    assert "การนำร่องในชุมชน" in shown.out


def test_bompao_journeys_env_adds_a_directory_as_a_process(tmp_path: Path) -> None:
    result = run("diagram", "ngo-incubator", env={"BOMPAO_JOURNEYS": str(PARTNERS)},
                 cwd=tmp_path)
    assert result.code == 0
    assert "test_run --> community_pilot: present" in result.out
    assert "community_pilot --> showcase: showcase_pilot" in result.out
    without = run("diagram", "ngo-incubator", cwd=tmp_path)
    assert without.code == 2
    assert without.err_lines[0].startswith("error: unknown journey 'ngo-incubator'")


def test_env_and_option_together(bompao: Bompao, monkeypatch: pytest.MonkeyPatch,
                                 tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "tiny.yaml").write_text(
        "journey: tiny\nversion: 1\ntitle: {en: Tiny, th: เล็ก}\n"
        "stages: {a: {initial: true}, b: {final: true}}\n"
        "transitions: [{trigger: go, from: a, to: b}]\n", encoding="utf-8")
    monkeypatch.setenv("BOMPAO_JOURNEYS", str(PARTNERS))
    result = bompao("--journeys", str(other), "--json", "journeys", "list")
    assert result.code == 0
    keys = [r["journey"] for r in json.loads(result.out)]
    assert "ngo-incubator" in keys
    assert "tiny" in keys


def test_validate_a_partner_file_resolves_its_base(bompao: Bompao) -> None:
    result = bompao("validate", str(PARTNERS / "ngo-incubator.yaml"))
    assert result.code == 0
    assert result.out.splitlines() == [
        f"ok: {PARTNERS / 'ngo-incubator.yaml'} (ngo-incubator@1: 8 stages, 8 transitions)"]


def test_a_missing_journeys_directory(bompao: Bompao, tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    result = bompao("--journeys", str(missing), "journeys", "list")
    assert result.code == 2
    assert result.err_lines == [f"error: journeys directory '{missing}' does not exist"]


# --- bad usage ---------------------------------------------------------------------------------

def test_an_unknown_command_as_a_process() -> None:
    result = run("frobnicate")
    assert result.code == 2
    assert result.out == ""
    assert len(result.err_lines) == 1
    assert result.err_lines[0].startswith("error: No such command 'frobnicate'")


def test_an_unknown_option(bompao: Bompao) -> None:
    result = bompao("validate", "--frob", "journeys")
    assert result.code == 2
    assert len(result.err_lines) == 1
    assert result.err_lines[0].startswith("error: No such option '--frob'")


def test_an_unknown_language(bompao: Bompao) -> None:
    result = bompao("--lang", "fr", "journeys", "list")
    assert result.code == 2
    assert len(result.err_lines) == 1
    assert result.err_lines[0].startswith("error: Invalid value for '--lang'")
