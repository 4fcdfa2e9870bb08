"""The web app's indicator texts: the project page's indicators and measurement form, the
impact and alumni views and charts of ``/reports``, and words the pages showed in English.

Names the journey defines (indicator keys, roles, periods) stay as placeholders.
"""

from __future__ import annotations

__all__ = ["ENTRIES"]

ENTRIES: dict[str, dict[str, str]] = {
    # the project page: indicators
    "page.ind.title": {"en": "Impact indicators", "th": "ตัวชี้วัดผลลัพธ์"},
    "page.ind.none": {"en": "This journey has no indicators.",
                      "th": "เส้นทางนี้ไม่มีตัวชี้วัด"},
    "page.ind.baseline": {"en": "Baseline", "th": "ค่าฐาน"},
    "page.ind.target": {"en": "Target", "th": "เป้าหมาย"},
    "page.ind.total": {"en": "Total", "th": "รวม"},
    "page.ind.progress": {"en": "Progress", "th": "ความก้าวหน้า"},
    "page.ind.every": {"en": "Reported every {rhythm}, e.g. {examples}",
                       "th": "รายงานทุก {rhythm} เช่น {examples}"},
    "page.ind.month": {"en": "month", "th": "เดือน"},
    "page.ind.quarter": {"en": "quarter", "th": "ไตรมาส"},
    "page.ind.half": {"en": "half year", "th": "ครึ่งปี"},
    "page.ind.year": {"en": "year", "th": "ปี"},
    "page.ind.months": {"en": "{count} months", "th": "{count} เดือน"},
    "page.ind.owner": {"en": "Reported by the role {role}", "th": "รายงานโดยบทบาท {role}"},
    "page.ind.period": {"en": "Period", "th": "งวด"},
    "page.ind.value": {"en": "Value", "th": "ค่า"},
    "page.ind.note": {"en": "Note", "th": "บันทึก"},
    "page.ind.no_values": {"en": "No value reported yet.", "th": "ยังไม่มีการรายงานค่า"},
    "page.ind.corrected": {"en": "corrected from {values}", "th": "แก้ไขจาก {values}"},
    "page.ind.missing": {"en": "Missing periods: {periods}",
                         "th": "งวดที่ยังไม่รายงาน: {periods}"},
    "page.ind.missing_none": {"en": "No period is missing.", "th": "รายงานครบทุกงวด"},
    "page.ind.due_now": {"en": "Due now: {period} (ends {ends})",
                         "th": "ถึงกำหนดรายงานตอนนี้: งวด {period} (สิ้นสุด {ends})"},
    "page.ind.not_due": {"en": "Nothing is due now.", "th": "ยังไม่ถึงกำหนดรายงาน"},
    "page.ind.record": {"en": "Record a measurement", "th": "บันทึกค่าตัวชี้วัด"},
    "page.ind.indicator": {"en": "Indicator", "th": "ตัวชี้วัด"},
    "page.ind.period_hint": {"en": "empty: the current period",
                             "th": "เว้นว่าง: งวดปัจจุบัน"},
    "page.ind.submit": {"en": "Record", "th": "บันทึก"},
    "page.ind.yes": {"en": "yes", "th": "ใช่"},
    "page.ind.no": {"en": "no", "th": "ไม่ใช่"},
    "page.ind.empty_value": {
        "en": "give a value for {name!r}: a number, or yes/no for a yes-or-no indicator",
        "th": "กรุณาใส่ค่าของ {name!r}: ตัวเลข หรือ ใช่/ไม่ใช่ สำหรับตัวชี้วัดแบบใช่หรือไม่"},
    # history and follow-ups the project page showed in English
    "page.event.measured": {"en": "{indicator} = {value} for {period}",
                            "th": "{indicator} = {value} งวด {period}"},
    "page.event.follow_up": {"en": "follow-up {name}", "th": "งานติดตาม {name}"},
    "page.event.system": {"en": "the system", "th": "ระบบ"},
    "page.followup.check_in": {"en": "alumni check-in after {after}",
                               "th": "ติดตามศิษย์เก่าหลังส่งต่อ {after}"},
    "page.followup.indicator": {"en": "report {indicator}", "th": "รายงาน {indicator}"},
    "page.action.notify": {"en": "notify", "th": "แจ้งเตือน"},
    "page.action.flag": {"en": "flag", "th": "ติดสถานะ"},
    "page.action.unflag": {"en": "clear flag", "th": "ยกเลิกสถานะ"},
    "page.action.transition": {"en": "move on", "th": "เปลี่ยนขั้น"},
    "page.action.webhook": {"en": "webhook", "th": "เว็บฮุก"},
    # the calendar feed's stage deadline (web/ical.py's summary "NAME: STAGE ends (2 months)")
    "calendar.deadline_ends": {"en": "{project}: {stage} ends ({duration})",
                               "th": "{project}: ครบกำหนดขั้น{stage} ({duration})"},
    # /reports: impact, alumni and charts
    "page.reports.impact": {"en": "Impact", "th": "ผลลัพธ์ทางสังคม"},
    "page.reports.alumni": {"en": "Alumni survival", "th": "การดำเนินงานต่อของศิษย์เก่า"},
    "page.reports.chart_impact": {"en": "Each indicator's total against its target (%)",
                                  "th": "ผลรวมของตัวชี้วัดเทียบกับเป้าหมาย (%)"},
    "page.reports.chart_alumni": {"en": "Share still operating at each check-in (%)",
                                  "th": "สัดส่วนที่ยังดำเนินงานอยู่ในแต่ละรอบติดตาม (%)"},
    "page.reports.chart_none": {"en": "Nothing to draw yet.", "th": "ยังไม่มีข้อมูลให้แสดง"},
    "page.reports.cohort": {"en": "Cohort", "th": "รุ่น"},
    "page.reports.partner": {"en": "Partner", "th": "ภาคี"},
    "page.reports.journey": {"en": "Journey", "th": "เส้นทาง"},
    "page.reports.any": {"en": "any", "th": "ทั้งหมด"},
    "page.reports.filter": {"en": "Filter", "th": "กรอง"},
    "page.reports.no_cohort": {"en": "no cohort", "th": "ไม่ระบุรุ่น"},
    "chart.no_cohort": {"en": "no cohort", "th": "ไม่ระบุรุ่น"},
    "chart.after_months": {"en": "{count} months", "th": "{count} เดือน"},
    "page.chart.unknown": {"en": "unknown chart {name!r}; the charts are: {known}",
                           "th": "ไม่มีแผนภูมิ {name!r} แผนภูมิที่มีคือ: {known}"},
}
