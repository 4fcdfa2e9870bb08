"""What the CLI prints when all went well: confirmations, headings, labels.

Confirmations (``created project …``), table headings of the listings, the labels of
``journeys show``, ``project show``, ``project history`` and ``project check``, the
scheduler's lines and the report commands' own text.
"""

from __future__ import annotations

__all__ = ["ENTRIES"]

ENTRIES: dict[str, dict[str, str]] = {
    # confirmations
    "done.valid": {
        "en": "ok: {file} ({ref}: {stages} stages, {transitions} transitions)",
        "th": "ผ่าน: {file} ({ref}: {stages} ขั้น, การเปลี่ยนขั้น {transitions} แบบ)",
    },
    "done.wrote": {"en": "wrote {path}", "th": "บันทึกไฟล์ {path} แล้ว"},
    "done.init": {
        "en": "database ready: {database}\npublished: {refs}",
        "th": "ฐานข้อมูลพร้อมใช้: {database}\nเผยแพร่แล้ว: {refs}",
    },
    "done.published": {"en": "published {ref}", "th": "เผยแพร่ {ref} แล้ว"},
    "done.created": {
        "en": "created project {id} in stage {stage}",
        "th": "สร้างโครงการ {id} ในขั้น {stage} แล้ว",
    },
    "done.attached": {
        "en": "attached {name} to project {id}",
        "th": "แนบ {name} ให้โครงการ {id} แล้ว",
    },
    "done.approved": {
        "en": "{by} approved project {id} as {role} ({count} in this stage)",
        "th": "{by} อนุมัติโครงการ {id} ในบทบาท {role} แล้ว (ในขั้นนี้มีผู้อนุมัติ {count} คน)",
    },
    "done.assigned": {
        "en": "assigned {person} as {role} of project {id}",
        "th": "มอบหมายให้ {person} เป็น {role} ของโครงการ {id} แล้ว",
    },
    "done.advanced": {
        "en": "project {id} is now in stage {stage}",
        "th": "โครงการ {id} อยู่ในขั้น {stage} แล้ว",
    },
    "done.exported": {
        "en": "exported {count} project(s) to {path}",
        "th": "ส่งออก {count} โครงการไปที่ {path} แล้ว",
    },
    "done.imported": {"en": "imported {count} project(s)", "th": "นำเข้า {count} โครงการแล้ว"},
    "done.would_import": {
        "en": "would import {count} project(s)",
        "th": "จะนำเข้า {count} โครงการ (ยังไม่ได้บันทึก)",
    },
    "done.import_ids": {"en": ": ids {first}..{last}", "th": ": รหัส {first}..{last}"},
    "done.migrated": {
        "en": "moved project {id} from version {from_version} ({from_stage}) to "
              "{to_version} ({to_stage})",
        "th": "ย้ายโครงการ {id} จากรุ่น {from_version} ({from_stage}) ไปรุ่น {to_version} "
              "({to_stage}) แล้ว",
    },
    "done.would_migrate": {
        "en": "would move project {id} from version {from_version} ({from_stage}) to "
              "{to_version} ({to_stage})",
        "th": "จะย้ายโครงการ {id} จากรุ่น {from_version} ({from_stage}) ไปรุ่น {to_version} "
              "({to_stage}) (ยังไม่ได้บันทึก)",
    },
    "done.forgot": {"en": "forgot daemon {name}", "th": "ล้างสัญญาณชีพของเดมอน {name} แล้ว"},
    "done.retry_one": {
        "en": "{count} follow-up pending again, due now",
        "th": "งานติดตาม {count} รายการกลับมารอทำอีกครั้ง ถึงกำหนดตอนนี้",
    },
    "done.retry_many": {
        "en": "{count} follow-ups pending again, due now",
        "th": "งานติดตาม {count} รายการกลับมารอทำอีกครั้ง ถึงกำหนดตอนนี้",
    },
    "warn.skipped": {"en": "skipped {problem}", "th": "ข้าม {problem}"},
    # journeys list
    "head.journeys": {
        "en": "journey|version|title|partner|extends|stages",
        "th": "เส้นทาง|รุ่น|ชื่อ|ภาคี|ต่อยอดจาก|ขั้น",
    },
    "cell.invalid": {"en": "(invalid)", "th": "(ไม่ถูกต้อง)"},
    # project list, followups list
    "head.projects": {
        "en": "id|name|journey|stage|partner|cohort|flags",
        "th": "รหัส|ชื่อ|เส้นทาง|ขั้น|ภาคี|รุ่นผู้เข้าร่วม|ธง",
    },
    "head.followups": {
        "en": "id|project|stage|follow-up|action|due|status|error",
        "th": "รหัส|โครงการ|ขั้น|งานติดตาม|การทำงาน|ถึงกำหนด|สถานะ|ข้อผิดพลาด",
    },
    # journeys show
    "show.timezone": {"en": "timezone {value}", "th": "เขตเวลา {value}"},
    "show.calendar": {"en": "calendar {value}", "th": "ปฏิทินวันหยุด {value}"},
    "show.no_calendar": {"en": "weekends only", "th": "เฉพาะเสาร์อาทิตย์"},
    "show.partner": {"en": "partner {value}", "th": "ภาคี {value}"},
    "show.extends": {"en": "extends {value}", "th": "ต่อยอดจาก {value}"},
    "show.roles": {"en": "Roles: {roles}", "th": "บทบาท: {roles}"},
    "show.stages": {"en": "Stages", "th": "ขั้น"},
    "show.transitions": {"en": "Transitions", "th": "การเปลี่ยนขั้น"},
    "show.fields": {"en": "Fields", "th": "ข้อมูล"},
    "show.evidence": {"en": "Evidence", "th": "หลักฐาน"},
    "show.role_column": {"en": "Roles", "th": "บทบาท"},
    "show.follow_ups": {"en": "Follow-ups", "th": "การติดตาม"},
    "show.gate": {"en": "gate", "th": "เงื่อนไข"},
    "show.anyone": {"en": "anyone", "th": "ทุกคน"},
    "show.initial": {"en": "initial", "th": "ขั้นเริ่มต้น"},
    "show.final": {"en": "final", "th": "ขั้นสุดท้าย"},
    "show.after": {"en": "after {duration}", "th": "หลัง {duration}"},
    "show.after_every": {
        "en": "after {duration}, then every {every}",
        "th": "หลัง {duration} แล้วทุก {every}",
    },
    "show.every": {"en": "every {every}", "th": "ทุก {every}"},
    "show.at": {"en": "at {at}", "th": "เมื่อถึง {at}"},
    "show.calendar_long": {
        "en": "{country} ({categories}{weekend}{added}{removed})",
        "th": "{country} ({categories}{weekend}{added}{removed})",
    },
    "show.calendar_weekend": {"en": "; weekend {days}", "th": " วันหยุดสุดสัปดาห์ {days}"},
    "show.calendar_added": {"en": "; {count} days added", "th": " เพิ่ม {count} วัน"},
    "show.calendar_removed": {"en": "; {count} days removed", "th": " ตัดออก {count} วัน"},
    # project show
    "project.title": {"en": "project {id}: {name}", "th": "โครงการ {id}: {name}"},
    "project.journey": {"en": "journey", "th": "เส้นทาง"},
    "project.stage": {"en": "stage", "th": "ขั้น"},
    "project.since": {"en": "{stage} (since {since})", "th": "{stage} (ตั้งแต่ {since})"},
    "project.partner": {"en": "partner", "th": "ภาคี"},
    "project.cohort": {"en": "cohort", "th": "รุ่นผู้เข้าร่วม"},
    "project.flags": {"en": "flags", "th": "ธง"},
    "project.evidence": {"en": "evidence", "th": "หลักฐาน"},
    # project history: the kinds of events
    "event.created": {"en": "created", "th": "สร้าง"},
    "event.fields_set": {"en": "fields_set", "th": "กรอกข้อมูล"},
    "event.evidence_added": {"en": "evidence_added", "th": "แนบหลักฐาน"},
    "event.approved": {"en": "approved", "th": "อนุมัติ"},
    "event.assigned": {"en": "assigned", "th": "มอบหมาย"},
    "event.flagged": {"en": "flagged", "th": "ติดธง"},
    "event.unflagged": {"en": "unflagged", "th": "ปลดธง"},
    "event.advanced": {"en": "advanced", "th": "เปลี่ยนขั้น"},
    "event.migrated": {"en": "migrated", "th": "ย้ายรุ่น"},
    "event.follow_up": {"en": "follow_up", "th": "งานติดตาม"},
    # project check
    "check.passable": {"en": "passable", "th": "ผ่านได้"},
    "check.not_passable": {"en": "not passable", "th": "ยังผ่านไม่ได้"},
    "check.verdict": {
        "en": "project {id}: {trigger} ({source} -> {dest}) is {verdict}",
        "th": "โครงการ {id}: {trigger} ({source} -> {dest}) {verdict}",
    },
    "check.branch_taken": {
        "en": "branch {number} of {count} -> {dest} would be taken",
        "th": "จะไปทางแยกที่ {number} จาก {count} ทาง -> {dest}",
    },
    "check.no_branch": {
        "en": "no branch's gate is met (an override takes branch 1 -> {dest})",
        "th": "ยังไม่มีทางแยกใดผ่านเงื่อนไข (การข้ามเงื่อนไขจะไปทางแยกที่ 1 -> {dest})",
    },
    "check.branches": {
        "en": "project {id}: {trigger} from {source} is {verdict}: {outcome}; branches are "
              "tried in order, the first passable wins",
        "th": "โครงการ {id}: {trigger} จาก {source} {verdict}: {outcome} ระบบลองทางแยก"
              "ตามลำดับ ทางแรกที่ผ่านได้จะถูกเลือก",
    },
    "check.branch": {
        "en": "{number}. -> {dest}: {state}{taken}",
        "th": "{number}. -> {dest}: {state}{taken}",
    },
    "check.taken": {"en": "  <- taken", "th": "  <- ทางที่เลือก"},
    # scheduler
    "scheduler.summary": {
        "en": "claimed {claimed}, done {done}, failed {failed}, refused {refused}, "
              "cancelled {cancelled}, lost {lost}",
        "th": "รับงาน {claimed}, สำเร็จ {done}, ล้มเหลว {failed}, ถูกปฏิเสธ {refused}, "
              "ยกเลิก {cancelled}, สูญหาย {lost}",
    },
    "scheduler.daemons": {"en": "daemons: {alive} alive", "th": "เดมอน: ทำงานอยู่ {alive}"},
    "scheduler.silent": {"en": ", {count} silent", "th": ", เงียบ {count}"},
    "scheduler.daemon": {
        "en": "  {name} (pid {pid} on {host}) last beat {beat}",
        "th": "  {name} (PID {pid} บน {host}) สัญญาณชีพล่าสุด {beat}",
    },
    "scheduler.daemon_silent": {"en": "  SILENT", "th": "  เงียบ"},
    "scheduler.due": {
        "en": "due now: {due}, oldest due {lag} s ago",
        "th": "ถึงกำหนดตอนนี้: {due}, รายการที่ค้างนานที่สุดถึงกำหนดเมื่อ {lag} วินาทีก่อน",
    },
    "scheduler.failed": {"en": "failed: {count}", "th": "ล้มเหลว: {count}"},
    "scheduler.failed_one": {
        "en": "  #{id} project {project} {spec} ({action}): {error}",
        "th": "  #{id} โครงการ {project} {spec} ({action}): {error}",
    },
    "scheduler.unconfigured": {
        "en": "will fail (not configured): {count}",
        "th": "จะล้มเหลว (ยังไม่ได้ตั้งค่า): {count}",
    },
    # follow-ups that will fail for want of configuration (warnings, scheduler status)
    "unconfigured.will_fail": {
        "en": "{ref} stage {stage!r} follow-up {name!r} ({action}) will fail: {missing}",
        "th": "{ref} ขั้น {stage!r} งานติดตาม {name!r} ({action}) จะล้มเหลว: {missing}",
    },
    "unconfigured.webhook": {
        "en": "webhook endpoint {endpoint!r} is not in the configuration ([webhooks.NAME]; "
              "configured: {configured})",
        "th": "ปลายทางเว็บฮุก {endpoint!r} ไม่อยู่ในการตั้งค่า ('[webhooks.NAME]' ที่ตั้งไว้: "
              "{configured})",
    },
    "unconfigured.none": {"en": "none configured", "th": "ยังไม่ได้ตั้งค่า"},
    "unconfigured.email": {
        "en": "email needs an SMTP server ([smtp] host)",
        "th": "อีเมลต้องมีเซิร์ฟเวอร์ SMTP ('[smtp] host')",
    },
    "unconfigured.notify_email": {
        "en": "the notify channel 'email' needs an SMTP server ([smtp] host)",
        "th": "ช่องทางแจ้งเตือน 'email' ต้องมีเซิร์ฟเวอร์ SMTP ('[smtp] host')",
    },
    # demo and simulate
    "demo.progress": {
        "en": "simulating a call and 14 months of incubation",
        "th": "กำลังจำลองการรับสมัครและการบ่มเพาะ 14 เดือน",
    },
    "demo.summary": {
        "en": "{projects} projects, {advanced} advances, {refused} refused by their gates, "
              "{runs} follow-ups run",
        "th": "{projects} โครงการ เปลี่ยนขั้น {advanced} ครั้ง ถูกเงื่อนไขปฏิเสธ {refused} "
              "ครั้ง งานติดตามทำงาน {runs} ครั้ง",
    },
    "demo.intake": {
        "en": "call: {applied} applied, {reviewed} reviewed ({scores} scores by {reviewers} "
              "reviewers), {selected} selected, {declined} declined",
        "th": "รับสมัคร: สมัคร {applied} โครงการ ได้รับการพิจารณา {reviewed} โครงการ "
              "(ให้คะแนน {scores} ครั้ง โดยกรรมการ {reviewers} คน) คัดเลือก {selected} "
              "โครงการ ไม่ผ่านการคัดเลือก {declined} โครงการ",
    },
    "demo.database": {"en": "database: {database}", "th": "ฐานข้อมูล: {database}"},
    "demo.report": {"en": "HTML report: {path}", "th": "รายงาน HTML: {path}"},
    # bompao audit
    "audit.checked": {"en": "checked: {checked}", "th": "ตรวจแล้ว: {checked}"},
    "audit.totals": {"en": "violations: {violations}, warnings: {warnings}",
                     "th": "ผิดกฎ: {violations} คำเตือน: {warnings}"},
    "audit.count.projects": {"en": "projects {count}", "th": "โครงการ {count}"},
    "audit.count.events": {"en": "events {count}", "th": "เหตุการณ์ {count}"},
    "audit.count.transitions": {"en": "transitions {count}", "th": "การเปลี่ยนขั้น {count}"},
    "audit.count.overrides": {"en": "overrides {count}", "th": "การข้ามเงื่อนไข {count}"},
    "audit.count.follow_ups": {"en": "follow_ups {count}", "th": "การติดตาม {count}"},
    "audit.count.pending": {"en": "pending {count}", "th": "รอดำเนินการ {count}"},
    "audit.count.runs": {"en": "runs {count}", "th": "การทำงาน {count}"},
    "audit.count.stage_visits": {"en": "stage_visits {count}", "th": "การอยู่ในขั้น {count}"},
    "audit.count.journeys": {"en": "journeys {count}", "th": "เส้นทาง {count}"},
    "audit.project": {"en": "project {id}", "th": "โครงการ {id}"},
    "audit.event": {"en": "event {seq}", "th": "เหตุการณ์ {seq}"},
    "audit.follow_up": {"en": "follow-up {id}", "th": "การติดตาม {id}"},
}
