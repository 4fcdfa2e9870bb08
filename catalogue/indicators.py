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
        "th": ("การติดตามของขั้น {stage!r} ต้องมีตัวชี้วัดแบบ 'bool' ที่ต้องรายงานในขั้นนี้ "
               "(เช่น still_operating ที่มี 'during: [{stage}]') เพื่อนับการอยู่รอด"),
    },
    "alumni.twice": {
        "en": "check-in {after!r} is given twice; give each duration once",
        "th": "การติดตาม {after!r} ซ้ำกัน ให้ระบุแต่ละช่วงเวลาเพียงครั้งเดียว",
    },
    "impact.title": {"en": 'Impact: {journey}', "th": 'ผลลัพธ์ทางสังคม: {journey}'},
    "impact.view_indicators": {"en": 'Indicators', "th": 'ตัวชี้วัด'},
    "impact.view_projects": {"en": 'Projects', "th": 'โครงการ'},
    "impact.view_tags": {"en": 'By tag', "th": 'ตามแท็ก'},
    "impact.indicator": {"en": 'indicator', "th": 'ตัวชี้วัด'},
    "impact.key": {"en": 'key', "th": 'รหัส'},
    "impact.type": {"en": 'type', "th": 'ชนิด'},
    "impact.unit": {"en": 'unit', "th": 'หน่วย'},
    "impact.total": {"en": 'total', "th": 'รวม'},
    "impact.target": {"en": 'target', "th": 'เป้าหมาย'},
    "impact.projects": {"en": 'projects', "th": 'จำนวนโครงการ'},
    "impact.reported": {"en": 'reported', "th": 'รายงานแล้ว'},
    "impact.missing": {"en": 'missing periods', "th": 'รอบที่ขาด'},
    "impact.tags": {"en": 'tags', "th": 'แท็ก'},
    "impact.id": {"en": 'id', "th": 'รหัสโครงการ'},
    "impact.project": {"en": 'project', "th": 'โครงการ'},
    "impact.partner": {"en": 'partner', "th": 'ภาคี'},
    "impact.cohort": {"en": 'cohort', "th": 'รุ่น'},
    "impact.periods": {"en": 'periods', "th": 'รอบที่รายงาน'},
    "impact.progress": {"en": 'progress', "th": 'ความคืบหน้า'},
    "impact.tag": {"en": 'tag', "th": 'แท็ก'},
    "impact.check_in": {"en": 'check-in', "th": 'การติดตาม'},
    "impact.due": {"en": 'due', "th": 'ถึงกำหนด'},
    "impact.operating": {"en": 'still operating', "th": 'ยังดำเนินงาน'},
    "impact.share": {"en": 'share', "th": 'สัดส่วน'},
    "impact.alumni_title": {"en": 'Alumni: {journey}', "th": 'ศิษย์เก่า: {journey}'},
    "impact.alumni_sheet": {"en": 'Survival by cohort', "th": 'การอยู่รอดตามรุ่น'},
    "impact.latest": {"en": 'latest', "th": 'ค่าล่าสุด'},
    "impact.yes": {"en": 'yes', "th": 'ใช่'},
    "impact.no": {"en": 'no', "th": 'ไม่ใช่'},
    "done.measured": {"en": 'project {id}: {indicator} = {value} for {period}',
                      "th": 'โครงการ {id}: {indicator} = {value} สำหรับรอบ {period}'},
    # a duration in running text ("6 months" / "6 เดือน"): check-ins, time in stage
    "duration.count.day": {"en": '{count} day(s)', "th": '{count} วัน'},
    "duration.count.week": {"en": '{count} week(s)', "th": '{count} สัปดาห์'},
    "duration.count.month": {"en": '{count} month(s)', "th": '{count} เดือน'},
    "duration.count.year": {"en": '{count} year(s)', "th": '{count} ปี'},
    "duration.count.business_day": {"en": '{count} business day(s)', "th": '{count} วันทำการ'},
    "impact.xlsx_needs_output": {
        "en": "--format xlsx writes a file: give -o FILE.xlsx",
        "th": "'--format xlsx' เขียนเป็นไฟล์ ให้ระบุ -o FILE.xlsx",
    },
    "impact.bom_needs_csv": {
        "en": "--bom is for --format csv (a byte order mark for Excel)",
        "th": "--bom ใช้กับ --format csv (เครื่องหมาย BOM สำหรับโปรแกรมตารางคำนวณ)",
    },
    "impact.view_unknown": {
        "en": "unknown view {view!r}; views: indicators, projects, tags",
        "th": "ไม่มีมุมมอง {view!r} มุมมองที่มี: 'indicators', 'projects', 'tags'",
    },
    "indicator.value.bool": {
        "en": 'expected true or false, got {got!r}',
        "th": "ต้องเป็น 'true' หรือ 'false' แต่ได้ {got!r}",
    },
    "indicator.value.number": {
        "en": 'expected a number, got {got!r}',
        "th": 'ต้องเป็นตัวเลข แต่ได้ {got!r}',
    },
    "indicator.value.finite": {
        "en": 'expected a finite number, got {got!r}',
        "th": 'ต้องเป็นตัวเลขที่มีค่าจำกัด แต่ได้ {got!r}',
    },
    "indicator.value.whole": {
        "en": 'an int indicator takes whole numbers, got {got!r}',
        "th": "ตัวชี้วัดแบบ 'int' รับเฉพาะจำนวนเต็ม แต่ได้ {got!r}",
    },
    "indicator.value.percent": {
        "en": 'a percent is 0 to 100, got {got!r}',
        "th": 'ร้อยละต้องอยู่ระหว่าง 0 ถึง 100 แต่ได้ {got!r}',
    },
    "indicator.value.money": {
        "en": 'money has at most 2 decimal places, got {got!r}',
        "th": 'จำนวนเงินมีทศนิยมได้ไม่เกิน 2 ตำแหน่ง แต่ได้ {got!r}',
    },
    "indicator.unknown": {
        "en": 'unknown indicator {name!r} in journey {ref}{hint}; indicators: {known}',
        "th": 'ไม่มีตัวชี้วัด {name!r} ในเส้นทาง {ref}{hint} ตัวชี้วัดที่มี: {known}',
    },
    "indicator.bad_value": {
        "en": 'indicator {name!r} is {kind}: {problem}',
        "th": 'ตัวชี้วัด {name!r} เป็นแบบ {kind!r}: {problem}',
    },
    "indicator.bad_text": {
        "en": 'indicator {name!r} is {kind}: expected {expected}, got {got!r}',
        "th": 'ตัวชี้วัด {name!r} เป็นแบบ {kind!r}: ต้องเป็น{expected} แต่ได้ {got!r}',
    },
    "indicator.expect_whole": {
        "en": 'a whole number',
        "th": 'จำนวนเต็ม',
    },
    "indicator.expect_number": {
        "en": 'a number',
        "th": 'ตัวเลข',
    },
    "indicator.expect_finite": {
        "en": 'a finite number',
        "th": 'ตัวเลขที่มีค่าจำกัด',
    },
    "indicator.expect_bool": {
        "en": 'true or false',
        "th": " 'true' หรือ 'false'",
    },
    "indicator.bad_period": {
        "en": 'indicator {name!r}: {problem}',
        "th": 'ตัวชี้วัด {name!r}: {problem}',
    },
    "indicator.not_begun": {
        "en": ("indicator {name!r}: period {period!r} has not begun (today is {today} in "
               "{timezone}); the current period is {current}"),
        "th": ("ตัวชี้วัด {name!r}: รอบ {period!r} ยังไม่เริ่ม (วันนี้คือ {today} ตามเขตเวลา "
               "{timezone}) รอบปัจจุบันคือ {current}"),
    },
    "indicator.owner_only": {
        "en": 'indicator {name!r} is reported by the role {role!r}; {actor!r} holds: {roles}',
        "th": 'ตัวชี้วัด {name!r} รายงานโดยบทบาท {role!r} แต่ {actor!r} มีบทบาท: {roles}',
    },
    "indicator.during_empty": {
        "en": ('indicators.{name}.during is empty: no value would ever be due; name '
               "the stages, or leave 'during' out for every stage that is not final"),
        "th": ('indicators.{name}.during ว่าง: จะไม่มีรอบใดต้องรายงาน ให้ระบุขั้น '
               "หรือไม่ต้องใส่ 'during' เพื่อให้ต้องรายงานทุกขั้นที่ไม่ใช่ขั้นสุดท้าย"),
    },
    "indicator.bool_aggregate": {
        "en": ("indicators.{name}: a bool indicator combines its periods with 'last' "
               "or 'max' (any true), not {aggregate!r}"),
        "th": ("indicators.{name}: ตัวชี้วัดแบบ 'bool' รวมรอบด้วย 'last' หรือ 'max' "
               '(มีจริงสักรอบ) ไม่ใช่ {aggregate!r}'),
    },
    "indicator.percent_sum": {
        "en": "indicators.{name}: percentages do not add up; use 'last', 'max' or 'mean'",
        "th": "indicators.{name}: ร้อยละนำมาบวกกันไม่ได้ ให้ใช้ 'last', 'max' หรือ 'mean'",
    },
    "indicator.bad_bound": {
        "en": 'indicators.{name}.{key}: {problem} (the indicator is {kind})',
        "th": 'indicators.{name}.{key}: {problem} (ตัวชี้วัดเป็นแบบ {kind!r})',
    },
    "indicator.remind_needs_owner": {
        "en": "indicators.{name}: 'remind_after' reminds the owner; give 'owner: ROLE' too",
        "th": ("indicators.{name}: 'remind_after' ใช้เตือนผู้รับผิดชอบ ต้องระบุ "
               "'owner: ROLE' ด้วย"),
    },
    "period.expected": {
        "en": 'periods of {rhythm} are named like {examples}',
        "th": 'รอบละ {rhythm} ตั้งชื่อแบบ {examples}',
    },
    "period.not_a_name": {
        "en": 'period {text!r} is not a period name; {expected}',
        "th": '{text!r} ไม่ใช่ชื่อรอบ: {expected}',
    },
    "period.before_1900": {
        "en": 'period {text!r} is before 1900; {expected}',
        "th": 'รอบ {text!r} อยู่ก่อนปี 1900: {expected}',
    },
    "period.whole_year": {
        "en": 'period {text!r} is a whole year; {expected}',
        "th": 'รอบ {text!r} เป็นทั้งปี: {expected}',
    },
    "period.other_rhythm": {
        "en": 'period {text!r} is not a period of this indicator; {expected}',
        "th": 'รอบ {text!r} ไม่ใช่รอบของตัวชี้วัดนี้: {expected}',
    },
    "period.bad_month": {
        "en": 'period {text!r}: month {month} is not 01 to 12; {expected}',
        "th": 'รอบ {text!r}: เดือน {month} ไม่อยู่ในช่วง 01 ถึง 12: {expected}',
    },
    "period.not_a_start": {
        "en": 'period {text!r} does not start a period of {rhythm}; {expected}',
        "th": 'รอบ {text!r} ไม่ใช่วันเริ่มของรอบละ {rhythm}: {expected}',
    },
}
