"""One check for every upload: the content (magic bytes, not the name) and the size.

    checked = check_upload(request.FILES["file"], allowed=("pdf", "png"), max_bytes=10 * 2**20)

Raises `ValidationError` with a message naming the file and the problem. Text kinds (csv, tsv,
txt, json, xml) have no magic bytes: they pass when the content is text (no NUL byte, decodes
as UTF-8 or GB18030) and the name carries that extension. HTML and SVG are never accepted:
served back, they would run script in our origin.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import IO, Any

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

TEXT_KINDS = frozenset({"csv", "tsv", "txt", "json", "xml"})
NEVER = frozenset({"html", "htm", "svg", "xhtml", "js", "exe", "elf"})
ALIASES = {"jpeg": "jpg", "tiff": "tif", "text": "txt", "kbart": "txt"}
SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class CheckedUpload:
    kind: str
    mime: str
    size: int
    name: str


def _normal(kind: str) -> str:
    kind = kind.lower().lstrip(".")
    return ALIASES.get(kind, kind)


def _size_of(file: Any) -> int:
    size = getattr(file, "size", None)
    if size is not None:
        return int(size)
    position = file.tell()
    file.seek(0, os.SEEK_END)
    end = file.tell()
    file.seek(position)
    return int(end)


def _read_head(file: IO[bytes]) -> bytes:
    if hasattr(file, "seek"):
        file.seek(0)
    head = file.read(SNIFF_BYTES)
    if hasattr(file, "seek"):
        file.seek(0)
    return head if isinstance(head, bytes) else head.encode()


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    sample = head[: SNIFF_BYTES - 4]  # a multi-byte character may be cut at the end
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            sample.decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


def _looks_like_markup(head: bytes) -> bool:
    start = head.lstrip()[:300].lower()
    return start.startswith((b"<!doctype html", b"<html", b"<svg", b"<script")) or b"<svg" in start


def check_upload(
    file: Any, allowed: tuple[str, ...] | list[str], max_bytes: int | None = None
) -> CheckedUpload:
    """Check `file` (an UploadedFile, or a binary file object with a name) against `allowed`."""
    wanted = {_normal(kind) for kind in allowed} - NEVER
    name = os.path.basename(getattr(file, "name", "") or "") or _("the file")
    limit = max_bytes if max_bytes is not None else settings.LIFELINE_MAX_UPLOAD_BYTES
    size = _size_of(file)
    if size == 0:
        raise ValidationError(_("“%(name)s” is empty.") % {"name": name}, code="empty")
    if size > limit:
        raise ValidationError(
            _("“%(name)s” is %(size)s; the limit is %(limit)s.")
            % {"name": name, "size": filesizeformat(size), "limit": filesizeformat(limit)},
            code="too_big",
        )
    head = _read_head(file)
    extension = _normal(os.path.splitext(name)[1]) if "." in name else ""
    expected = ", ".join(sorted(k.upper() for k in wanted))
    guess = filetype.guess(head)
    if guess is not None:
        kind = _normal(guess.extension)
        if kind not in wanted:
            raise ValidationError(
                _("“%(name)s” is a %(kind)s file; only %(expected)s may be uploaded here.")
                % {"name": name, "kind": kind.upper(), "expected": expected},
                code="wrong_kind",
            )
        # A PNG called report.pdf is a mistake at best and a disguise at worst.
        if (
            extension
            and extension != kind
            and not (extension == "zip" and kind in {"xlsx", "docx", "pptx"})
        ):
            raise ValidationError(
                _("“%(name)s” is really a %(kind)s file: its name says %(extension)s.")
                % {"name": name, "kind": kind.upper(), "extension": extension.upper()},
                code="disguised",
            )
        return CheckedUpload(kind=kind, mime=guess.mime, size=size, name=name)
    text_kinds = wanted & TEXT_KINDS
    if text_kinds and _looks_like_text(head) and not _looks_like_markup(head):
        kind = extension if extension in text_kinds else ""
        if not kind and len(text_kinds) == 1:
            kind = next(iter(text_kinds))
        if kind:
            return CheckedUpload(
                kind=kind,
                mime="text/plain" if kind == "txt" else f"text/{kind}",
                size=size,
                name=name,
            )
    raise ValidationError(
        _("“%(name)s” is not a file of a kind accepted here (%(expected)s).")
        % {"name": name, "expected": expected},
        code="wrong_kind",
    )
