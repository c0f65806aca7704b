"""lifeline.core.uploads.check_upload: content, not name, decides; size is bounded."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from lifeline.core.uploads import check_upload

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, "PNG")
    return buffer.getvalue()


def xlsx() -> bytes:
    from openpyxl import Workbook

    buffer = io.BytesIO()
    Workbook().save(buffer)
    return buffer.getvalue()


def test_accepts_matching_content() -> None:
    assert check_upload(SimpleUploadedFile("a.pdf", PDF), allowed=("pdf",)).kind == "pdf"
    assert (
        check_upload(SimpleUploadedFile("shot.png", png()), allowed=("pdf", "png")).mime
        == "image/png"
    )
    assert (
        check_upload(SimpleUploadedFile("list.xlsx", xlsx()), allowed=("xlsx", "csv")).kind
        == "xlsx"
    )
    text = "名称,网址\n知网,https://cnki.net\n".encode("gb18030")
    assert check_upload(SimpleUploadedFile("list.csv", text), allowed=("xlsx", "csv")).kind == "csv"


def test_refuses_wrong_kinds_with_the_file_name() -> None:
    with pytest.raises(
        ValidationError, match=re.escape("“shot.png” is a PNG file; only PDF may be uploaded here")
    ):
        check_upload(SimpleUploadedFile("shot.png", png()), allowed=("pdf",))
    with pytest.raises(ValidationError, match="really a PNG file: its name says PDF"):
        check_upload(SimpleUploadedFile("invoice.pdf", png()), allowed=("pdf", "png"))
    with pytest.raises(ValidationError, match="not a file of a kind accepted here"):
        check_upload(
            SimpleUploadedFile("page.csv", b"<!DOCTYPE html><script>alert(1)</script>"),
            allowed=("csv",),
        )
    with pytest.raises(ValidationError, match="not a file of a kind accepted here"):
        check_upload(
            SimpleUploadedFile("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>'),
            allowed=("svg", "png"),
        )
    with pytest.raises(ValidationError, match="not a file of a kind accepted here"):
        check_upload(SimpleUploadedFile("data.csv", b"\x00\x01\x02binary"), allowed=("csv",))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("evil.exe", b"MZ")
    with pytest.raises(ValidationError, match="ZIP file"):
        check_upload(SimpleUploadedFile("list.xlsx", buffer.getvalue()), allowed=("xlsx",))


def test_refuses_empty_and_oversized_files() -> None:
    with pytest.raises(ValidationError, match=re.escape("“a.pdf” is empty")):
        check_upload(SimpleUploadedFile("a.pdf", b""), allowed=("pdf",))
    with pytest.raises(ValidationError) as caught:
        check_upload(
            SimpleUploadedFile("big.pdf", PDF + b"0" * 2000), allowed=("pdf",), max_bytes=1024
        )
    assert (
        caught.value.messages[0].replace("\xa0", " ") == "“big.pdf” is 2.0 KB; the limit is 1.0 KB."
    )


def test_uses_the_site_limit_by_default(settings: object) -> None:
    settings.LIFELINE_MAX_UPLOAD_BYTES = 10  # type: ignore[attr-defined]
    with pytest.raises(ValidationError, match="the limit is"):
        check_upload(SimpleUploadedFile("a.pdf", PDF), allowed=("pdf",))


def test_plain_file_objects_and_position_is_kept() -> None:
    handle = io.BytesIO(PDF)
    handle.name = "scan.pdf"
    assert check_upload(handle, allowed=("pdf",)).size == len(PDF)
    assert handle.read(4) == b"%PDF"
