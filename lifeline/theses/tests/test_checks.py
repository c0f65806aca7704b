"""Bad PDFs: encrypted, broken, scan-only, too big (500 MB declared), another student's thesis.
Each gets a clear message in the student's language, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from lifeline.conftest import client_for
from lifeline.theses import services
from lifeline.theses.choices import Check, Status
from lifeline.theses.logic.checks import explain, failures
from lifeline.theses.models import Rules, Thesis
from lifeline.theses.tests.conftest import make_pdf, metadata, upload

pytestmark = pytest.mark.django_db


def _failed(library: Any, user: Any, pdf: bytes, **over: Any) -> set[str]:
    version = services.submit(library, user, metadata(**over), upload(pdf))
    services.run_checks(version)
    version.refresh_from_db()
    return {c["check"] for c in version.checks if not c["ok"]}


def test_good_pdf_passes_every_check(library_a: Any, student: Any) -> None:
    assert _failed(library_a, student, make_pdf()) == set()
    assert Thesis.objects.get().status == Status.WAITING


def test_english_title_on_the_cover_is_enough(library_a: Any, student: Any) -> None:
    pdf = make_pdf(title="Carbon Sink Function of Urban Forests in Cold Regions")
    assert _failed(library_a, student, pdf) == set()


def test_encrypted(library_a: Any, student: Any) -> None:
    assert _failed(library_a, student, make_pdf(password="secret")) == {Check.NOT_ENCRYPTED}
    assert Thesis.objects.get().status == Status.CHECKS_FAILED


def test_broken(library_a: Any, student: Any) -> None:
    broken = b"%PDF-1.7\n" + bytes(range(256)) * 40
    assert Check.OPENS in _failed(library_a, student, broken)


def test_scan_only(library_a: Any, student: Any) -> None:
    failed = _failed(library_a, student, make_pdf(text=False))
    assert Check.TEXT in failed and Check.COVER_TITLE in failed


def test_another_students_thesis(library_a: Any, student: Any) -> None:
    other = make_pdf(title="松嫩平原盐碱地植被恢复研究", author="王芳")
    assert _failed(library_a, student, other) == {Check.COVER_TITLE, Check.COVER_AUTHOR}


def test_too_few_pages(library_a: Any, student: Any) -> None:
    assert _failed(library_a, student, make_pdf(pages=5)) == {Check.PAGES}


def test_file_over_the_librarys_limit_is_refused_at_upload(library_a: Any, student: Any) -> None:
    Rules.objects.update_or_create(library=library_a, defaults={"max_bytes": 10_000})
    with pytest.raises(ValidationError) as info:
        services.submit(library_a, student, metadata(), upload(make_pdf()))
    assert info.value.code == "too_big"
    assert not Thesis.objects.exists()


def test_500_mb_upload_is_refused_before_the_body_is_read(library_a: Any, student: Any) -> None:
    client = client_for(student)
    r = client.post(
        reverse("theses:submit", args=[library_a.code]),
        {**metadata(), "pdf": upload(b"%PDF-1.4 tiny")},
        CONTENT_LENGTH=str(500 * 1024 * 1024),
    )
    assert r.status_code == 302
    assert not Thesis.objects.exists()
    page = client.get(r.url)
    assert "500.0 MB" in page.content.decode() or "500.0 MB" in page.content.decode().replace(
        "\xa0", " "
    )


def test_not_a_pdf_at_all_is_refused_with_the_form(library_a: Any, student: Any) -> None:
    r = client_for(student).post(
        reverse("theses:submit", args=[library_a.code]),
        {**metadata(), "pdf": upload(b"\x89PNG\r\n\x1a\n" + b"0" * 100, "thesis.pdf")},
    )
    assert r.status_code == 200
    assert "PNG" in r.content.decode()
    assert not Thesis.objects.exists()


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_every_failure_is_explained_in_both_languages(lang: str) -> None:
    results = [
        {"check": c.value, "ok": False, "params": {"pages": 3, "min": 20, "max": 600}}
        for c in Check
    ]
    with translation.override(lang):
        texts = failures(results)
        default = explain({"check": "nonsense"})
    assert len(texts) == len(Check)
    assert all(t["text"] and t["text"] != default for t in texts)
    if lang == "zh-hans":
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in t["text"]) for t in texts)


def test_checks_failed_page_and_resubmission_keeps_versions(library_a: Any, student: Any) -> None:
    version = services.submit(library_a, student, metadata(), upload(make_pdf(password="x")))
    services.run_checks(version)
    client = client_for(student)
    page = client.get(reverse("theses:detail", args=[version.thesis_id])).content.decode()
    assert 'data-check="not_encrypted"' in page
    second = services.submit(library_a, student, metadata(), upload(make_pdf()))
    services.run_checks(second)
    thesis = Thesis.objects.get()
    assert thesis.status == Status.WAITING
    assert [v.number for v in thesis.versions.all()] == [1, 2]
    # The first version's file is still there, readable by the student.
    r = client.get(reverse("theses:file", args=[thesis.pk, 1]))
    assert r.status_code == 200


def test_no_new_version_while_waiting(library_a: Any, student: Any) -> None:
    version = services.submit(library_a, student, metadata(), upload(make_pdf()))
    services.run_checks(version)
    with pytest.raises(ValidationError):
        services.submit(library_a, student, metadata(), upload(make_pdf()))
    r = client_for(student).get(reverse("theses:submit", args=[library_a.code]))
    assert r.status_code == 302
