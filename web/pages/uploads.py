"""Uploaded evidence files: checked before anything is stored, kept under ``upload_dir``.

A file must have one of ``[web] upload_types``' endings, at most ``upload_limit``
bytes, and content that matches its ending where the ending has a signature (a
``.pdf`` starts ``%PDF-``, a ``.png`` with PNG's eight bytes, office files are ZIP
archives, text is UTF-8 without NUL). Files are stored as
``UPLOAD_DIR/PROJECT_ID/RANDOM.ENDING`` (the uploader's name is kept only in the
evidence note), so a name can neither climb out of the directory nor overwrite
another file. They are served back only to users who may see the project, as
attachments (``Content-Disposition: attachment``; ``nosniff`` is on every answer), so
an uploaded HTML or SVG file is never rendered as a page of this site.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from bompao.definitions.messages import text

__all__ = ["STORED_NAME", "Refused", "check_upload", "file_url", "store", "stored_path"]

STORED_NAME = re.compile(r"^[0-9a-f]{32}\.[a-z0-9]{1,10}$")
_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    ".pdf": (b"%PDF-",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".gif": (b"GIF87a", b"GIF89a"),
    ".docx": (b"PK\x03\x04",), ".xlsx": (b"PK\x03\x04",), ".pptx": (b"PK\x03\x04",),
    ".odt": (b"PK\x03\x04",), ".ods": (b"PK\x03\x04",), ".odp": (b"PK\x03\x04",),
    ".zip": (b"PK\x03\x04",),
}
_TEXT = frozenset({".txt", ".csv", ".md"})


@dataclass
class Refused(Exception):
    """An upload that is not stored: its HTTP status and the page's one-line message."""

    status: int
    message: str


def _ending(filename: str) -> str:
    return Path(filename).suffix.lower()


def check_upload(filename: str, data: bytes, *, limit: int, allowed: tuple[str, ...],
                 lang: str) -> str:
    """The file's ending, once ``data`` passes every check.

    Raises:
        Refused: 413 over ``limit`` bytes; 415 an ending not in ``allowed`` or content
            that does not match it.
    """
    ending = _ending(filename)
    if ending not in allowed:
        raise Refused(415, text("page.upload.type", lang, name=filename,
                                allowed=", ".join(allowed)))
    if len(data) > limit:
        raise Refused(413, text("page.upload.too_large", lang, name=filename, size=len(data),
                                limit=limit))
    signatures = _SIGNATURES.get(ending)
    fits = True
    if signatures is not None:
        fits = data.startswith(signatures)
    elif ending in _TEXT:
        try:
            fits = "\x00" not in data.decode("utf-8")
        except UnicodeDecodeError:
            fits = False
    if not fits:
        raise Refused(415, text("page.upload.content", lang, name=filename, ending=ending))
    return ending


def store(upload_dir: str | Path, project_id: int, ending: str, data: bytes) -> Path:
    """Write ``data`` under a new random name in the project's folder; its path."""
    folder = Path(upload_dir) / str(int(project_id))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{secrets.token_hex(16)}{ending}"
    with path.open("xb") as sink:
        sink.write(data)
    return path


def file_url(project_id: int, path: Path) -> str:
    """The page address a stored file is served from."""
    return f"/projects/{int(project_id)}/files/{path.name}"


def stored_path(upload_dir: str | Path, project_id: int, name: str) -> Path | None:
    """The stored file ``name`` of the project, if the name is one bompao gives and the
    file exists."""
    if not STORED_NAME.match(name):
        return None
    path = Path(upload_dir) / str(int(project_id)) / name
    return path if path.is_file() else None
