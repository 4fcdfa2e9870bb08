"""Intake, selection and coaching: applications, reviewers, scores, ranking, coaches and
sessions (``bompao reviews``, ``project score``, ``cohort rank|select``, ``coaches``,
``project session`` and imports into a journey with an ``application``)."""

from __future__ import annotations

__all__ = ["ENTRIES"]

ENTRIES: dict[str, dict[str, str]] = {
    # applications
    "intake.not_open": {
        "en": "applications to {ref} open on {opens}; today is {today} (the journey's "
              "timezone); nothing was imported",
        "th": "การรับสมัครของ {ref} เปิดวันที่ {opens} วันนี้คือ {today} (ตามเขตเวลาของเส้นทาง) "
              "ไม่ได้นำเข้าข้อมูลใด",
    },
    "intake.closed": {
        "en": "applications to {ref} closed on {closes}; today is {today} (the journey's "
              "timezone); nothing was imported",
        "th": "การรับสมัครของ {ref} ปิดไปแล้วเมื่อวันที่ {closes} วันนี้คือ {today} "
              "(ตามเขตเวลาของเส้นทาง) ไม่ได้นำเข้าข้อมูลใด",
    },
    "intake.required": {
        "en": "the application misses the required field {name!r}; required: {required}",
        "th": "ใบสมัครขาดฟิลด์ที่จำเป็น {name!r} ฟิลด์ที่จำเป็น: {required}",
    },
    "intake.not_asked": {
        "en": "field {name!r} is not on the application form of {ref}; the form asks: "
              "{asked}",
        "th": "ฟิลด์ {name!r} ไม่อยู่ในแบบฟอร์มใบสมัครของ {ref} แบบฟอร์มถาม: {asked}",
    },
    # scoring
    "intake.no_scoring": {
        "en": "journey {ref} declares no scoring; add a 'scoring:' key with a role and a "
              "rubric",
        "th": "เส้นทาง {ref} ไม่ได้กำหนดการให้คะแนน ให้เพิ่มคีย์ 'scoring:' พร้อมบทบาทและเกณฑ์",
    },
    "intake.no_reviewers": {
        "en": "nobody holds the role {role!r}; add reviewers with 'bompao users add NAME "
              "--name NAME --role {role}[@PARTNER]'",
        "th": "ไม่มีผู้ใดมีบทบาท {role!r} ให้เพิ่มผู้พิจารณาด้วย 'bompao users add NAME "
              "--name NAME --role {role}[@PARTNER]'",
    },
    "intake.conflict": {
        "en": "{who!r} may not review project {id}: a declared conflict ({reason})",
        "th": "{who!r} พิจารณาโครงการ {id} ไม่ได้ เพราะมีผลประโยชน์ทับซ้อนที่ประกาศไว้ ({reason})",
    },
    "intake.reason_partner": {
        "en": "the project's partner {partner!r} is the reviewer's own",
        "th": "พันธมิตรของโครงการ {partner!r} เป็นพันธมิตรของผู้พิจารณาเอง",
    },
    "intake.reason_field": {
        "en": "named in the project's field {field!r}",
        "th": "มีชื่ออยู่ในฟิลด์ {field!r} ของโครงการ",
    },
    "intake.reason_listed": {
        "en": "listed in the journey for partner {partner!r}",
        "th": "ระบุไว้ในเส้นทางสำหรับพันธมิตร {partner!r}",
    },
    "intake.unknown_criterion": {
        "en": "unknown criterion {name!r}; the rubric has: {criteria}",
        "th": "ไม่มีเกณฑ์ {name!r} เกณฑ์ที่มี: {criteria}",
    },
    "intake.off_scale": {
        "en": "score {value!r} for {name!r} is off its scale; give a whole number in "
              "{scale}",
        "th": "คะแนน {value!r} ของ {name!r} อยู่นอกช่วง ให้ใช้จำนวนเต็มในช่วง {scale}",
    },
    "intake.missing_criteria": {
        "en": "a set of scores gives every criterion; missing: {missing} (the rubric: "
              "{criteria})",
        "th": "ชุดคะแนนต้องให้ครบทุกเกณฑ์ ยังขาด: {missing} (เกณฑ์ทั้งหมด: {criteria})",
    },
    "intake.score_as_other": {
        "en": "{who!r} cannot score in the name of {by!r}",
        "th": "{who!r} ให้คะแนนในนามของ {by!r} ไม่ได้",
    },
    "intake.bad_note": {
        "en": "a note is at most 4,000 characters, without NUL characters",
        "th": "หมายเหตุยาวได้ไม่เกิน 4,000 ตัวอักษร และต้องไม่มีอักขระ NUL",
    },
    "intake.left_stage": {
        "en": "project {id} has left the stage {stage!r} (it is in {now!r}); its scores "
              "are final",
        "th": "โครงการ {id} ออกจากขั้น {stage!r} แล้ว (ตอนนี้อยู่ที่ {now!r}) คะแนนของโครงการนี้สิ้นสุดแล้ว",
    },
    "intake.not_assigned": {
        "en": "{who!r} is not assigned to project {id} in the role {role!r}; assigned: "
              "{assigned} (use 'bompao reviews assign' or 'bompao project assign')",
        "th": "{who!r} ไม่ได้รับมอบหมายให้โครงการ {id} ในบทบาท {role!r} ผู้ที่ได้รับมอบหมาย: "
              "{assigned} (ใช้ 'bompao reviews assign' หรือ 'bompao project assign')",
    },
    "intake.top": {
        "en": "--top is at least 1",
        "th": "--top ต้องไม่น้อยกว่า 1",
    },
    "intake.bad_pair": {
        "en": "bad score {pair!r}: give CRITERION=VALUE, e.g. need=4",
        "th": "คะแนน {pair!r} ไม่ถูกต้อง ให้เขียนเป็น CRITERION=VALUE เช่น need=4",
    },
    "intake.scored": {
        "en": "project {id}: {who} scored {scores}",
        "th": "โครงการ {id}: {who} ให้คะแนน {scores}",
    },
    "intake.assigned": {
        "en": "{added} reviewer assignments on {projects} projects; {short} places left "
              "unfilled",
        "th": "มอบหมายผู้พิจารณา {added} ครั้งใน {projects} โครงการ ยังว่างอยู่ {short} ที่",
    },
    "intake.tie_break": {
        "en": "ties broken by more reviewers, then the lower project id",
        "th": "คะแนนเท่ากันให้โครงการที่มีผู้พิจารณามากกว่าอยู่ก่อน แล้วจึงเรียงตามรหัสโครงการที่น้อยกว่า",
    },
    "intake.selected": {
        "en": "{selected} selected by {trigger}, {others} by {other_trigger}",
        "th": "คัดเลือก {selected} โครงการด้วย {trigger} และอีก {others} โครงการด้วย {other_trigger}",
    },
    "intake.would_select": {
        "en": "would select {selected} by {trigger}, {others} by {other_trigger} "
              "(dry run: nothing written)",
        "th": "จะคัดเลือก {selected} โครงการด้วย {trigger} และอีก {others} โครงการด้วย "
              "{other_trigger} (ทดลอง: ไม่ได้บันทึกสิ่งใด)",
    },
    # coaches
    "coach.bad_name": {
        "en": "a coach needs a name (at most 200 characters, no NUL characters)",
        "th": "โค้ชต้องมีชื่อ (ไม่เกิน 200 ตัวอักษร และไม่มีอักขระ NUL)",
    },
    "coach.bad_skill": {
        "en": "bad skill {skill!r}: a skill is a topic name such as 'impact_measurement' "
              "(lowercase letters, digits, _)",
        "th": "ทักษะ {skill!r} ไม่ถูกต้อง ทักษะคือชื่อหัวข้อ เช่น 'impact_measurement' "
              "(ตัวพิมพ์เล็ก ตัวเลข และ _)",
    },
    "coach.bad_capacity": {
        "en": "capacity {capacity!r} is not 1 to 1000 projects",
        "th": "ความจุ {capacity!r} ต้องอยู่ระหว่าง 1 ถึง 1000 โครงการ",
    },
    "coach.exists": {
        "en": "a coach named {name!r} exists already",
        "th": "มีโค้ชชื่อ {name!r} อยู่แล้ว",
    },
    "coach.unknown": {
        "en": "no coach named {name!r}; coaches: {known}",
        "th": "ไม่มีโค้ชชื่อ {name!r} โค้ชที่มี: {known}",
    },
    "coach.none": {
        "en": "there are no coaches yet; add one with 'bompao coaches add NAME --skills "
              "a,b --capacity N'",
        "th": "ยังไม่มีโค้ช ให้เพิ่มด้วย 'bompao coaches add NAME --skills a,b --capacity N'",
    },
    "coach.no_coaching": {
        "en": "journey {ref} declares no coaching; add a 'coaching:' key naming the needs "
              "field",
        "th": "เส้นทาง {ref} ไม่ได้กำหนดการโค้ช ให้เพิ่มคีย์ 'coaching:' ที่ระบุฟิลด์ความต้องการ",
    },
    "coach.bad_minutes": {
        "en": "minutes {minutes!r} is not 1 to 1440",
        "th": "จำนวนนาที {minutes!r} ต้องอยู่ระหว่าง 1 ถึง 1440",
    },
    "coach.bad_date": {
        "en": "bad date {on!r}: expected YYYY-MM-DD, e.g. 2027-03-01",
        "th": "วันที่ {on!r} ไม่ถูกต้อง ต้องเป็น YYYY-MM-DD เช่น 2027-03-01",
    },
    "coach.future": {
        "en": "a session on {on} has not happened yet; today is {today}",
        "th": "การโค้ชวันที่ {on} ยังไม่เกิดขึ้น วันนี้คือ {today}",
    },
    "coach.added": {
        "en": "coach {name} added (capacity {capacity}; skills: {skills})",
        "th": "เพิ่มโค้ช {name} แล้ว (รับได้ {capacity} โครงการ ทักษะ: {skills})",
    },
    "coach.matched": {
        "en": "{count} projects matched, covering {covered} of {needed} needs; {unmatched} "
              "unmatched",
        "th": "จับคู่ได้ {count} โครงการ ครอบคลุม {covered} จาก {needed} ความต้องการ "
              "ยังไม่ได้จับคู่ {unmatched} โครงการ",
    },
    "coach.applied": {
        "en": "assigned: {count} projects",
        "th": "มอบหมายแล้ว {count} โครงการ",
    },
    "coach.nothing_to_change": {
        "en": "nothing to change: give --skills A,B and/or --capacity N",
        "th": "ไม่มีสิ่งที่จะเปลี่ยน ให้ระบุ --skills A,B และ/หรือ --capacity N",
    },
    "coach.edited": {
        "en": "coach {name} changed (capacity {capacity}; skills: {skills})",
        "th": "แก้ไขโค้ช {name} แล้ว (รับได้ {capacity} โครงการ ทักษะ: {skills})",
    },
    "coach.removed": {
        "en": "coach {name} removed; matching no longer proposes them",
        "th": "ลบโค้ช {name} แล้ว การจับคู่จะไม่เสนอโค้ชคนนี้อีก",
    },
    "coach.still_assigned": {
        "en": "still assigned to {count} open projects ({ids}); their assignments stay until "
              "changed with 'bompao project assign'",
        "th": "ยังได้รับมอบหมายใน {count} โครงการที่ยังดำเนินอยู่ ({ids}) การมอบหมายเหล่านี้ยังคงอยู่ "
              "จนกว่าจะเปลี่ยนด้วย 'bompao project assign'",
    },
    "coach.session": {
        "en": "project {id}: {minutes} minutes with {coach} on {on}",
        "th": "โครงการ {id}: โค้ชกับ {coach} {minutes} นาที วันที่ {on}",
    },
}
