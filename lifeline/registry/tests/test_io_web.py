"""Staff pages: upload → preview → apply, KBART, downloads, and who may use them."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from lifeline.conftest import client_for
from lifeline.core.choices import AuditAction
from lifeline.core.models import AuditLog, ImportJob, Library
from lifeline.registry.models import KbartTitle, Resource

CSV = "数据库标识,名称,主页\ncnki,中国知网,https://www.cnki.net/\nwf,万方,https://www.wanfangdata.com.cn/\n".encode(
    "gbk"
)
IMPORT = reverse("registry:io_import")


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def upload(
    client: Client,
    data: bytes = CSV,
    library: str = "nefu",
    name: str = "r.csv",
    url: str = IMPORT,
    **extra: str,
) -> Any:
    return client.post(url, {"library": library, "file": SimpleUploadedFile(name, data), **extra})


def preview(client: Client, *args: Any, **kwargs: Any) -> Any:
    """Upload, then follow the dry run's job page to its outcome (tasks run at once in tests)."""
    response = upload(client, *args, **kwargs)
    assert response.status_code == 302, response.status_code
    return client.get(response["Location"], follow=True)


def preview_job() -> ImportJob:
    return ImportJob.objects.filter(kind__endswith="preview").latest("pk")


def test_preview_then_apply(librarian_a: Any, librarian_b: Any) -> None:
    client = client_for(librarian_a)
    client.cookies["lifeline_lang"] = "en"
    assert client.get(IMPORT).status_code == 200
    response = preview(client)
    # The dry run ran as a background job (issue 16, part 3); its outcome page shows the plan.
    dry = preview_job()
    assert response.status_code == 200 and dry.kind == "registry.preview"
    assert response.redirect_chain[-1][0] == reverse("registry:io_preview", args=[dry.pk])
    assert dry.result["totals"] == {"create": 2, "update": 0, "unchanged": 0, "errors": 0}
    assert b"GB18030/GBK" in response.content and b"Apply these changes" in response.content
    assert dry.file, "the preview keeps the upload for the confirmation"
    assert not Resource.objects.exists()
    # Nobody else sees or confirms it, not even a librarian of another library (404).
    other_librarian = client_for(librarian_b)
    assert other_librarian.get(reverse("registry:io_preview", args=[dry.pk])).status_code == 404
    assert other_librarian.post(reverse("registry:io_apply", args=[dry.pk])).status_code == 404
    assert other_librarian.get(reverse("core:job", args=[dry.pk])).status_code == 404
    assert Client().get(reverse("registry:io_preview", args=[dry.pk])).status_code == 302
    response = client.post(reverse("registry:io_apply", args=[dry.pk]), follow=True)
    # Confirmed, the import ran as a background job on the kept file, without a second upload.
    job = ImportJob.objects.get(kind="registry.import")
    assert response.redirect_chain[0][0] == reverse("core:job", args=[job.pk])
    assert job.status == "done" and job.kind == "registry.import" and not job.file
    assert response.status_code == 200 and "2 to create" in response.content.decode()
    other = client_for(
        type(librarian_a).objects.create_superuser("root", "r@example.edu", "pw-long-enough-1")
    )
    assert other.get(reverse("core:job", args=[job.pk])).status_code == 200  # a superuser
    assert Resource.objects.filter(library__code="nefu").count() == 2
    log = AuditLog.objects.get(action=AuditAction.IMPORT)
    assert log.user == librarian_a and log.after["files"] == ["r.csv"]
    # The kept upload is single-use.
    dry.refresh_from_db()
    assert not dry.file
    assert client.post(reverse("registry:io_apply", args=[dry.pk])).status_code == 404
    preview(client)
    assert preview_job().result["totals"]["unchanged"] == 2


def test_errors_are_listed_in_chinese_and_nothing_is_offered(librarian_a: Any) -> None:
    response = preview(
        client_for(librarian_a), "数据库标识,名称,主页\ncnki,知网,not-a-url\n".encode()
    )
    assert response.status_code == 200 and not response.context["can_confirm"]
    text = response.content.decode()
    assert "r.csv" in text and "3 主页" in text and "not-a-url" in text
    assert "没有写入任何数据" in text
    assert not Resource.objects.exists()


def test_garbage_upload_is_a_clear_error_not_a_500(librarian_a: Any) -> None:
    response = preview(client_for(librarian_a), b"\x00\xff" * 500, name="photo.jpg")
    assert response.status_code == 200 and not response.context["ok"]


def test_too_big_upload_is_refused_before_reading(librarian_a: Any, settings: Any) -> None:
    settings.LIFELINE_MAX_UPLOAD_BYTES = 1000
    client = client_for(librarian_a)
    response = upload(client, b"key,name\n" + b"x,y\n" * 50_000)
    assert response.status_code == 413
    response = upload(
        client, b"key,name\n" + b"x,y\n" * 300
    )  # within the envelope, above the limit
    assert (
        response.status_code == 400 and "above the limit" in str(response.context["form"].errors)
    ) or "超过" in response.content.decode()
    assert not Resource.objects.exists()


