"""One check for every upload: the content (magic bytes, not the name) and the size.

    checked = check_upload(request.FILES["file"], allowed=("pdf", "png"), max_bytes=10 * 2**20)

Raises `ValidationError` with a message naming the file and the problem. Text kinds (csv, tsv,
txt, json, xml) have no magic bytes: they pass when the content is text (no NUL byte, decodes
as UTF-8 or GB18030) and the name carries that extension. HTML and SVG are never accepted:
served back, they would run script in our origin.
"""

from __future__ import annotations

import gzip
import io
import os
import zipfile
from dataclasses import dataclass
from typing import IO, Any

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

TEXT_KINDS = frozenset({"csv", "tsv", "txt", "json", "xml"})
NEVER = frozenset({"html", "htm", "svg", "xhtml", "js", "exe", "elf"})
ALIASES = {"jpeg": "jpg", "tiff": "tif", "text": "txt", "kbart": "txt", "log": "txt"}
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


# --- opening an uploaded file: the one place every import goes through (issue 21) -------------
#
# A 204 KB access-log gzip without line breaks inflated whole into a worker (1.85 GB); a COUNTER
# XLSX of 300,000 rows held a web worker 12.7 s. So every import opens its upload here: the kind
# is sniffed (check_upload), a gzip is inflated through a counting stream, a ZIP container
# (XLSX) is refused when its members would expand beyond the limits, and a line-oriented file
# may not hold a line longer than `max_line`.

ZIP_KINDS = frozenset({"xlsx", "zip", "docx", "pptx", "ods"})
LINE_KINDS = frozenset({"csv", "tsv", "txt", "log", "kbart"})


class UploadLimitExceeded(ValueError):
    """The upload inflates beyond a limit; `str()` is a message staff can read."""


def max_decompressed() -> int:
    return int(getattr(settings, "LIFELINE_MAX_DECOMPRESSED_BYTES", 4 * 2**30))


def max_ratio() -> int:
    return int(getattr(settings, "LIFELINE_MAX_EXPANSION_RATIO", 200))


def max_line() -> int:
    return int(getattr(settings, "LIFELINE_MAX_LINE_BYTES", 4 * 2**20))


# Below this a file may inflate at any ratio (a tiny gzip of a test log is 650:1); above it the
# ratio applies. A 204 KB bomb that inflated to 1.85 GB is stopped at 64 MB.
RATIO_FLOOR = 64 * 2**20


class LimitedStream(io.RawIOBase):
    """A binary stream that counts what it gives and refuses to give more than `limit` bytes
    in all or a line longer than `line_limit` through `readline`."""

    def __init__(self, raw: IO[bytes], *, limit: int, line_limit: int) -> None:
        super().__init__()
        self.raw = raw
        self.limit = limit
        self.line_limit = line_limit
        self.count = 0

    def readable(self) -> bool:
        return True

    def _account(self, n: int) -> None:
        self.count += n
        if self.count > self.limit:
            raise UploadLimitExceeded(
                _("The file unpacks to more than %(limit)s.")
                % {"limit": filesizeformat(self.limit)}
            )

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        wanted = min(len(view), self.limit - self.count + 1)
        data = self.raw.read(wanted)
        n = len(data)
        view[:n] = data
        self._account(n)
        return n

    def readline(self, size: int | None = -1) -> bytes:
        cap = self.line_limit + 1 if size is None or size < 0 else min(size, self.line_limit + 1)
        line = self.raw.readline(cap)
        self._account(len(line))
        if len(line) > self.line_limit and not line.endswith(b"\n"):
            raise UploadLimitExceeded(
                _(
                    "A line of the file is longer than %(limit)s: this is not a text file of "
                    "the expected kind."
                )
                % {"limit": filesizeformat(self.line_limit)}
            )
        return line

    def close(self) -> None:
        try:
            self.raw.close()
        finally:
            super().close()


def open_stream(
    raw: IO[bytes],
    *,
    compressed_size: int | None = None,
    limit: int | None = None,
    line_limit: int | None = None,
) -> IO[bytes]:
    """`raw` (a gzip is inflated) behind the limits: a total of `limit` bytes (at most
    `max_ratio()` times the stored size for a gzip) and lines of at most `line_limit` bytes."""
    total = limit if limit is not None else max_decompressed()
    magic = raw.read(2)
    raw.seek(0)
    inner: IO[bytes] = raw
    if magic == b"\x1f\x8b":
        inner = gzip.GzipFile(fileobj=raw)  # type: ignore[assignment]
        if compressed_size:
            total = min(total, max(compressed_size * max_ratio(), RATIO_FLOOR))
    # Not wrapped in a BufferedReader: its readline would bypass the line limit.
    return LimitedStream(inner, limit=total, line_limit=line_limit or max_line())  # type: ignore[return-value]


