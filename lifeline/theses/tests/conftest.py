"""Fixtures of the thesis tests: PDFs made with reportlab (built once per session and cached),
an expected student of library A, and the metadata of her thesis."""

from __future__ import annotations

import io
from functools import cache
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from lifeline.core.pdffont import cjk_font
from lifeline.theses.choices import DegreeLevel, DegreeType
from lifeline.theses.models import ExpectedStudent

TITLE = "寒地城市森林碳汇功能评价研究"
TITLE_EN = "Carbon Sink Function of Urban Forests in Cold Regions"
AUTHOR = "李明"
BODY = "本研究以哈尔滨市城市森林为对象，测定乔木层、灌木层和土壤碳储量。" * 4


@cache
def make_pdf(
    title: str = TITLE,
    author: str = AUTHOR,
    pages: int = 25,
    embed: bool = True,
    text: bool = True,
    password: str = "",
) -> bytes:
    """A thesis PDF: a cover page with title and author, then `pages - 1` pages of body text.
    `embed=False` sets the body in Helvetica, which reportlab does not embed."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1, encrypt=password or None)
    cjk = cjk_font()
    if text:
        c.setFont(cjk, 18)
        c.drawCentredString(297, 600, "东北林业大学硕士学位论文")
        c.drawCentredString(297, 540, title)
        c.setFont(cjk, 14)
        c.drawCentredString(297, 480, f"作者：{author}")
    else:
        c.rect(100, 400, 300, 300, fill=1)  # a "scan": an image-like block, no text
    c.showPage()
    for n in range(2, pages + 1):
        if text:
            c.setFont(cjk if embed else "Helvetica", 10)
            for line in range(30):
                words = BODY[line % 10 :][:40] if embed else "Carbon storage of urban forests"
                c.drawString(60, 780 - line * 24, f"{n}.{line} {words}")
        else:
            c.rect(60, 100, 400, 600, fill=1)
        c.showPage()
    c.save()
    return buf.getvalue()


def upload(data: bytes, name: str = "thesis.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LIFELINE_THESIS_REPOSITORY = tmp_path / "repository"
    return settings.MEDIA_ROOT


@pytest.fixture
def expected(library_a: Any) -> ExpectedStudent:
    return ExpectedStudent.objects.create(
        library=library_a,
        student_number="2017110123",
        name=AUTHOR,
        name_en="Li Ming",
        college="林学院",
        degree_level=DegreeLevel.MASTER,
        degree_type=DegreeType.ACADEMIC,
        discipline_code="090702",
        supervisor="王志刚",
        year=2020,
    )


@pytest.fixture
def student(patron_a: Any, expected: ExpectedStudent) -> Any:
    """patron_a, linked to the expected-list row (as after the claim step)."""
    expected.user = patron_a
    expected.save()
    return patron_a


def metadata(**over: Any) -> dict[str, Any]:
    data = {
        "title": TITLE,
        "title_en": TITLE_EN,
        "author": AUTHOR,
        "author_en": "Li Ming",
        "discipline_code": "090702",
        "supervisor": "王志刚",
        "supervisor_en": "Wang Zhigang",
        "keywords": "城市森林；碳汇；寒地",
        "keywords_en": "urban forest; carbon sink; cold region",
        "abstract": "本文测定了哈尔滨城市森林的碳储量。",
        "abstract_en": "We measured the carbon storage of Harbin's urban forests.",
        "confidentiality": "public",
        "release_date": "",
        "agreement": "on",
    }
    data.update(over)
    return data
