"""Refusals and bad input: what the engine and the CLI refuse, and why.

Gate refused, trigger not offered, conflicts, permission denied, not found, values
that do not fit, and the CLI's own usage errors. The English is what the error's
``str()`` has always been; the Thai is what ``bompao --lang th`` prints.
"""

from __future__ import annotations

__all__ = ["ENTRIES"]

ENTRIES: dict[str, dict[str, str]] = {
    # words used inside other messages
    "none": {"en": "none", "th": "ไม่มี"},
    "no_role": {"en": "no role", "th": "ไม่มีบทบาท"},
    "who.anonymous": {"en": "an anonymous caller", "th": "ผู้เรียกที่ไม่ระบุชื่อ"},
    "who.caller": {"en": "the caller", "th": "ผู้เรียก"},
    "text.name": {"en": "name", "th": "ชื่อ"},
    "text.partner": {"en": "partner", "th": "ภาคี"},
    "text.cohort": {"en": "cohort", "th": "รุ่นผู้เข้าร่วม"},
    "text.evidence": {"en": "evidence", "th": "หลักฐาน"},
    "text.url": {"en": "url", "th": "ลิงก์"},
    "text.note": {"en": "note", "th": "บันทึก"},
    "text.approver": {"en": "approver", "th": "ผู้อนุมัติ"},
    "text.person": {"en": "person", "th": "บุคคล"},
    "text.flag": {"en": "flag", "th": "ธง"},
    # not found
    "project.not_found": {
        "en": "no project with id {id}",
        "th": "ไม่มีโครงการรหัส {id}",
    },
    "project.not_yet": {
        "en": "project {id} did not exist yet at {when}",
        "th": "เมื่อ {when} ยังไม่มีโครงการ {id}",
    },
    "project.final_stage": {
        "en": "project {id} is in the final stage {stage!r}; it has no transitions",
        "th": "โครงการ {id} อยู่ในขั้นสุดท้าย {stage!r} แล้ว จึงไม่มีการเปลี่ยนขั้นต่อไป",
    },
    "journey.unknown_known": {
        "en": "unknown journey {name!r}; known: {known}",
        "th": "ไม่รู้จักเส้นทาง {name!r} เส้นทางที่มี: {known}",
    },
    "journey.unknown": {
        "en": "unknown journey {name!r}; known journeys: {known}",
        "th": "ไม่รู้จักเส้นทาง {name!r} เส้นทางที่มี: {known}",
    },
    "journey.unknown_version": {
        "en": "unknown journey version '{name}@{version}'; known: {known}",
        "th": "ไม่มีเส้นทาง '{name}@{version}' รุ่นที่มี: {known}",
    },
    "journey.bad_ref": {
        "en": "bad journey reference {ref!r}: expected KEY or KEY@VERSION, e.g. "
              "'social-incubator@1'",
        "th": "การอ้างถึงเส้นทาง {ref!r} ไม่ถูกต้อง: ต้องเป็น KEY หรือ KEY@VERSION "
              "เช่น 'social-incubator@1'",
    },
    "trigger.unknown": {
        "en": "unknown trigger {trigger!r} in journey {ref}; from stage {stage!r} the "
              "triggers are: {offered}",
        "th": "ไม่มีทริกเกอร์ {trigger!r} ในเส้นทาง {ref} ทริกเกอร์จากขั้น {stage!r} มี: "
              "{offered}",
    },
    "trigger.not_offered": {
        "en": "trigger {trigger!r} is not available in stage {stage!r}; available: {offered}",
        "th": "ขั้น {stage!r} ไม่มีทริกเกอร์ {trigger!r} ที่ใช้ได้คือ: {offered}",
    },
    "trigger.none_final": {
        "en": "none (the stage is final)",
        "th": "ไม่มี (เป็นขั้นสุดท้าย)",
    },
    "file.missing": {"en": "no such file: {path!r}", "th": "ไม่มีไฟล์ {path!r}"},
    "file.missing_any": {
        "en": "no such file or directory: {path!r}",
        "th": "ไม่มีไฟล์หรือโฟลเดอร์ {path!r}",
    },
    "file.not_a_file": {
        "en": "not a file: {path!r} (give a .yaml file or a directory)",
        "th": "{path!r} ไม่ใช่ไฟล์ (ให้ระบุไฟล์ .yaml หรือโฟลเดอร์)",
    },
    "file.no_yaml": {
        "en": "no .yaml files in directory {path!r}",
        "th": "ไม่มีไฟล์ .yaml ในโฟลเดอร์ {path!r}",
    },
    "file.no_journeys_dir": {
        "en": "journeys directory {path!r} does not exist",
        "th": "ไม่มีโฟลเดอร์เส้นทาง {path!r}",
    },
    "file.cannot_write": {
        "en": "cannot write {path!r}: {reason}",
        "th": "เขียนไฟล์ {path!r} ไม่ได้: {reason}",
    },
    "file.cannot_read": {
        "en": "cannot read {path!r}: {reason}",
        "th": "อ่านไฟล์ {path!r} ไม่ได้: {reason}",
    },
    "file.cannot_create": {
        "en": "cannot create {path!r}: {reason}",
        "th": "สร้างโฟลเดอร์ {path!r} ไม่ได้: {reason}",
    },
    "daemon.not_found": {
        "en": "no daemon named {name!r} has a heartbeat; daemons: {known}",
        "th": "ไม่มีเดมอนชื่อ {name!r} ที่ส่งสัญญาณชีพ เดมอนที่มี: {known}",
    },
    "daemon.alive": {
        "en": "daemon {name!r} is alive (pid {pid} on {host}, last beat {beat}); stop it "
              "instead",
        "th": "เดมอน {name!r} ยังทำงานอยู่ (PID {pid} บน {host} สัญญาณชีพล่าสุด {beat}) "
              "ให้หยุดเดมอนแทน",
    },
    "followup.not_found": {
        "en": "no follow-up with id {id}{more}; see 'bompao followups list --status failed'",
        "th": "ไม่มีงานติดตามรหัส {id}{more} ดูได้ด้วย 'bompao followups list --status failed'",
    },
    "followup.not_found_more": {"en": " (nor {ids})", "th": " (และ {ids} ก็ไม่มี)"},
    "followup.not_failed": {
        "en": "follow-up {id} is {status}, not failed; only failed follow-ups can be "
              "retried (nothing was changed)",
        "th": "งานติดตาม {id} มีสถานะ {status} ไม่ใช่ล้มเหลว ลองใหม่ได้เฉพาะงานติดตามที่"
              "ล้มเหลว (ไม่มีการเปลี่ยนแปลงใด ๆ)",
    },
    # conflicts
    "conflict.changed": {
        "en": "project {id} was changed by someone else meanwhile; nothing was written: "
              "read it again and retry",
        "th": "โครงการ {id} ถูกผู้อื่นแก้ไขในระหว่างนี้ จึงยังไม่ได้บันทึกสิ่งใด: "
              "ให้อ่านข้อมูลใหม่แล้วลองอีกครั้ง",
    },
    "conflict.stale": {
        "en": "project {id} has changed: it is at version {now}, not {expected} (the ETag "
              "or expected version given); nothing was written: read it again and retry",
        "th": "โครงการ {id} เปลี่ยนไปแล้ว: ตอนนี้เป็นรุ่น {now} ไม่ใช่ {expected} (ตาม 'ETag' "
              "หรือรุ่นที่ระบุ) จึงยังไม่ได้บันทึกสิ่งใด: ให้อ่านข้อมูลใหม่แล้วลองอีกครั้ง",
    },
    "conflict.changed_journey": {
        "en": "project {id} changed journey meanwhile; retry",
        "th": "โครงการ {id} เปลี่ยนเส้นทางไปในระหว่างนี้ ให้ลองอีกครั้ง",
    },
    "conflict.published": {
        "en": "journey {ref} is already published with different content; a published "
              "version never changes: give it a new version",
        "th": "เส้นทาง {ref} เผยแพร่ไปแล้วด้วยเนื้อหาอื่น รุ่นที่เผยแพร่แล้วเปลี่ยนไม่ได้: "
              "ให้ตั้งเลขรุ่นใหม่",
    },
    "conflict.approved": {
        "en": "{who!r} has already approved project {id} as {role!r} in stage {stage!r}",
        "th": "{who!r} อนุมัติโครงการ {id} ในบทบาท {role!r} ในขั้น {stage!r} ไปแล้ว",
    },
    "conflict.migrate": {
        "en": "cannot migrate project {id}: {problems}",
        "th": "ย้ายโครงการ {id} ไม่ได้: {problems}",
    },
    "migrate.no_target": {
        "en": "--map names stage {old!r} which {ref} lacks as target {new!r}",
        "th": "--map ระบุให้ขั้น {old!r} ไปเป็น {new!r} แต่ {ref} ไม่มีขั้นนั้น",
    },
    "migrate.no_counterpart": {
        "en": "stage {stage!r} has no counterpart in {ref}; map it with --map {stage}=NEW "
              "(stages: {stages})",
        "th": "ขั้น {stage!r} ไม่มีขั้นที่ตรงกันใน {ref} ให้จับคู่ด้วย --map {stage}=NEW "
              "(ขั้นที่มี: {stages})",
    },
    # permission denied
    "permission.scope": {
        "en": "{option} {partner!r} is outside this session's partner scope "
              "(bompao --partner {scope})",
        "th": "{option} {partner!r} อยู่นอกขอบเขตภาคีของการใช้งานนี้ "
              "(bompao --partner {scope})",
    },
    "permission.create_for_partner": {
        "en": "{who!r} acts for partner {scope!r} and cannot create projects for {partner!r}",
        "th": "{who!r} ทำงานในนามภาคี {scope!r} จึงสร้างโครงการให้ {partner!r} ไม่ได้",
    },
    "permission.other_partner": {
        "en": "{who!r} acts for partner {scope!r} and cannot see partner {partner!r}'s "
              "projects",
        "th": "{who!r} ทำงานในนามภาคี {scope!r} จึงดูโครงการของภาคี {partner!r} ไม่ได้",
    },
    "permission.approve_as_other": {
        "en": "{who!r} cannot approve in the name of {by!r}: an actor approves as itself "
              "(leave out by, or pass by=actor.name)",
        "th": "{who!r} อนุมัติในนามของ {by!r} ไม่ได้: ผู้ใช้อนุมัติได้ในนามของตนเองเท่านั้น "
              "(ไม่ต้องระบุ 'by' หรือให้ 'by=actor.name')",
    },
    "permission.approve_role": {
        "en": "{who!r} does not hold the role {role!r} and cannot approve as it; {who!r} "
              "holds: {roles}",
        "th": "{who!r} ไม่มีบทบาท {role!r} จึงอนุมัติในบทบาทนี้ไม่ได้ บทบาทที่ {who!r} มี: "
              "{roles}",
    },
    "permission.assign": {
        "en": "assigning people in journey {ref} needs one of the roles {allowed}; {who!r} "
              "holds: {roles}",
        "th": "การมอบหมายคนในเส้นทาง {ref} ต้องมีบทบาทใดบทบาทหนึ่ง: {allowed} "
              "บทบาทที่ {who!r} มี: {roles}",
    },
    "permission.role_not_held": {
        "en": "{who} does not hold the role {role!r}",
        "th": "{who} ไม่มีบทบาท {role!r}",
    },
    "permission.trigger_roles": {
        "en": "trigger {trigger!r} needs one of the roles {roles}; {who} acts as {acting}",
        "th": "ทริกเกอร์ {trigger!r} ต้องใช้บทบาทใดบทบาทหนึ่ง: {roles} แต่ {who} "
              "ทำในบทบาท: {acting}",
    },
    "permission.override": {
        "en": "overriding the gate of {trigger!r} needs one of the roles: {allowed}",
        "th": "การข้ามเงื่อนไขของ {trigger!r} ต้องใช้บทบาทใดบทบาทหนึ่ง: {allowed}",
    },
    # a gate refused
    "gate.refused": {
        "en": "project {project} cannot {trigger!r} from {source!r} to {dest!r}: "
              "missing {missing}",
        "th": "โครงการ {project} ใช้ {trigger!r} จาก {source!r} ไป {dest!r} ไม่ได้: "
              "ยังขาด {missing}",
    },
    "gate.refused_branches": {
        "en": "project {project} cannot {trigger!r} from {source!r}: no branch's gate is "
              "met ({each})",
        "th": "โครงการ {project} ใช้ {trigger!r} จาก {source!r} ไม่ได้: ไม่มีทางแยกใด"
              "ผ่านเงื่อนไข ({each})",
    },
    "gate.branch_missing": {
        "en": "to {dest!r} missing {missing}",
        "th": "ไป {dest!r} ยังขาด {missing}",
    },
    "gate.its_gate": {"en": "its gate", "th": "เงื่อนไขของทางนั้น"},
    "gate.not_met": {"en": "the gate is not met", "th": "ยังไม่ผ่านเงื่อนไข"},
    "gate.refused_many": {
        "en": "{refused} of {total} projects do not meet the gate of {trigger!r}; nothing "
              "moved: {listing}{more}",
        "th": "{refused} จาก {total} โครงการยังไม่ผ่านเงื่อนไขของ {trigger!r} "
              "จึงไม่มีโครงการใดย้ายขั้น: {listing}{more}",
    },
    "gate.refused_one": {"en": "{project}: {missing}", "th": "{project}: {missing}"},
    "gate.and_more": {"en": " (and {count} more)", "th": " (และอีก {count} โครงการ)"},
    # values that do not fit
    "value.project_name": {
        "en": "a project needs a non-empty name",
        "th": "โครงการต้องมีชื่อที่ไม่ว่าง",
    },
    "value.no_fields": {
        "en": "give at least one FIELD=VALUE",
        "th": "ให้ระบุ FIELD=VALUE อย่างน้อยหนึ่งค่า",
    },
    "value.evidence_empty": {
        "en": "evidence {name!r} needs a url or a note",
        "th": "หลักฐาน {name!r} ต้องมีลิงก์หรือบันทึก",
    },
    "value.evidence_unknown": {
        "en": "unknown evidence item {name!r} in journey {ref}; evidence items: {known}",
        "th": "ไม่มีหลักฐาน {name!r} ในเส้นทาง {ref} หลักฐานที่มี: {known}",
    },
    "value.approver": {
        "en": "an approval needs the approver's name (--by)",
        "th": "การอนุมัติต้องมีชื่อผู้อนุมัติ (--by)",
    },
    "value.person": {
        "en": "an assignment needs a person (--to)",
        "th": "การมอบหมายต้องระบุบุคคล (--to)",
    },
    "value.flag": {
        "en": "a flag needs a name, e.g. at_risk",
        "th": "ธงต้องมีชื่อ เช่น at_risk",
    },
    "value.reason": {
        "en": "an override needs a reason (--reason TEXT)",
        "th": "การข้ามเงื่อนไขต้องมีเหตุผล (--reason TEXT)",
    },
    "value.aware_time": {
        "en": "give an aware time, e.g. 2026-03-01T09:00:00+07:00",
        "th": "ให้ระบุเวลาพร้อมเขตเวลา เช่น 2026-03-01T09:00:00+07:00",
    },
    "value.status": {
        "en": "unknown status {status!r}; statuses: {known}",
        "th": "ไม่รู้จักสถานะ {status!r} สถานะที่มี: {known}",
    },
    "value.nul": {
        "en": "the {what} {value!r} holds a NUL character; remove it",
        "th": "{what} {value!r} มีอักขระ NUL ให้ลบออก",
    },
    "value.too_long": {
        "en": "the {what} is {length:,} characters long; at most {limit:,} are allowed",
        "th": "{what} ยาว {length:,} อักขระ แต่ยาวได้ไม่เกิน {limit:,} อักขระ",
    },
    "value.role_unknown": {
        "en": "unknown role {role!r} in journey {ref}; roles: {known}",
        "th": "ไม่มีบทบาท {role!r} ในเส้นทาง {ref} บทบาทที่มี: {known}",
    },
    # the CLI's own usage errors
    "usage.partner_empty": {
        "en": "--partner (or BOMPAO_PARTNER) needs a partner's name",
        "th": "--partner (หรือ BOMPAO_PARTNER) ต้องระบุชื่อภาคี",
    },
    "usage.unscoped": {
        "en": "'bompao {command}' acts for every partner and cannot run with --partner "
              "{scope}; run it without --partner (or BOMPAO_PARTNER)",
        "th": "'bompao {command}' ทำงานกับทุกภาคี จึงใช้กับ --partner {scope} ไม่ได้ "
              "ให้เรียกโดยไม่มี --partner (หรือ BOMPAO_PARTNER)",
    },
    "usage.assignment": {
        "en": "bad {what} {pair!r}: expected NAME=VALUE",
        "th": "{what} {pair!r} ไม่ถูกต้อง: ต้องเป็น NAME=VALUE",
    },
    "usage.other_journey": {
        "en": "project {id} follows {ref}, not {journey!r}",
        "th": "โครงการ {id} อยู่ในเส้นทาง {ref} ไม่ใช่ {journey!r}",
    },
    "usage.needs_by": {"en": "{option} needs --by NAME", "th": "{option} ต้องมี --by NAME"},
    "usage.ids_or_failed": {
        "en": "give follow-up IDs or --failed (not both)",
        "th": "ให้ระบุรหัสงานติดตาม (ID) หรือ --failed อย่างใดอย่างหนึ่ง",
    },
    "usage.with_failed": {
        "en": "--project and --since go with --failed, not with IDs",
        "th": "--project และ --since ใช้คู่กับ --failed ไม่ใช่กับรหัสงานติดตาม",
    },
    "usage.table_output": {
        "en": "--format table prints to the terminal; use csv, json or html with -o",
        "th": "--format table แสดงผลบนเทอร์มินัลเท่านั้น ถ้าใช้ -o ให้เลือก csv, json "
              "หรือ html",
    },
    "usage.now_needs_once": {"en": "--now needs --once", "th": "--now ต้องใช้คู่กับ --once"},
    "usage.daemon_name": {
        "en": "--name needs a daemon name",
        "th": "--name ต้องระบุชื่อเดมอน",
    },
    "usage.see_help": {"en": " (see '{command} --help')", "th": " (ดู '{command} --help')"},
    "fail.aborted": {"en": "aborted", "th": "ยกเลิกแล้ว"},
    "fail.interrupted": {"en": "interrupted", "th": "ถูกขัดจังหวะ"},
    "fail.database": {
        "en": "the database refused the operation: {reason}",
        "th": "ฐานข้อมูลปฏิเสธการทำงานนี้: {reason}",
    },
    "fail.internal": {
        "en": "internal error: {kind}: {error} (run with --debug for the traceback and "
              "report it)",
        "th": "ข้อผิดพลาดภายใน: {kind}: {error} (เรียกใหม่พร้อม --debug เพื่อดูรายละเอียด"
              "แล้วแจ้งปัญหานี้)",
    },
}
