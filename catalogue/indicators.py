"""Impact indicators: reminders, measurements refused, alumni check-ins, the impact report.

``indicator`` is an indicator's title in the reader's language, ``project`` a project's
name (a template placeholder in reminder texts).
"""

from __future__ import annotations

__all__ = ["ENTRIES"]

ENTRIES: dict[str, dict[str, str]] = {
    "indicator.reminder": {
        "en": "Please report {indicator} for {project}: a reporting period ended without a value.",
        "th": "กรุณารายงาน{indicator}ของ {project}: รอบรายงานสิ้นสุดแล้วแต่ยังไม่มีค่า",
    },
    "indicator.at_risk_needs_reminder": {
        "en": ("indicators.{name}: 'at_risk_after' counts the periods whose reminder went "
               "out without a value; give 'remind_after' (and 'owner') too"),
        "th": ("indicators.{name}: 'at_risk_after' นับรอบที่ส่งการเตือนแล้วยังไม่มีค่า "
               "ต้องระบุ 'remind_after' (และ 'owner') ด้วย"),
    },
    "alumni.check_in": {
        "en": "Alumni check-in {after} after the handoff of {project}: please report {indicators}.",
        "th": "ติดตามศิษย์เก่า {after} หลังส่งต่อ {project}: กรุณารายงาน{indicators}",
    },
    "alumni.not_final": {
        "en": ("stage {stage!r} is not final: 'check_ins' follow projects after the handoff; "
               "put them on a final stage"),
        "th": "ขั้น {stage!r} ไม่ใช่ขั้นสุดท้าย: 'check_ins' ใช้ติดตามหลังส่งต่อ ให้ใส่ไว้ในขั้นสุดท้าย",
    },
    "alumni.no_survival": {
        "en": ("the check-ins of stage {stage!r} need a bool indicator due in it (e.g. "
               "still_operating with 'during: [{stage}]') to count survival"),
        "th": ("การติดตามของขั้น {stage!r} ต้องมีตัวชี้วัดแบบ bool ที่ต้องรายงานในขั้นนี้ "
               "(เช่น still_operating ที่มี 'during: [{stage}]') เพื่อนับการอยู่รอด"),
    },
    "alumni.twice": {
        "en": "check-in {after!r} is given twice; give each duration once",
        "th": "การติดตาม {after!r} ซ้ำกัน ให้ระบุแต่ละช่วงเวลาเพียงครั้งเดียว",
    },
}
