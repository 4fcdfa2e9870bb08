"""The teaching messages of issue 15 in Thai, exactly, and through ``bompao --lang th``.

The English lines are asserted in ``test_diagnostics.py`` (``EXPECTED``); here each of
the same diagnostics is rendered in Thai, and the CLI is shown to print them so.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bompao.cli import main
from bompao.definitions import JourneyCatalog, bundled_dir, compile_journey, load_path
from bompao.definitions.messages import CATALOGUE, Message, error_text, localise
from bompao.errors import DefinitionError, InvalidValue

BROKEN = Path(__file__).resolve().parents[1] / "fixtures" / "broken"
SOCIAL = bundled_dir() / "social-incubator.yaml"
SOCIAL_1 = bundled_dir() / "earlier" / "social-incubator-1.yaml"  # what partners extend
SEES = "และ evidence, approvals, days_in_stage, now"

THAI: dict[str, list[str]] = {
    "partner_typo": [
        ("ไม่รู้จักขั้น 'ethic_review' (หมายถึง 'ethics_review' หรือไม่?) ขั้นที่มี: ethics_review, "
        "handoff, idea, showcase, stalled, test_run, validation, withdrawn"),
    ],
    "partner_remove": [
        ("remove.stages: การลบ 'stalled' (และทรานสิชัน 'stall', test_run -> stalled ไปด้วย) "
        f"ทำให้เส้นทางต้นแบบที่ {SOCIAL_1}:82:18 เสีย: ไม่มีทรานสิชันจากขั้น 'test_run' ที่ใช้"
        "ทริกเกอร์ 'stall' ขั้นนี้มี: present, withdraw ให้เขียนทับ 'stages.test_run.follow_ups' "
        "ในเส้นทางนี้เพื่อลบหรือแก้"),
    ],
    "partner_replace": [
        ("ทรานสิชันนี้แทนที่ 'present' จาก 'test_run' ของเส้นทางต้นแบบ ซึ่งเป็นทางเข้า 'showcase': "
        f"ไปถึงขั้น 'showcase' จากขั้นเริ่มต้น 'idea' ไม่ได้ (ขั้นนี้อยู่ที่ {SOCIAL_1}:83:3) "
        "ให้เพิ่มทรานสิชันเข้า 'showcase' หรือลบขั้นนี้"),
        (f"remove.fields: การลบ 'partners_committed' ทำให้เส้นทางต้นแบบที่ {SOCIAL_1}:161:23 เสีย: "
        "transitions[3].gate.all[0].expr: CEL: ไม่รู้จักชื่อ 'partners_committed' นิพจน์มองเห็น"
        "ฟิลด์ (demo_day, interviews_done, people_reached, problem_statement, target_group) "
        f"{SEES} ให้เขียนทับหรือลบทรานสิชัน 'hand_off' จาก 'showcase' ด้วย"),
    ],
    "thai_key": [
        ("คีย์ขั้น 'ไอเดีย' ใช้ไม่ได้: คีย์ต้องเป็นอักษรอังกฤษตัวเล็ก ตัวเลข และ '_' "
        "ให้ใส่ภาษาไทยไว้เป็นชื่อเรื่อง: english_key: {title: {th: ไอเดีย}}"),
    ],
    "yaml_tab": [
        "YAML ไม่ถูกต้อง: มีอักขระแท็บตรงนี้ YAML ย่อหน้าด้วยช่องว่างเท่านั้น: ให้แทนแท็บด้วยช่องว่าง",
    ],
    "yaml_indent": [
        ("YAML ไม่ถูกต้อง: ย่อหน้าผิด: 'final' ย่อหน้า 3 ช่อง ซึ่งไม่ตรงกับคีย์ใดข้างบน "
        "ให้ย่อหน้า 4 ช่องเพื่อให้อยู่ระดับเดียวกับ 'initial' หรือ 2 ช่องเพื่อให้อยู่ระดับเดียวกับ "
        "'start'"),
    ],
    "yaml_star": [
        ("YAML ไม่ถูกต้อง: '*' ที่ไม่อยู่ในเครื่องหมายคำพูดคือ alias ของ YAML ให้เขียนใน"
        "เครื่องหมายคำพูด: \"*\" (เช่น from: \"*\" คือทุกขั้นที่ไม่ใช่ขั้นสุดท้าย)"),
    ],
    "yaml_colon": [
        ("YAML ไม่ถูกต้อง: ': ' ในค่าที่ไม่มีเครื่องหมายคำพูดจะเริ่มคีย์ใหม่ "
        "ให้ใส่ค่าทั้งหมดในเครื่องหมายคำพูด: \"Idea: the start\""),
    ],
    "cel_words": [
        ("transitions[0].gate.all[0].expr: CEL: ไม่รู้จักชื่อ 'interview_done' (หมายถึง "
        f"'interviews_done' หรือไม่?) นิพจน์มองเห็นฟิลด์ (interviews_done) {SEES}"),
        ("transitions[0].gate.all[1].expr: CEL: เปรียบเทียบ `interviews_done` (ตัวเลข) กับข้อความ "
        "\"5\" ให้เขียน 5 โดยไม่มีเครื่องหมายคำพูด"),
    ],
}


def diagnostics(name: str) -> DefinitionError:
    path = BROKEN / f"{name}.yaml"
    with pytest.raises(DefinitionError) as caught:
        compile_journey(path.read_bytes(), file=f"broken/{path.name}",
                        resolve=JourneyCatalog().resolve)
    return caught.value


@pytest.mark.parametrize("name", sorted(THAI))
def test_the_message_in_thai(name: str) -> None:
    error = diagnostics(name)
    assert [localise(d.message, "th") for d in error.diagnostics] == THAI[name]


@pytest.mark.parametrize("name", sorted(THAI))
def test_english_stays_the_message_text(name: str) -> None:
    """A Message is its English text: str(), ==, JSON and 'en' all give the same."""
    for diagnostic in diagnostics(name).diagnostics:
        assert localise(diagnostic.message, "en") == str(diagnostic.message) == \
            diagnostic.message


def test_every_catalogue_entry_has_english_and_thai_with_known_parameters() -> None:
    """Thai may leave a parameter out (it has no plural 'whats'), never add one."""
    import string  # noqa: PLC0415

    def fields(template: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name}

    for key, templates in CATALOGUE.items():
        assert set(templates) == {"en", "th"}, key
        assert fields(templates["th"]) <= fields(templates["en"]), key


def test_validate_prints_thai_with_lang_th(capsys: pytest.CaptureFixture[str]) -> None:
    path = BROKEN / "partner_remove.yaml"
    with pytest.raises(SystemExit) as caught:
        main(["--lang", "th", "validate", str(path)])
    assert caught.value.code == 1
    expected = f"{path}:8:12: error: {THAI['partner_remove'][0]}"
    assert capsys.readouterr().err.splitlines() == [expected]


def test_a_load_error_prints_thai_through_main(capsys: pytest.CaptureFixture[str]) -> None:
    """An invalid file given to another command goes through main's own handler."""
    path = BROKEN / "yaml_star.yaml"
    with pytest.raises(SystemExit) as caught:
        main(["--lang", "th", "diagram", str(path)])
    assert caught.value.code == 1
    expected = f"{path}:9:11: error: {THAI['yaml_star'][0]}"
    assert capsys.readouterr().err.splitlines() == [expected]