def test_permissions(
    librarian_a: Any,
    librarian_b: Any,
    reference_a: Any,
    tech_a: Any,
    library_a: Library,
    client: Client,
) -> None:
    # Librarian of B cannot import into A: A is not among her libraries.
    response = upload(client_for(librarian_b), library="nefu")
    assert response.status_code == 400 and not Resource.objects.exists()
    assert preview(client_for(librarian_b), library="hit").status_code == 200
    for user in (reference_a, tech_a):
        assert client_for(user).get(IMPORT).status_code == 403
        assert upload(client_for(user)).status_code == 403
        assert client_for(user).get(reverse("registry:io_export")).status_code == 403
    assert client.get(IMPORT).status_code == 302  # anonymous → sign in
    assert upload(client).status_code == 302
    assert not Resource.objects.filter(library=library_a).exists()


def test_csrf_is_still_checked(librarian_a: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(librarian_a)
    assert upload(client).status_code == 403


def test_downloads(librarian_a: Any, librarian_b: Any) -> None:
    Resource.objects.create(
        library=librarian_a.memberships.get().library, key="cnki", name="中国知网"
    )
    client = client_for(librarian_a)
    export = reverse("registry:io_export")
    assert client.get(export).status_code == 200
    response = client.get(export, {"library": "nefu", "format": "xlsx", "kind": "resources"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert load_workbook(io.BytesIO(response.content)).sheetnames == ["供应商", "资源", "访问途径"]
    response = client.get(
        export, {"library": "nefu", "format": "csv", "kind": "resources", "lang": "en"}
    )
    assert (
        response.content.startswith(b"\xef\xbb\xbfkey,name")
        and "attachment" in response["Content-Disposition"]
    )
    assert (
        b"Title"
        not in client.get(
            export, {"library": "nefu", "format": "ezproxy", "kind": "routes"}
        ).content.split(b"\n", 1)[1]
    )
    # B's librarian gets no download of A.
    response = client_for(librarian_b).get(
        export, {"library": "nefu", "format": "csv", "kind": "resources"}
    )
    assert response.status_code == 200 and b"cnki" not in response.content


def test_kbart_upload(librarian_a: Any, library_a: Library) -> None:
    resource = Resource.objects.create(library=library_a, key="nature", name="Nature")
    client = client_for(librarian_a)
    url = reverse("registry:io_kbart")
    assert client.get(url).status_code == 200
    tsv = b"publication_title\tprint_identifier\nNature\t00280836\n"
    response = preview(client, tsv, name="k.txt", url=url, resource="nature")
    assert response.status_code == 200 and preview_job().result["rows"] == 1
    assert not KbartTitle.objects.exists()
    response = client.post(reverse("registry:io_apply", args=[preview_job().pk]))
    assert response.status_code == 302
    assert ImportJob.objects.get(kind="registry.kbart").status == "done"
    assert KbartTitle.objects.get(resource=resource).print_identifier == "0028-0836"
    response = upload(client, tsv, name="k.txt", url=url, resource="ghost")
    assert response.status_code == 400
    response = preview(
        client,
        b"publication_title\tprint_identifier\nNature\t00280837\n",
        name="k.txt",
        url=url,
        resource="nature",
    )
    assert not response.context["can_confirm"] and "00280837" in response.content.decode()


def test_xlsx_upload_is_checked_for_a_zip_bomb_once_by_the_one_opener(librarian_a: Any) -> None:
    """core.uploads checks the upload; the registry's reader does not check it again."""
    from unittest import mock

    from openpyxl import Workbook

    from lifeline.registry.io import reading

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["数据库标识", "名称", "主页"])
    ws.append(["cnki", "中国知网", "https://www.cnki.net/"])
    out = io.BytesIO()
    wb.save(out)
    with mock.patch.object(reading, "check_zip", wraps=reading.check_zip) as again:
        response = preview(client_for(librarian_a), out.getvalue(), name="r.xlsx")
    assert response.status_code == 200 and preview_job().result["totals"]["create"] == 1
    assert again.call_count == 0
    # A file that did not come through the opener (a command's) is still checked, by the same rule.
    with mock.patch.object(reading, "check_zip", wraps=reading.check_zip) as once:
        reading.read_tables(out.getvalue(), "r.xlsx")
    assert once.call_count == 1


def test_preview_and_job_pages_with_hostile_ids(librarian_a: Any) -> None:
    client = client_for(librarian_a)
    for pk in ("0", "99999999999999999999999999999"):
        assert client.get(f"/staff/registry/preview/{pk}/").status_code == 404
        assert client.post(f"/staff/registry/preview/{pk}/apply/").status_code == 404
        assert client.get(f"/jobs/{pk}/download/").status_code == 404
        assert client.get(f"/analytics/renewal/{pk}/").status_code == 404
    # A finished import job is no preview: its page cannot be used to confirm anything.
    preview(client)
    client.post(reverse("registry:io_apply", args=[preview_job().pk]))
    real = ImportJob.objects.get(kind="registry.import")
    assert client.get(reverse("registry:io_preview", args=[real.pk])).status_code == 404
    assert client.post(reverse("registry:io_apply", args=[real.pk])).status_code == 404
    assert client.get(reverse("core:job_download", args=[real.pk])).status_code == 404
