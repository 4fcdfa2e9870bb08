"""Messages of the journey pipeline: YAML syntax, names, CEL, references, ``extends``."""

from __future__ import annotations

__all__ = ["ENTRIES"]

ENTRIES: dict[str, dict[str, str]] = {
    # YAML syntax
    "yaml.tab": {
        "en": "invalid YAML: a tab character here; YAML indents with spaces only: "
              "replace the tab with spaces",
        "th": "YAML ไม่ถูกต้อง: มีอักขระแท็บตรงนี้ YAML ย่อหน้าด้วยช่องว่างเท่านั้น: "
              "ให้แทนแท็บด้วยช่องว่าง",
    },
    "yaml.indent": {
        "en": "invalid YAML: wrong indentation: {key!r} is indented {spaces} spaces, which "
              "lines up with no key above it; indent it {deeper} spaces to sit beside "
              "{beside!r}, or {shallower} to sit beside {parent!r}",
        "th": "YAML ไม่ถูกต้อง: ย่อหน้าผิด: {key!r} ย่อหน้า {spaces} ช่อง ซึ่งไม่ตรงกับคีย์ใด"
              "ข้างบน ให้ย่อหน้า {deeper} ช่องเพื่อให้อยู่ระดับเดียวกับ {beside!r} หรือ "
              "{shallower} ช่องเพื่อให้อยู่ระดับเดียวกับ {parent!r}",
    },
    "yaml.indent_one": {
        "en": "invalid YAML: wrong indentation: {key!r} is indented {spaces} spaces, which "
              "lines up with no key above it; indent it {deeper} spaces to sit beside "
              "{beside!r}",
        "th": "YAML ไม่ถูกต้อง: ย่อหน้าผิด: {key!r} ย่อหน้า {spaces} ช่อง ซึ่งไม่ตรงกับคีย์ใด"
              "ข้างบน ให้ย่อหน้า {deeper} ช่องเพื่อให้อยู่ระดับเดียวกับ {beside!r}",
    },
    "yaml.alias": {
        "en": "invalid YAML: an unquoted '*' starts a YAML alias; write it in quotes: "
              "\"*\" (as in from: \"*\", every non-final stage)",
        "th": "YAML ไม่ถูกต้อง: '*' ที่ไม่อยู่ในเครื่องหมายคำพูดคือ alias ของ YAML "
              "ให้เขียนในเครื่องหมายคำพูด: \"*\" (เช่น from: \"*\" คือทุกขั้นที่ไม่ใช่ขั้นสุดท้าย)",
    },
    "yaml.undefined_alias": {
        "en": "invalid YAML: '*{name}' is a YAML alias, but no anchor '&{name}' is defined "
              "above it; to write the text itself, put it in quotes: \"*{name}\"",
        "th": "YAML ไม่ถูกต้อง: '*{name}' คือ alias ของ YAML แต่ไม่มี anchor '&{name}' "
              "ข้างบน ถ้าต้องการข้อความนี้ ให้ใส่เครื่องหมายคำพูด: \"*{name}\"",
    },
    "yaml.colon": {
        "en": "invalid YAML: ': ' inside an unquoted value starts a new key; put the whole "
              "value in quotes: {quoted}",
        "th": "YAML ไม่ถูกต้อง: ': ' ในค่าที่ไม่มีเครื่องหมายคำพูดจะเริ่มคีย์ใหม่ "
              "ให้ใส่ค่าทั้งหมดในเครื่องหมายคำพูด: {quoted}",
    },
    "yaml.missing_colon": {
        "en": "invalid YAML: line {line} {text!r} has no ':', so the indented line below "
              "cannot hold keys; write '{text}:' to start a mapping",
        "th": "YAML ไม่ถูกต้อง: บรรทัด {line} {text!r} ไม่มี ':' บรรทัดที่ย่อหน้าข้างล่างจึงมี"
              "คีย์ไม่ได้ ให้เขียน '{text}:' เพื่อเริ่ม mapping",
    },
    "yaml.unclosed": {
        "en": "invalid YAML: the '{open}' at line {line} is never closed; add '{close}' "
              "at the end of its value",
        "th": "YAML ไม่ถูกต้อง: '{open}' ที่บรรทัด {line} ไม่ได้ปิด ให้เติม '{close}' "
              "ท้ายค่าของมัน",
    },
    # Thai names where a key is expected
    "name.thai_key": {
        "en": "{where} key {name!r} is not a valid name: keys are lower-case English "
              "letters, digits and '_'; keep the Thai as its title: "
              "english_key: {{title: {{th: {name}}}}}",
        "th": "คีย์{where} {name!r} ใช้ไม่ได้: คีย์ต้องเป็นอักษรอังกฤษตัวเล็ก ตัวเลข และ '_' "
              "ให้ใส่ภาษาไทยไว้เป็นชื่อเรื่อง: english_key: {{title: {{th: {name}}}}}",
    },
    "name.invalid_key": {
        "en": "{where} key {name!r} is not a valid name: use lower-case letters, digits "
              "and '_', starting with a letter",
        "th": "คีย์{where} {name!r} ใช้ไม่ได้: ใช้อักษรอังกฤษตัวเล็ก ตัวเลข และ '_' "
              "โดยขึ้นต้นด้วยตัวอักษร",
    },
    # CEL
    "cel.undeclared": {
        "en": "{path}: CEL: unknown name {name!r}{hint}; an expression sees the fields "
              "({fields}) and evidence, approvals, days_in_stage, now",
        "th": "{path}: CEL: ไม่รู้จักชื่อ {name!r}{hint} นิพจน์มองเห็นฟิลด์ ({fields}) "
              "และ evidence, approvals, days_in_stage, now",
    },
    "cel.compare_quoted": {
        "en": "{path}: CEL: compares `{left}` ({left_kind}) with the text {right}; "
              "write {bare} without quotes",
        "th": "{path}: CEL: เปรียบเทียบ `{left}` ({left_kind}) กับข้อความ {right} "
              "ให้เขียน {bare} โดยไม่มีเครื่องหมายคำพูด",
    },
    "cel.compare": {
        "en": "{path}: CEL: compares `{left}` ({left_kind}) with `{right}` ({right_kind}); "
              "both sides of {op!r} need the same type",
        "th": "{path}: CEL: เปรียบเทียบ `{left}` ({left_kind}) กับ `{right}` ({right_kind}) "
              "ทั้งสองข้างของ {op!r} ต้องเป็นชนิดเดียวกัน",
    },
    "kind.number": {"en": "a number", "th": "ตัวเลข"},
    "kind.decimal": {"en": "a decimal number", "th": "ทศนิยม"},
    "kind.text": {"en": "text", "th": "ข้อความ"},
    "kind.bool": {"en": "true or false", "th": "จริงหรือเท็จ"},
    "kind.date": {"en": "a date", "th": "วันที่"},
    "kind.duration": {"en": "a duration", "th": "ช่วงเวลา"},
    "kind.list": {"en": "a list", "th": "รายการ"},
    "kind.map": {"en": "a map", "th": "แมป"},
    "kind.other": {"en": "{name}", "th": "{name}"},
    "unknown": {
        "en": "unknown {what} {name!r}{hint}; {whats}: {listing}",
        "th": "ไม่รู้จัก{what} {name!r}{hint} {what}ที่มี: {listing}",
    },
    "trigger_not_offered": {
        "en": "no transition from stage {stage!r} offers trigger {trigger!r}; it offers: "
              "{listing}",
        "th": "ไม่มีทรานสิชันจากขั้น {stage!r} ที่ใช้ทริกเกอร์ {trigger!r} ขั้นนี้มี: {listing}",
    },
    "none_declared": {"en": "none declared", "th": "ไม่มี"},
    "what.stage": {"en": "stage", "th": "ขั้น"},
    "what.stages": {"en": "stages", "th": "ขั้น"},
    "what.role": {"en": "role", "th": "บทบาท"},
    "what.roles": {"en": "roles", "th": "บทบาท"},
    "what.field": {"en": "field", "th": "ฟิลด์"},
    "what.fields": {"en": "fields", "th": "ฟิลด์"},
    "what.evidence item": {"en": "evidence item", "th": "หลักฐาน"},
    "what.evidence items": {"en": "evidence items", "th": "หลักฐาน"},
    "what.evidence": {"en": "evidence", "th": "หลักฐาน"},
    "what.indicator": {"en": "indicator", "th": "ตัวชี้วัด"},
    "hint.did_you_mean": {"en": " (did you mean {name!r}?)", "th": " (หมายถึง {name!r} หรือไม่?)"},
    # fields given by name (--set FIELD=VALUE, the API)
    "field.unknown": {
        "en": "unknown field {name!r} in journey {ref}{hint}; fields: {fields}",
        "th": "ไม่มีฟิลด์ {name!r} ในเส้นทาง {ref}{hint} ฟิลด์ที่มี: {fields}",
    },
    # problems a partner journey's extends/remove caused in its base
    "extends.removed": {
        "en": "remove.{kind}: removing {name!r}{consequence} breaks the base journey at "
              "{where}: {problem}; {fix}",
        "th": "remove.{kind}: การลบ {name!r}{consequence} ทำให้เส้นทางต้นแบบที่ {where} "
              "เสีย: {problem} {fix}",
    },
    "extends.replaced": {
        "en": "this transition replaces the base's {trigger!r} from {source!r}, the way "
              "into {stage!r}: {problem} (the stage is at {where}); add a transition "
              "into {stage!r} or remove the stage",
        "th": "ทรานสิชันนี้แทนที่ {trigger!r} จาก {source!r} ของเส้นทางต้นแบบ ซึ่งเป็นทางเข้า "
              "{stage!r}: {problem} (ขั้นนี้อยู่ที่ {where}) ให้เพิ่มทรานสิชันเข้า {stage!r} "
              "หรือลบขั้นนี้",
    },
    "extends.base": {
        "en": "the base journey {ref}, as this journey changes it: {problem} (at {where})",
        "th": "เส้นทางต้นแบบ {ref} เมื่อถูกเส้นทางนี้แก้ไข: {problem} (ที่ {where})",
    },
    "consequence.transition": {
        "en": " (and with it transition {trigger!r}, {source} -> {stage})",
        "th": " (และทรานสิชัน {trigger!r}, {source} -> {stage} ไปด้วย)",
    },
    "fix.override": {
        "en": "override '{path}' in this journey to drop or change it",
        "th": "ให้เขียนทับ '{path}' ในเส้นทางนี้เพื่อลบหรือแก้",
    },
    "fix.transition": {
        "en": "override or remove the transition {trigger!r} from {source!r} as well",
        "th": "ให้เขียนทับหรือลบทรานสิชัน {trigger!r} จาก {source!r} ด้วย",
    },
    "fix.keep": {
        "en": "keep {name!r} or change what uses it",
        "th": "ให้คง {name!r} ไว้ หรือแก้สิ่งที่ใช้มัน",
    },
    "after_itself": {
        "en": "stage {stage!r} is placed after itself; 'after' names another stage",
        "th": "ขั้น {stage!r} ถูกวางไว้หลังตัวเอง 'after' ต้องเป็นชื่อขั้นอื่น",
    },
    "dead_end": {
        "en": "stage {stage!r} is not final and has no way out: add a transition from it "
              "or mark it 'final: true'",
        "th": "ขั้น {stage!r} ไม่ใช่ขั้นสุดท้ายแต่ไม่มีทางออก: เพิ่มทรานสิชันออกจากขั้นนี้ "
              "หรือกำหนด 'final: true'",
    },
    "unreachable_with": {
        "en": "stage {stage!r} cannot be reached from the initial stage {initial!r}, "
              "and so neither can {others}",
        "th": "ไปถึงขั้น {stage!r} จากขั้นเริ่มต้น {initial!r} ไม่ได้ จึงไปถึง {others} "
              "ไม่ได้ด้วย",
    },
    "unreachable": {
        "en": "stage {stage!r} cannot be reached from the initial stage {initial!r}",
        "th": "ไปถึงขั้น {stage!r} จากขั้นเริ่มต้น {initial!r} ไม่ได้",
    },
}