def test_set_field_suggests_the_closest_field() -> None:
    journey = load_path(SOCIAL)
    with pytest.raises(InvalidValue) as caught:
        journey.fields_from_text({"interview_done": "3"})
    fields = ("demo_day, interviews_done, needs, partners_committed, people_reached, "
              "problem_statement, target_group, team_size")
    assert str(caught.value) == ("unknown field 'interview_done' in journey social-incubator@3 "
                                 f"(did you mean 'interviews_done'?); fields: {fields}")
    assert error_text(caught.value, "th") == (
        "ไม่มีฟิลด์ 'interview_done' ในเส้นทาง social-incubator@3 (หมายถึง 'interviews_done' "
        f"หรือไม่?) ฟิลด์ที่มี: {fields}")


def test_set_field_in_thai_through_the_cli(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'b.db'}"
    main(["--db", db, "init"])
    capsys.readouterr()
    with pytest.raises(SystemExit) as caught:
        main(["--db", db, "--lang", "th", "project", "create", "--journey", "social-incubator",
              "--name", "X", "--set", "interview_done=3"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ไม่มีฟิลด์ 'interview_done' ในเส้นทาง social-incubator@3 "
                          "(หมายถึง 'interviews_done' หรือไม่?)")


def test_a_message_renders_nested_messages_in_the_same_language() -> None:
    inner = Message("kind.number")
    outer = Message("kind.other", name=inner)
    assert (str(outer), outer.render("th")) == ("a number", "ตัวเลข")


CHAIN = """\
journey: chain
version: 1
stages:
  idea: {initial: true}
  pilot: {}
  pilot_review: {}
  island: {}
  done: {final: true}
transitions:
  - {trigger: go, from: idea, to: done}
  - {trigger: review, from: pilot, to: pilot_review}
  - {trigger: finish, from: pilot_review, to: done}
  - {trigger: loop, from: island, to: island}
"""


def test_a_stage_unreachable_only_through_another_is_named_in_its_message() -> None:
    with pytest.raises(DefinitionError) as caught:
        compile_journey(CHAIN, file="chain.yaml")
    diagnostics = caught.value.diagnostics
    assert [str(d) for d in diagnostics] == [
        ("chain.yaml:5:3: error: stage 'pilot' cannot be reached from the initial stage "
         "'idea', and so neither can 'pilot_review'"),
        "chain.yaml:7:3: error: stage 'island' cannot be reached from the initial stage 'idea'",
    ]
    assert [localise(d.message, "th") for d in diagnostics] == [
        "ไปถึงขั้น 'pilot' จากขั้นเริ่มต้น 'idea' ไม่ได้ จึงไปถึง 'pilot_review' ไม่ได้ด้วย",
        "ไปถึงขั้น 'island' จากขั้นเริ่มต้น 'idea' ไม่ได้",
    ]


def test_a_message_survives_copy_and_pickle() -> None:
    import copy  # noqa: PLC0415
    import pickle  # noqa: PLC0415

    message = Message("field.unknown", name="x", ref="j@1", hint="", fields="a")
    for twin in (copy.deepcopy(message), pickle.loads(pickle.dumps(message))):
        assert isinstance(twin, Message)
        assert (twin, twin.render("th")) == (message, message.render("th"))


def test_journey_texts_and_lists_as_parameters_render_in_the_messages_language() -> None:
    """A criterion's own texts (Texts) and a list of them (Joined) follow the message."""
    import copy  # noqa: PLC0415
    import pickle  # noqa: PLC0415

    from bompao.definitions.messages import Joined, Texts  # noqa: PLC0415

    says = [Texts({"en": "The coach approves", "th": "โค้ชอนุมัติ"}),
            Texts({"en": "A plan is attached"})]
    message = Message("gate.refused", project=3, trigger="go", source="a", dest="b",
                      missing=Joined(says, "; "))
    assert message == ("project 3 cannot 'go' from 'a' to 'b': missing The coach approves; "
                       "A plan is attached")
    thai = "โครงการ 3 ใช้ 'go' จาก 'a' ไป 'b' ไม่ได้: ยังขาด โค้ชอนุมัติ; A plan is attached"
    assert message.render("th") == thai
    for twin in (copy.deepcopy(message), pickle.loads(pickle.dumps(message))):
        assert twin.render("th") == thai
    assert error_text(InvalidValue(message), "th") == thai