def check_zip(data: bytes | IO[bytes], name: str = "") -> None:
    """Refuse a ZIP container (XLSX) whose members would inflate beyond the limits."""
    label = name or _("the file")
    source = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
    try:
        with zipfile.ZipFile(source) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ValidationError(
            _("“%(name)s” is a damaged ZIP/XLSX file.") % {"name": label}, code="damaged"
        ) from exc
    unpacked = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members) or 1
    too_dense = unpacked > max(packed * max_ratio(), RATIO_FLOOR)
    if len(members) > 10_000 or unpacked > max_decompressed() or too_dense:
        raise ValidationError(
            _(
                "“%(name)s” would unpack to %(size)s (%(ratio)s times its size): refused as a "
                "possible ZIP bomb."
            )
            % {"name": label, "size": filesizeformat(unpacked), "ratio": unpacked // packed},
            code="zip_bomb",
        )


def _container(file: Any, max_bytes: int | None) -> CheckedUpload:
    """What the bytes are at the container level (for parsers that sniff the rest themselves)."""
    name = os.path.basename(getattr(file, "name", "") or "") or _("the file")
    limit = max_bytes if max_bytes is not None else settings.LIFELINE_MAX_UPLOAD_BYTES
    size = _size_of(file)
    if size > limit:
        raise ValidationError(
            _("“%(name)s” is %(size)s; the limit is %(limit)s.")
            % {"name": name, "size": filesizeformat(size), "limit": filesizeformat(limit)},
            code="too_big",
        )
    head = _read_head(file)
    if head.startswith(b"PK\x03\x04"):
        kind = "zip"
    elif head.startswith(b"\x1f\x8b"):
        kind = "gz"
    else:
        kind = "txt" if _looks_like_text(head) else "bin"
    return CheckedUpload(kind=kind, mime="application/octet-stream", size=size, name=name)


def read_upload(
    file: Any,
    allowed: tuple[str, ...] | list[str] | None,
    *,
    max_bytes: int | None = None,
    line_limit: int | None = None,
) -> tuple[CheckedUpload, bytes]:
    """Check `file` and read it whole, within the limits: (what it is, its bytes).

    For the imports that parse in memory (COUNTER, registry, KBART, delivery). `allowed` kinds
    are sniffed by `check_upload`; `None` leaves the kind to a parser that sniffs for itself
    (the registry's), the limits apply all the same. A gzip is inflated (within `max_ratio()`
    of its size); a ZIP container's (XLSX) members are checked before anyone opens it; a text
    may not hold a line longer than `line_limit`. Raises `ValidationError`.
    """
    checked = (
        check_upload(file, allowed, max_bytes=max_bytes)
        if allowed is not None
        else _container(file, max_bytes)
    )
    if hasattr(file, "seek"):
        file.seek(0)
    if checked.kind in ZIP_KINDS:
        data = file.read()
        check_zip(data, checked.name)
        return checked, data
    if checked.kind not in LINE_KINDS and checked.kind != "gz":
        return checked, file.read()  # JSON and other kinds: the size limit holds them
    limit = max_bytes if max_bytes is not None else settings.LIFELINE_MAX_UPLOAD_BYTES
    stream = open_stream(
        file,
        compressed_size=checked.size,
        limit=limit,  # inflated, a gzip is held to the upload limit too (parsed in memory)
        line_limit=line_limit,
    )
    try:
        data = b"".join(iter(stream.readline, b""))
    except UploadLimitExceeded as exc:
        raise ValidationError(f"“{checked.name}”: {exc}", code="too_big") from exc
    except (OSError, EOFError) as exc:
        raise ValidationError(
            _("“%(name)s” could not be read: %(error)s") % {"name": checked.name, "error": exc},
            code="damaged",
        ) from exc
    return checked, data


def check_text_upload(file: Any, *, allow_gzip: bool = True) -> CheckedUpload:
    """A text file, plain or gzipped, whose (inflated) start is text: an access log, say.

    An ELF binary uploaded as a log was "analysed" (issue 21); a gzip is looked inside too."""
    checked = check_upload(file, ("txt", "gz") if allow_gzip else ("txt",))
    if checked.kind == "gz":
        file.seek(0)
        try:
            head = open_stream(file, compressed_size=checked.size).read(SNIFF_BYTES)
        except (OSError, EOFError, UploadLimitExceeded) as exc:
            raise ValidationError(
                _("“%(name)s” could not be read: %(error)s") % {"name": checked.name, "error": exc},
                code="damaged",
            ) from exc
        finally:
            file.seek(0)
        if not head or not _looks_like_text(head) or _looks_like_markup(head):
            raise ValidationError(
                _("“%(name)s” does not hold text (inside the gzip).") % {"name": checked.name},
                code="wrong_kind",
            )
    return checked
