"""Values that do not fit a field's type or bounds (``--set``, imports, the API).

The English is what these errors have always said; ``kind`` is a journey type name
(``int``, ``list[string]``), ``got`` the value as typed.
"""

from __future__ import annotations

__all__ = ["ENTRIES"]

ENTRIES: dict[str, dict[str, str]] = {
    "field.bad_value": {
        "en": "field {name!r}: {problem}",
        "th": "ฟิลด์ {name!r}: {problem}",
    },
    "type.too_long": {
        "en": "expected at most {most:,} characters, got {got:,}",
        "th": "ต้องยาวไม่เกิน {most:,} ตัวอักษร แต่ได้ {got:,} ตัวอักษร",
    },
    "type.nul": {
        "en": "expected text without NUL characters",
        "th": "ข้อความต้องไม่มีอักขระ NUL",
    },
    "type.int64": {
        "en": "expected a 64-bit integer, got {got}",
        "th": "ต้องเป็นจำนวนเต็ม 64 บิต แต่ได้ {got}",
    },
    "type.finite": {
        "en": "expected a finite float, got {got!r}",
        "th": "ต้องเป็นตัวเลขที่มีค่าจำกัด แต่ได้ {got!r}",
    },
    "type.date_not_datetime": {
        "en": "expected a date (YYYY-MM-DD), got a date and time",
        "th": "ต้องเป็นวันที่ (YYYY-MM-DD) แต่ได้วันที่พร้อมเวลา",
    },
    "type.aware": {
        "en": "expected a date and time with a UTC offset, e.g. 2026-03-01T09:00:00+07:00",
        "th": "ต้องเป็นวันที่และเวลาที่ระบุเขตเวลา เช่น 2026-03-01T09:00:00+07:00",
    },
    "type.wrong": {
        "en": "expected {kind}, got {type} {got!r}",
        "th": "ต้องเป็น {kind} แต่ได้ {type} {got!r}",
    },
    "type.wrong_text": {
        "en": "expected {kind}, got {got!r}",
        "th": "ต้องเป็น {kind} แต่ได้ {got!r}",
    },
    "type.too_many": {
        "en": "expected at most {most:,} items, got {got:,}",
        "th": "ต้องมีไม่เกิน {most:,} รายการ แต่ได้ {got:,} รายการ",
    },
    "type.nan_bounds": {
        "en": "expected a number from {min} to {max}, got nan",
        "th": "ต้องเป็นตัวเลขตั้งแต่ {min} ถึง {max} แต่ได้ค่าที่ไม่ใช่ตัวเลข ('nan')",
    },
    "type.below_min": {
        "en": "expected at least {min} (the field's min), got {got}",
        "th": "ต้องไม่น้อยกว่า {min} (ค่าต่ำสุดของฟิลด์) แต่ได้ {got}",
    },
    "type.above_max": {
        "en": "expected at most {max} (the field's max), got {got}",
        "th": "ต้องไม่มากกว่า {max} (ค่าสูงสุดของฟิลด์) แต่ได้ {got}",
    },
    "type.bool_text": {
        "en": "expected bool (true or false), got {got!r}",
        "th": "ต้องเป็นค่าจริงหรือเท็จ ('true' หรือ 'false') แต่ได้ {got!r}",
    },
    "type.list_text": {
        "en": "expected {kind} as a JSON list or comma-separated values, got {got!r}",
        "th": "ต้องเป็น {kind} ในรูปรายการ JSON หรือค่าที่คั่นด้วยจุลภาค แต่ได้ {got!r}",
    },
}
