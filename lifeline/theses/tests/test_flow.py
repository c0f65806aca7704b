"""The issue's "done when": a thesis fails two checks, is corrected, approved, gets its receipt;
the receipt verifies at the public URL, an edited copy and an edited QR code do not, a revoked
one shows revoked; the deposit package validates. In Chinese and in English."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pymupdf
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from lifeline.conftest import client_for
from lifeline.theses import services
from lifeline.theses.choices import Check, ReceiptState, Status
from lifeline.theses.logic import package
from lifeline.theses.models import StateChange, Thesis
from lifeline.theses.tests.conftest import AUTHOR, TITLE, make_pdf, metadata, upload

pytestmark = pytest.mark.django_db


def _submit(client: Client, library: Any, pdf: bytes, capture: Any, **over: Any) -> Any:
    with capture(execute=True):
        return client.post(
            reverse("theses:submit", args=[library.code]),
            {**metadata(**over), "pdf": upload(pdf)},
        )


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_fail_correct_approve_receipt_verify_revoke_deposit(
    lang: str,
    library_a: Any,
    patron_a: Any,
    expected: Any,
    reference_a: Any,
    admin_a: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    student = client_for(patron_a)
    if lang == "en":
        student.cookies["lifeline_lang"] = "en"
    # The student names herself: number and name must match the graduate school's list.
    r = student.post(
        reverse("theses:home", args=[library_a.code]),
        {"student_number": expected.student_number, "name": AUTHOR},
    )
    assert r.status_code == 302 and r.url == reverse("theses:submit", args=[library_a.code])

    # Version 1: someone else's cover (author) and a body set in an unembedded font.
    r = _submit(
        student, library_a, make_pdf(author="张伟", embed=False), django_capture_on_commit_callbacks
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    thesis = Thesis.objects.get()
    assert thesis.status == Status.CHECKS_FAILED
    page = student.get(reverse("theses:detail", args=[thesis.pk])).content.decode()
    failed = {Check.COVER_AUTHOR.value, Check.FONTS.value}
    for code in failed:
        assert f'data-check="{code}"' in page
    assert 'data-check="cover_title"' not in page
    # Explained in the student's language.
    from django.utils import translation

    with translation.override(lang):
        from lifeline.theses.logic.checks import explain

        text = explain({"check": "fonts", "params": {"fonts": ["Helvetica"]}})
    assert text.split("(")[0] in page
    if lang == "zh-hans":
        assert "嵌入" in text

    # Version 2: corrected; the first version is kept.
    r = _submit(student, library_a, make_pdf(), django_capture_on_commit_callbacks)
    assert r.status_code == 302
    thesis.refresh_from_db()
    assert thesis.status == Status.WAITING
    assert list(thesis.versions.values_list("number", "checks_passed")) == [(1, False), (2, True)]

    # The reviewer approves; the receipt is issued and the package deposited.
    reviewer = client_for(reference_a)
    with django_capture_on_commit_callbacks(execute=True):
        r = reviewer.post(reverse("theses:act", args=[thesis.pk, "approve"]))
    assert r.status_code == 302
    thesis.refresh_from_db()
    assert thesis.status == Status.APPROVED
    moves = list(StateChange.objects.filter(thesis=thesis).values_list("old", "new"))
    assert moves == [
        ("", "checking"),
        ("checking", "checks_failed"),
        ("checks_failed", "checking"),
        ("checking", "waiting"),
        ("waiting", "approved"),
    ]
    assert StateChange.objects.filter(thesis=thesis, new="approved", by=reference_a).exists()

    # The student downloads the receipt: Chinese font embedded, the serial and the verify URL.
    receipt = services.current_receipt(thesis)
    assert receipt is not None
    r = student.get(reverse("theses:receipt", args=[thesis.pk]))
    pdf = b"".join(r.streaming_content)  # type: ignore[attr-defined]
    assert r["Content-Type"] == "application/pdf"
    with pymupdf.open(stream=pdf, filetype="pdf") as doc:
        text = doc[0].get_text()
        fonts = doc[0].get_fonts()
    assert receipt.serial in text and TITLE in text
    assert all(f[1] != "n/a" for f in fonts if "WenQuanYi" in f[3])
    assert services.verify_url(receipt.serial, receipt.signature) in text.replace("\n", "")
    url = services.verify_path(receipt.serial, receipt.signature)

    # Anyone (not signed in) checks it at the public URL.
    public = Client()
    if lang == "en":
        public.cookies["lifeline_lang"] = "en"
    r = public.get(url)
    assert r.status_code == 200
    assert 'data-state="valid"' in r.content.decode()
    assert expected.student_number in r.content.decode()
    # The file as issued matches; an edited copy does not.
    r = public.post(url, {"file": upload(pdf, "receipt.pdf")})
    assert 'id="file-result"' in r.content.decode() and "badge green" in r.content.decode()
    edited = pdf.replace(receipt.serial.encode(), receipt.serial[:-1].encode() + b"9", 1)
    if edited == pdf:
        edited = pdf[:-200] + b" " + pdf[-199:]
    r = public.post(url, {"file": upload(edited, "receipt.pdf")})
    assert "badge red" in r.content.decode()

    # An edited QR code: another signature, or the serial changed.
    bad_sig = receipt.signature[:-2] + ("AA" if receipt.signature[-2:] != "AA" else "BB")
    r = public.get(reverse("theses:verify", args=[receipt.serial]) + f"?s={bad_sig}")
    assert 'data-state="tampered"' in r.content.decode()
    other_serial = receipt.serial[:-1] + "7"
    r = public.get(reverse("theses:verify", args=[other_serial]) + f"?s={receipt.signature}")
    assert 'data-state="unknown"' in r.content.decode()

    # The deposit package was written to the repository folder and validates.
    path = (
        Path(settings.LIFELINE_THESIS_REPOSITORY)
        / library_a.code
        / (f"{library_a.code}-{expected.student_number}.zip")
    )
    data = path.read_bytes()
    files = package.validate(data)
    assert "data/content/thesis.pdf" in files and "data/metadata/etdms.xml" in files
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert TITLE in zf.read(f"{path.stem}/data/metadata/dc.xml").decode()

    # Revoked: the same QR code now says revoked, and the thesis is back with the student.
    r = client_for(admin_a).post(
        reverse("theses:act", args=[thesis.pk, "revoke"]), {"reason": "封面签名页缺失"}
    )
    assert r.status_code == 302
    r = public.get(url)
    assert 'data-state="revoked"' in r.content.decode()
    thesis.refresh_from_db()
    assert thesis.status == Status.RETURNED
    assert services.verify(receipt.serial, receipt.signature).state == ReceiptState.REVOKED


def test_reused_qr_of_another_receipt_shows_that_receipts_owner(
    library_a: Any, student: Any, reference_a: Any
) -> None:
    """A QR code copied onto someone else's paper shows the original owner's name and number:
    the reader sees they differ from the paper. A signature moved to another serial fails."""
    version = services.submit(library_a, student, metadata(), upload(make_pdf()))
    services.run_checks(version)
    receipt = services.approve(version.thesis, reference_a)
    result = services.verify(receipt.serial, receipt.signature)
    assert result.state == ReceiptState.VALID
    assert result.content is not None and result.content["author"] == AUTHOR
    # The stored content edited in the database no longer matches its signature.
    receipt.content = receipt.content.replace(AUTHOR, "张伟")
    receipt.save()
    assert services.verify(receipt.serial, receipt.signature).state == ReceiptState.TAMPERED


def test_confidential_thesis_is_deposited_without_files_until_release(
    library_a: Any, student: Any, reference_a: Any
) -> None:
    import datetime as dt

    version = services.submit(
        library_a,
        student,
        metadata(confidentiality="internal", release_date=dt.date(2099, 6, 30)),
        upload(make_pdf()),
    )
    services.run_checks(version)
    services.approve(version.thesis, reference_a)
    thesis = Thesis.objects.get()
    _name, data, full = services.build_package(thesis)
    assert not full
    files = package.validate(data)
    assert not any(f.startswith("data/content/") for f in files)
    # After the release date the daily job deposits it again with the full text.
    assert services.deposit_released(today=dt.date(2099, 7, 1)) == 1
    thesis.refresh_from_db()
    assert thesis.deposited_full_text
