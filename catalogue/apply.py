"""The intake doors of the web app: the public application form (``/apply/KEY``), its
status page and the inbound webhooks (``/hooks/NAME``)."""

from __future__ import annotations

__all__ = ["ENTRIES"]

ENTRIES: dict[str, dict[str, str]] = {
    # refusals
    "apply.no_form": {
        "en": "journey {ref} takes no applications: it declares no 'application:' form",
        "th": "เส้นทาง {ref} ไม่เปิดรับใบสมัคร เพราะไม่ได้กำหนดแบบฟอร์ม 'application:'",
    },
    "apply.unknown_reference": {
        "en": "no application has this reference; check the link you were given",
        "th": "ไม่พบใบสมัครที่มีรหัสอ้างอิงนี้ โปรดตรวจสอบลิงก์ที่ได้รับ",
    },
    "apply.name_required": {
        "en": "the application needs a project name",
        "th": "ใบสมัครต้องมีชื่อโครงการ",
    },
    "apply.rate_limited": {
        "en": "too many applications from your address: at most {limit} per hour; try "
              "again in {minutes} minute(s)",
        "th": "ส่งใบสมัครจากที่อยู่ของคุณมากเกินไป ส่งได้ไม่เกิน {limit} ครั้งต่อชั่วโมง "
              "ลองใหม่ในอีก {minutes} นาที",
    },
    "apply.stale_form": {
        "en": "this form has expired (or cookies are off); open the form again and resend "
              "it",
        "th": "แบบฟอร์มนี้หมดอายุแล้ว (หรือปิดคุกกี้ไว้) โปรดเปิดแบบฟอร์มใหม่แล้วส่งอีกครั้ง",
    },
    "hook.unknown": {
        "en": "no inbound hook {name!r} is configured",
        "th": "ไม่ได้ตั้งค่าเว็บฮุกขาเข้า {name!r} ไว้",
    },
    "hook.no_signature": {
        "en": "missing signature: send the header X-Bompao-Signature: sha256=HEX, the "
              "HMAC-SHA256 of the raw body with the hook's secret; nothing was written",
        "th": "ไม่มีลายเซ็น ให้ส่งส่วนหัว X-Bompao-Signature: sha256=HEX ซึ่งเป็น HMAC-SHA256 "
              "ของเนื้อหาดิบด้วยรหัสลับของเว็บฮุก ไม่ได้บันทึกข้อมูลใด",
    },
    "hook.bad_signature": {
        "en": "wrong signature: X-Bompao-Signature is not the HMAC-SHA256 of this body "
              "with the hook's secret; nothing was written",
        "th": "ลายเซ็นไม่ถูกต้อง X-Bompao-Signature ไม่ตรงกับ HMAC-SHA256 ของเนื้อหานี้ด้วย"
              "รหัสลับของเว็บฮุก ไม่ได้บันทึกข้อมูลใด",
    },
    "hook.not_json": {
        "en": "the body is not a JSON object: {problem}; nothing was written",
        "th": "เนื้อหาไม่ใช่ออบเจกต์ JSON: {problem} ไม่ได้บันทึกข้อมูลใด",
    },
    "hook.bad_value": {
        "en": "the value at {path!r} for {name!r} is a {kind}; give text, a number, a "
              "true/false or a list of them",
        "th": "ค่าที่ {path!r} สำหรับ {name!r} เป็น {kind} ให้ใช้ข้อความ ตัวเลข จริง/เท็จ "
              "หรือรายการของค่าเหล่านี้",
    },
    "hook.no_name": {
        "en": "the submission has no project name at {path!r}; nothing was written",
        "th": "ข้อมูลที่ส่งมาไม่มีชื่อโครงการที่ {path!r} ไม่ได้บันทึกข้อมูลใด",
    },
    # the form's page texts
    "apply.page.title": {"en": "Apply: {title}", "th": "สมัคร: {title}"},
    "apply.page.intro": {
        "en": "Fields marked * are required. You will get a reference to follow your "
              "application.",
        "th": "ช่องที่มีเครื่องหมาย * ต้องกรอก เมื่อส่งแล้วคุณจะได้รับรหัสอ้างอิงเพื่อติดตามใบสมัคร",
    },
    "apply.page.dates": {"en": "Open from {opens} to {closes}.",
                         "th": "เปิดรับตั้งแต่ {opens} ถึง {closes}"},
    "apply.page.name": {"en": "Project name", "th": "ชื่อโครงการ"},
    "apply.page.required": {"en": "required", "th": "จำเป็น"},
    "apply.page.list_hint": {"en": "Separate several with commas.",
                             "th": "หากมีหลายรายการ ให้คั่นด้วยจุลภาค"},
    "apply.page.yes": {"en": "Yes", "th": "ใช่"},
    "apply.page.no": {"en": "No", "th": "ไม่ใช่"},
    "apply.page.trap": {"en": "Leave this empty", "th": "เว้นช่องนี้ว่างไว้"},
    "apply.page.submit": {"en": "Send the application", "th": "ส่งใบสมัคร"},
    "apply.page.fix": {"en": "Please correct the marked field.",
                       "th": "โปรดแก้ไขช่องที่ทำเครื่องหมายไว้"},
    "apply.page.thanks": {"en": "Thank you: your application is in.",
                          "th": "ขอบคุณ เราได้รับใบสมัครของคุณแล้ว"},
    "apply.page.reference": {
        "en": "Your reference is {reference}. Keep this link to follow your application:",
        "th": "รหัสอ้างอิงของคุณคือ {reference} เก็บลิงก์นี้ไว้เพื่อติดตามใบสมัคร:"},
    "apply.page.received": {"en": "Thank you.", "th": "ขอบคุณ"},
    "apply.page.not_open": {
        "en": "Applications to {title} open on {opens}; today is {today}. Nothing was sent.",
        "th": "การรับสมัคร {title} เปิดวันที่ {opens} วันนี้คือ {today} ยังไม่มีการส่งข้อมูลใด"},
    "apply.page.closed": {
        "en": "Applications to {title} closed on {closes}; today is {today}. Nothing was sent.",
        "th": "การรับสมัคร {title} ปิดไปแล้วเมื่อวันที่ {closes} วันนี้คือ {today} "
              "ไม่มีการส่งข้อมูลใด"},
    "apply.page.too_many": {"en": "Too many applications", "th": "ส่งใบสมัครมากเกินไป"},
    "apply.status.title": {"en": "Your application", "th": "ใบสมัครของคุณ"},
    "apply.status.journey": {"en": "Call", "th": "การรับสมัคร"},
    "apply.status.stage": {"en": "Stage", "th": "ขั้น"},
    "apply.status.received": {"en": "Received", "th": "ได้รับเมื่อ"},
    # the calendar feed
    "ical.session": {"en": "{project}: coaching session ({minutes} min)",
                     "th": "{project}: การโค้ช ({minutes} นาที)"},
}
