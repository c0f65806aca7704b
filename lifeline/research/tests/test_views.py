"""Pages and API as the patron, the librarians, another library's staff, a stranger, anonymous."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from lifeline.conftest import client_for, make_staff
from lifeline.core.choices import Role
from lifeline.core.models import ImportJob, Library
from lifeline.research.choices import Status
from lifeline.research.models import BiblioRecord, VerificationRequest
from lifeline.research.tests.conftest import CITING, DATA

P1 = "10.1007/s10646-013-1042-4"


def _import(client: Client, name: str, data: bytes, **extra: Any) -> Any:
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            "/research/nefu/import/", {"file": SimpleUploadedFile(name, data), **extra}
        )


def test_patron_from_home_to_verified_report(
    library_a: Library, patron_a: Any, reference_a: Any
) -> None:
    staff = client_for(reference_a)
    r = _import(staff, "savedrecs.txt", (DATA / "wos-plaintext-wok-tethne.txt").read_bytes())
    assert r.status_code == 302
    job = ImportJob.objects.get()
    assert r["Location"] == f"/jobs/{job.pk}/"
    assert (job.kind, job.status, job.result["created"]) == ("research.records", "done", 10)
    assert not job.file  # the upload is gone once imported
    assert _import(staff, "citing.txt", CITING.encode()).status_code == 302
    patron = client_for(patron_a)
    r = patron.post(
        "/research/nefu/request/",
        {
            "papers": f"{P1}\nNot a known paper at all, 2019",
            "purpose": "promotion",
            "databases": ["wos", "scopus"],
        },
    )
    assert r.status_code == 302
    req = VerificationRequest.objects.get()
    assert req.patron_name == "张三" and req.due_at is not None
    assert patron.get("/research/nefu/mine/").status_code == 200
    assert patron.post(f"/research/r/{req.pk}/prepare/").status_code == 403
    staff.post(f"/research/r/{req.pk}/prepare/")
    staff.post(f"/research/r/{req.pk}/issue/")  # same librarian: refused, still prepared
    req.refresh_from_db()
    assert req.status == Status.PREPARED
    reviewer = client_for(make_staff("reviewer_a", library_a, Role.SUBJECT))
    reviewer.post(f"/research/r/{req.pk}/issue/")
    req.refresh_from_db()
    assert req.status == Status.ISSUED
    pdf = patron.get(f"/research/r/{req.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    anonymous = Client()
    url = f"/research/verify/nefu/{req.serial}/{req.signature}/"
    assert anonymous.get(url).status_code == 200
    assert anonymous.get(f"/research/verify/nefu/{req.serial}/{'B' * 86}/").status_code == 404
    assert anonymous.get(f"/research/verify/hit/{req.serial}/{req.signature}/").status_code == 404
    ok = anonymous.post(
        "/research/verify/nefu/", {"file": SimpleUploadedFile("r.pdf", pdf.content)}
    )
    assert ok.context["req"] == req
    body = pdf.content
    edited = body[:999] + bytes([body[999] ^ 1]) + body[1000:]
    bad = anonymous.post("/research/verify/nefu/", {"file": SimpleUploadedFile("r.pdf", edited)})
    assert bad.status_code == 200 and bad.context["checked"] and bad.context["req"] is None
    junk = anonymous.post("/research/verify/nefu/", {"file": SimpleUploadedFile("r.pdf", b"hello")})
    assert junk.status_code == 200 and not junk.context["checked"]
    assert patron.get("/research/nefu/queue/").status_code == 403


def test_failed_import_shows_its_line(library_a: Library, reference_a: Any) -> None:
    staff = client_for(reference_a)
    _import(staff, "scopus.csv", (DATA / "scopus-csv-litstudy.csv").read_bytes())
    job = ImportJob.objects.get()
    assert job.status == "failed" and "5" in job.problems[0]
    assert not BiblioRecord.objects.exists()
    page = staff.get(f"/jobs/{job.pk}/")
    assert page.status_code == 400  # the job page says a refused import is one
    assert job.problems[0] in page.content.decode()
    listing = staff.get("/research/nefu/import/")
    assert f"/jobs/{job.pk}/" in listing.content.decode()


def test_journal_list_import(library_a: Library, reference_a: Any) -> None:
    from lifeline.core.spreadsheets import xlsx_bytes

    data = xlsx_bytes(
        {"CSCD": (["刊名", "ISSN"], [["林业科学", "1001-7488"], ["生态学报", "10000933"]])}
    )
    _import(client_for(reference_a), "cscd.xlsx", data, kind="cscd", year="2021")
    job = ImportJob.objects.get()
    assert (job.kind, job.status, job.result["created"]) == ("research.list", "done", 2)
    assert job.params["list"] == "cscd" and job.params["year"] == 2021


def test_outsiders(
    library_a: Library,
    library_b: Library,
    librarian_b: Any,
    stranger: Any,
    patron_a: Any,
    tech_a: Any,
) -> None:
    req = VerificationRequest.objects.create(
        library=library_a,
        patron=patron_a,
        patron_name="x",
        purpose="award",
        databases=["wos"],
        papers_text="10.1/x",
    )
    for user in (librarian_b, stranger):
        c = client_for(user)
        assert c.get("/research/nefu/import/").status_code == 403
        assert c.get("/research/nefu/queue/").status_code == 403
        assert c.get(f"/research/r/{req.pk}/").status_code == 404
        assert c.post(f"/research/r/{req.pk}/prepare/").status_code == 404
        assert c.get(f"/research/r/{req.pk}/pdf/").status_code == 404
        # Another library's staff see none of library A's; a stranger is refused (issue 21).
        expected = 200 if user == librarian_b else 403
        listing = c.get("/api/research/requests/")
        assert listing.status_code == expected
        if expected == 200:
            assert listing.json() == {"count": 0, "next": None, "previous": None, "results": []}
    assert client_for(stranger).post("/research/nefu/request/", {}).status_code == 403
    assert client_for(tech_a).get("/research/nefu/import/").status_code == 403  # no research.change
    anon = Client()
    assert anon.get("/research/nefu/request/").status_code == 302
    assert anon.get(f"/research/r/{req.pk}/").status_code == 302
    assert anon.get("/api/research/requests/").status_code in (401, 403)
    assert client_for(patron_a).get(f"/research/r/{req.pk}/pdf/").status_code == 404  # not issued
    assert client_for(patron_a).post(f"/research/r/{req.pk}/nonsense/").status_code == 404
    assert client_for(patron_a).get("/api/research/requests/").status_code == 403


def test_staff_api_lists_own_library(library_a: Library, librarian_a: Any, patron_a: Any) -> None:
    VerificationRequest.objects.create(
        library=library_a,
        patron=patron_a,
        patron_name="x",
        purpose="award",
        databases=["wos"],
        papers_text="10.1/x",
    )
    data = client_for(librarian_a).get("/api/research/requests/").json()
    rows = data["results"] if isinstance(data, dict) else data
    assert [r["library"] for r in rows] == ["nefu"]


def test_binary_upload_refused(library_a: Library, reference_a: Any) -> None:
    r = _import(client_for(reference_a), "x.txt", b"\x00\x01\x02" * 100)
    assert r.status_code == 200 and not ImportJob.objects.exists()


def test_huge_upload_refused_before_reading(
    library_a: Library, reference_a: Any, monkeypatch: Any
) -> None:
    from lifeline.research import views

    monkeypatch.setattr(views, "MAX_UPLOAD", 1000)
    r = _import(client_for(reference_a), "big.txt", b"PT J\n" + b"TI x\n" * 1000)
    assert r.status_code == 200 and not ImportJob.objects.exists()
    assert r.context["form"].errors["file"]


def test_uploaded_seal_is_printed_and_download_is_the_issued_file(
    library_a: Library, patron_a: Any, reference_a: Any
) -> None:
    import io

    from django.core.files.base import ContentFile
    from PIL import Image as PILImage

    from lifeline.research.logic import citation
    from lifeline.research.models import ReportSettings

    png = io.BytesIO()
    PILImage.new("RGB", (60, 60), (200, 0, 0)).save(png, "PNG")
    settings_row = ReportSettings(library=library_a)
    settings_row.seal.save("seal.png", ContentFile(png.getvalue()), save=True)
    req = VerificationRequest.objects.create(
        library=library_a,
        patron=patron_a,
        patron_name="x",
        purpose="award",
        databases=["wos"],
        papers_text="10.1/unknown",
    )
    citation.prepare(req, reference_a)
    issued = citation.issue(req, make_staff("reviewer_a", library_a, Role.SUBJECT))
    assert b"/Subtype /Image" in issued or b"/Image" in issued
    # A new seal later does not change the file the patron downloads.
    settings_row.seal.save("seal2.png", ContentFile(png.getvalue()), save=True)
    body = client_for(patron_a).get(f"/research/r/{req.pk}/pdf/").content
    assert body == issued
    assert citation.verify_pdf("nefu", body) is not None


def test_verification_hostile_input(library_a: Library) -> None:
    anon = Client()
    assert (
        anon.get("/research/verify/nefu/NEFU-CR-2026-00001/" + "A" * 5000 + "/").status_code == 404
    )
    assert anon.get("/research/verify/nefu/%3Cscript%3E/abc/").status_code == 404
    assert anon.get("/research/verify/nosuchlib/").status_code == 404
    assert anon.post("/research/verify/nefu/", {}).status_code == 200
