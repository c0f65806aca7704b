"""Checks on a supplied file: judged by its content, not its name, and by its size before it is
read.
"""

from __future__ import annotations

from typing import Any

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

# What a supplier sends: articles and chapters as PDF, books as EPUB/DjVu, scans as images or a zip.
ALLOWED = {
    "pdf": "application/pdf",
    "epub": "application/epub+zip",
    "djvu": "image/vnd.djvu",
    "zip": "application/zip",
    "png": "image/png",
    "jpg": "image/jpeg",
    "tif": "image/tiff",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
ALIASES = {"jpeg": "jpg", "tiff": "tif", "djv": "djvu"}


def max_bytes() -> int:
    return int(settings.LIFELINE_MAX_UPLOAD_BYTES)


def check_size(name: str, size: int) -> None:
    if size > max_bytes():
        raise ValidationError(
            _("“%(name)s” is %(size)s; the largest file accepted is %(max)s.")
            % {"name": name, "size": filesizeformat(size), "max": filesizeformat(max_bytes())}
        )
    if size == 0:
        raise ValidationError(_("“%(name)s” is empty.") % {"name": name})


def sniff(head: bytes) -> str | None:
    if head.startswith(b"AT&TFORM"):
        return "djvu"
    kind = filetype.guess(head)
    if kind is None:
        return None
    return ALIASES.get(kind.extension, kind.extension)


def check_upload(upload: Any) -> tuple[str, str]:
    """Return (extension, content type) of an acceptable upload, or raise a ValidationError saying
    why not.
    """
    name = upload.name or "file"
    check_size(name, upload.size)
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    found = sniff(head)
    declared = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    declared = ALIASES.get(declared, declared)
    if declared in ALLOWED and found != declared:
        raise ValidationError(
            _("“%(name)s” is not a %(kind)s file: its content is %(found)s.")
            % {
                "name": name,
                "kind": declared.upper(),
                "found": found.upper() if found else _("not recognised"),
            }
        )
    if found not in ALLOWED:
        raise ValidationError(
            _("“%(name)s” cannot be delivered: accepted are %(kinds)s.")
            % {"name": name, "kinds": ", ".join(k.upper() for k in ALLOWED)}
        )
    return found, ALLOWED[found]
