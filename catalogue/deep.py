"""The findings of ``bompao validate --deep``: what can never happen, and what was not
checked (the CEL outside the subset the solver understands)."""

from __future__ import annotations

__all__ = ["ENTRIES"]

ENTRIES: dict[str, dict[str, str]] = {
    "deep.gate_of": {"en": "the gate of trigger {trigger!r}",
                     "th": "เงื่อนไขของทริกเกอร์ {trigger!r}"},
    "deep.never_true": {
        "en": "{where} can never pass: expression {expr!r} can never be true{fields}",
        "th": "{where} ไม่มีทางผ่านได้: นิพจน์ {expr!r} ไม่มีทางเป็นจริง{fields}",
    },
    "deep.fields": {"en": " ({parts})", "th": " ({parts})"},
    "deep.field": {"en": "{name} is {type}{bounds}", "th": "{name} เป็น {type}{bounds}"},
    "deep.min": {"en": ", min {value}", "th": " ต่ำสุด {value}"},
    "deep.max": {"en": ", max {value}", "th": " สูงสุด {value}"},
    "deep.leaves_first": {
        "en": "{where} can never pass in stage {stage!r}: {leave} always leaves the stage "
              "first, before {first}{together}",
        "th": "{where} ไม่มีทางผ่านได้ในขั้น {stage!r}: {leave} จะพาโครงการออกจากขั้นนี้"
              "ก่อนเสมอ ก่อนจะถึง {first}{together}",
    },
    "deep.together": {"en": " together with {others}", "th": " ร่วมกับ {others}"},
    "deep.contradicts": {
        "en": "{where} can never pass: {first} contradicts {others}",
        "th": "{where} ไม่มีทางผ่านได้: {first} ขัดแย้งกับ {others}",
    },
    "deep.never_met": {
        "en": "{where} can never pass: {first} can never be met",
        "th": "{where} ไม่มีทางผ่านได้: {first} ไม่มีทางเป็นไปได้",
    },
    "deep.at_line": {"en": "{what} (line {line})", "th": "{what} (บรรทัด {line})"},
    "deep.leave": {
        "en": "follow-up {name!r} (after {due}, action: transition {trigger!r})",
        "th": "งานติดตาม {name!r} (หลัง {due} เปลี่ยนขั้นด้วย {trigger!r})",
    },
    "deep.followup_late": {
        "en": "follow-up {name!r} can never fire: {leave} always leaves stage {stage!r} first",
        "th": "งานติดตาม {name!r} ไม่มีทางทำงาน: {leave} จะพาโครงการออกจากขั้น {stage!r} "
              "ก่อนเสมอ",
    },
    "deep.followup_gate": {
        "en": "follow-up {name!r} can never fire its transition: the gate of trigger "
              "{trigger!r} can never pass from stage {stage!r}",
        "th": "งานติดตาม {name!r} ไม่มีทางเปลี่ยนขั้นได้: เงื่อนไขของทริกเกอร์ {trigger!r} "
              "ไม่มีทางผ่านได้จากขั้น {stage!r}",
    },
    "deep.never_entered": {
        "en": "stage {stage!r} can never be entered: every way in has a gate that can never "
              "pass: {ways}",
        "th": "ไม่มีทางเข้าขั้น {stage!r} ได้: ทุกทางเข้ามีเงื่อนไขที่ไม่มีทางผ่าน: {ways}",
    },
    "deep.way_in": {
        "en": "{trigger!r} from {source!r} (line {line})",
        "th": "{trigger!r} จาก {source!r} (บรรทัด {line})",
    },
    "deep.cannot_finish": {
        "en": "no final stage can be reached from stage {stage!r} through gates that can "
              "pass{why}",
        "th": "จากขั้น {stage!r} ไม่มีทางไปถึงขั้นสุดท้ายผ่านเงื่อนไขที่ผ่านได้{why}",
    },
    "deep.closed": {
        "en": "; gates that can never pass close {ways}",
        "th": " เงื่อนไขที่ไม่มีทางผ่านปิดทาง {ways}",
    },
    "deep.way_out": {"en": "{trigger!r} to {dest!r}", "th": "{trigger!r} ไป {dest!r}"},
    "deep.others_stuck": {
        "en": "; the other ways out lead only to stages that cannot finish either",
        "th": " ส่วนทางออกอื่นไปได้แค่ขั้นที่ไปไม่ถึงขั้นสุดท้ายเช่นกัน",
    },
    "deep.all_stuck": {
        "en": "; every way out leads only to stages that cannot finish either",
        "th": " ทุกทางออกไปได้แค่ขั้นที่ไปไม่ถึงขั้นสุดท้ายเช่นกัน",
    },
    "deep.approvals_note": {
        "en": "approvals: the journey declares roles, not people (any number of people may "
              "approve in a role, each once per stage visit), so an approval count is "
              "reported only when the gate itself contradicts it, e.g. with approvals.ROLE "
              "in an expression or under 'not'",
        "th": "การอนุมัติ: เส้นทางกำหนดบทบาท ไม่ได้กำหนดตัวบุคคล (ในแต่ละบทบาทมีผู้อนุมัติได้"
              "กี่คนก็ได้ คนละครั้งต่อการเข้าขั้นหนึ่งครั้ง) จึงรายงานจำนวนการอนุมัติเฉพาะเมื่อ"
              "เงื่อนไขขัดแย้งกันเอง เช่น ใช้ 'approvals.ROLE' ในนิพจน์หรือใต้ 'not'",
    },
    "deep.not_checked": {
        "en": "not checked: {text!r} uses {what}, outside the subset deep checks understand "
              "(comparisons, arithmetic, size(), &&, ||, ! on int, float, bool, string and "
              "list fields)",
        "th": "ไม่ได้ตรวจ: {text!r} ใช้ {what} ซึ่งอยู่นอกส่วนที่การตรวจเชิงลึกเข้าใจ "
              "(การเปรียบเทียบ เลขคณิต 'size()' '&&' '||' '!' กับฟิลด์ชนิด 'int' 'float' "
              "'bool' 'string' และ 'list')",
    },
    # criteria as the findings name them
    "deep.expression": {"en": "expression {expr!r}", "th": "นิพจน์ {expr!r}"},
    "deep.min_time": {
        "en": "min_time_in_stage {duration}",
        "th": "ระยะเวลาขั้นต่ำในขั้น (min_time_in_stage) {duration}",
    },
    "deep.approval": {
        "en": "approval {{role: {role}, count: {count}}}",
        "th": "การอนุมัติของบทบาท {role} {count} คน",
    },
    "deep.evidence": {"en": "evidence {name!r}", "th": "หลักฐาน {name!r}"},
    "deep.not": {"en": "not {what}", "th": "นิเสธของ{what}"},
    "deep.this": {"en": "this {kind!r}", "th": "{kind!r} นี้"},
    # what lies outside the subset ("uses ...")
    "subset.nesting": {"en": "more nesting than deep checks follow",
                       "th": "การซ้อนลึกเกินกว่าที่การตรวจเชิงลึกตามได้"},
    "subset.bytes": {"en": "bytes literals", "th": "ค่าไบต์"},
    "subset.escape": {"en": "the string escape \\{char}", "th": "อักขระหลีก \\{char} ในข้อความ"},
    "subset.character": {"en": "the character {char!r}", "th": "อักขระ {char!r}"},
    "subset.expected": {"en": "unexpected {found!r} (expected {wanted!r})",
                        "th": "{found!r} ที่ไม่คาดคิด (ควรเป็น {wanted!r})"},
    "subset.after_dot": {"en": "unexpected {name!r} after '.'",
                         "th": "{name!r} ที่ไม่คาดคิดหลัง '.'"},
    "subset.unsigned": {"en": "unsigned integers", "th": "จำนวนเต็มไม่มีเครื่องหมาย"},
    "subset.null": {"en": "null", "th": "ค่าว่าง 'null'"},
    "subset.map_literal": {"en": "map literals", "th": "แมปที่เขียนในนิพจน์"},
    "subset.unexpected": {"en": "unexpected {found!r}", "th": "{found!r} ที่ไม่คาดคิด"},
    "subset.dates": {"en": "dates and times ({name!r} is a {kind} field)",
                     "th": "วันที่และเวลา ({name!r} เป็นฟิลด์ชนิด {kind})"},
    "subset.list_literal": {"en": "a list literal outside 'x in [...]'",
                            "th": "รายการที่เขียนในนิพจน์นอก 'x in [...]'"},
    "subset.now": {"en": "timestamps ('now')", "th": "การประทับเวลา ('now')"},
    "subset.whole_map": {"en": "the whole {name!r} map", "th": "แมป {name!r} ทั้งก้อน"},
    "subset.name": {"en": "the name {name!r}", "th": "ชื่อ {name!r}"},
    "subset.map_key": {"en": "a map key that is not a string literal",
                       "th": "คีย์ของแมปที่ไม่ใช่ข้อความตายตัว"},
    "subset.select": {"en": "field selection", "th": "การเลือกฟิลด์ย่อย"},
    "subset.index": {"en": "indexing", "th": "การเข้าถึงด้วยดัชนี"},
    "subset.size_of": {"en": "size() of a {type}", "th": "'size()' ของ {type}"},
    "subset.function": {"en": "the function {name}()", "th": "ฟังก์ชัน '{name}()'"},
    "subset.in_list_field": {"en": "'in' on a list field", "th": "'in' กับฟิลด์ชนิดรายการ"},
    "subset.compare_types": {"en": "comparing a {left} with a {right}",
                             "th": "การเปรียบเทียบ {left} กับ {right}"},
    "subset.ordering": {"en": "ordering {type}s with {op!r}",
                        "th": "การเรียงลำดับ {type} ด้วย {op!r}"},
    "subset.compare_lists": {"en": "comparing lists", "th": "การเปรียบเทียบรายการ"},
    "subset.arithmetic": {"en": "arithmetic on a {left} and a {right}",
                          "th": "เลขคณิตระหว่าง {left} กับ {right}"},
    "subset.modulo_floats": {"en": "'%' on floats", "th": "'%' กับทศนิยม"},
    "subset.operator_on": {"en": "{op!r} on {type}s", "th": "{op!r} กับ {type}"},
    "subset.gives": {"en": "an expression that gives a {type}",
                     "th": "นิพจน์ที่ให้ผลเป็น {type}"},
}
