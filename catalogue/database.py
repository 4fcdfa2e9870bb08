"""Database faults, as a library caller and the CLI see them (storage/faults.py).

``url`` is the database URL with its password masked; ``text`` is the driver's own
message, kept as it is (it is what an operator searches for).
"""

from __future__ import annotations

__all__ = ["ENTRIES"]

ENTRIES: dict[str, dict[str, str]] = {
    "db.retry": {
        "en": "nothing was written: try again",
        "th": "ยังไม่ได้บันทึกสิ่งใด โปรดลองอีกครั้ง",
    },
    "db.busy": {
        "en": "the database at {url} is busy: another connection held its write lock"
              "{waited}; {retry}",
        "th": "ฐานข้อมูลที่ {url} ไม่ว่าง: การเชื่อมต่ออื่นถือสิทธิ์เขียนไว้{waited} {retry}",
    },
    "db.waited": {
        "en": " for {seconds:g} s",
        "th": "นาน {seconds:g} วินาที",
    },
    "db.same_key": {
        "en": "a concurrent change to the database at {url} wrote the same key first "
              "({text}); {retry}",
        "th": "มีการเปลี่ยนแปลงพร้อมกันในฐานข้อมูลที่ {url} เขียนคีย์เดียวกันไปก่อน ({text}) "
              "{retry}",
    },
    "db.cannot_write": {
        "en": "cannot write to the database at {url}: {meaning} ({text})",
        "th": "เขียนลงฐานข้อมูลที่ {url} ไม่ได้: {meaning} ({text})",
    },
    "db.failed": {
        "en": "the database at {url} failed: {text}",
        "th": "ฐานข้อมูลที่ {url} ทำงานผิดพลาด: {text}",
    },
    "db.conflict": {
        "en": "{why} at {url} ({text}); {retry}",
        "th": "{why} ที่ {url} ({text}) {retry}",
    },
    "db.lost": {
        "en": "lost the connection to the database at {url}: {text}; nothing more was written",
        "th": "การเชื่อมต่อกับฐานข้อมูลที่ {url} ขาดหาย: {text} ไม่มีการบันทึกสิ่งใดเพิ่ม",
    },
    # what a SQLite fault means
    "db.readonly": {
        "en": "the database is read-only (the file, its directory or the mount does not "
              "allow writing)",
        "th": "ฐานข้อมูลเป็นแบบอ่านอย่างเดียว (ไฟล์ โฟลเดอร์ หรือจุดเมานต์ไม่อนุญาตให้เขียน)",
    },
    "db.full": {"en": "the disk is full", "th": "ดิสก์เต็ม"},
    "db.io": {
        "en": "a disk I/O error (the disk may be full or failing)",
        "th": "ดิสก์อ่านเขียนผิดพลาด (ดิสก์อาจเต็มหรือเสีย)",
    },
    "db.cannot_open": {
        "en": "the database file cannot be opened",
        "th": "เปิดไฟล์ฐานข้อมูลไม่ได้",
    },
    "db.not_sqlite": {
        "en": "the file is not a SQLite database",
        "th": "ไฟล์นี้ไม่ใช่ฐานข้อมูล SQLite",
    },
    "db.corrupt": {"en": "the database file is corrupt", "th": "ไฟล์ฐานข้อมูลเสียหาย"},
    # why PostgreSQL refused a change (by SQLSTATE)
    "db.deadlock": {
        "en": "PostgreSQL chose this change as a deadlock's victim",
        "th": "PostgreSQL เลือกยกเลิกการเปลี่ยนแปลงนี้เพื่อแก้การรอกันจนติดตาย",
    },
    "db.serialize": {
        "en": "PostgreSQL could not serialize this change with a concurrent one",
        "th": "PostgreSQL จัดลำดับการเปลี่ยนแปลงนี้กับอีกรายการที่ทำพร้อมกันไม่ได้",
    },
    "db.lock_timeout": {
        "en": "a row or table it needs stayed locked by another change past the lock "
              "timeout",
        "th": "แถวหรือตารางที่ต้องใช้ถูกการเปลี่ยนแปลงอื่นล็อกไว้นานเกินเวลาที่กำหนด",
    },
    "db.unique": {
        "en": "a concurrent change wrote the same unique key first",
        "th": "มีการเปลี่ยนแปลงพร้อมกันเขียนคีย์ที่ต้องไม่ซ้ำไปก่อน",
    },
    # opening a database
    "db.bad_url": {
        "en": "unsupported database URL {url}: expected sqlite:///PATH, "
              "postgresql://USER@HOST/DB or postgresql+psycopg://USER@HOST/DB",
        "th": "ไม่รองรับ URL ฐานข้อมูล {url}: ต้องเป็น sqlite:///PATH, "
              "postgresql://USER@HOST/DB หรือ postgresql+psycopg://USER@HOST/DB",
    },
    "db.cannot_open_at": {
        "en": "cannot open the database at {url}: {reason}",
        "th": "เปิดฐานข้อมูลที่ {url} ไม่ได้: {reason}",
    },
    "db.no_directory": {
        "en": "directory {folder!r} does not exist",
        "th": "ไม่มีโฟลเดอร์ {folder!r}",
    },
    "db.readonly_directory": {
        "en": "{error}: its directory {folder!r} is read-only (SQLite writes its -wal and "
              "-shm files beside it)",
        "th": "{error}: โฟลเดอร์ {folder!r} เขียนไม่ได้ (SQLite ต้องเขียนไฟล์ -wal และ -shm "
              "ไว้ข้างไฟล์ฐานข้อมูล)",
    },
    "db.busy_timeout": {
        "en": "busy_timeout={given!r} in {url} is not a number of seconds; give e.g. "
              "?busy_timeout=5",
        "th": "busy_timeout={given!r} ใน {url} ไม่ใช่จำนวนวินาที ให้ระบุ เช่น ?busy_timeout=5",
    },
    # the schema
    "db.no_tables": {
        "en": "the database at {url} has no bompao tables; run 'bompao init' to create them",
        "th": "ฐานข้อมูลที่ {url} ยังไม่มีตารางของ bompao ให้รัน 'bompao init' เพื่อสร้าง",
    },
    "db.outdated": {
        "en": "the database at {url} has schema version {version} (revision {revision}); "
              "this bompao needs version {needed} (revision {head}); run 'bompao init' to "
              "upgrade it",
        "th": "ฐานข้อมูลที่ {url} ใช้โครงสร้างรุ่น {version} "
              "(เลขรุ่นการย้ายข้อมูล {revision}) แต่ bompao นี้ต้องการรุ่น {needed} "
              "(เลขรุ่นการย้ายข้อมูล {head}) ให้รัน 'bompao init' เพื่ออัปเกรด",
    },
    "db.newer": {
        "en": "the database at {url} has schema version {version} (revision {revision}), "
              "newer than this bompao knows (version {needed}, revision {head}); upgrade "
              "bompao",
        "th": "ฐานข้อมูลที่ {url} ใช้โครงสร้างรุ่น {version} "
              "(เลขรุ่นการย้ายข้อมูล {revision}) ซึ่งใหม่กว่าที่ bompao นี้รู้จัก "
              "(รุ่น {needed}, เลขรุ่นการย้ายข้อมูล {head}) ให้อัปเกรด bompao",
    },
    "db.foreign": {
        "en": "the database at {url} is not a bompao database: it has tables ({tables}) but "
              "no bompao schema version; use an empty database",
        "th": "ฐานข้อมูลที่ {url} ไม่ใช่ฐานข้อมูลของ bompao: มีตาราง ({tables}) "
              "แต่ไม่มีรุ่นโครงสร้างของ bompao ให้ใช้ฐานข้อมูลว่าง",
    },
}
