from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from lifeline.analytics.importer import import_file
from lifeline.analytics.models import UsageReport, UsageSource
from lifeline.conftest import client_for
from lifeline.registry.models import Resource

pytestmark = pytest.mark.django_db


def test_librarian_uploads_a_report(librarian_a: Any, counter_data: Path) -> None:
    client = client_for(librarian_a)
    data = (counter_data / "r51" / "TRJ1_sample_r51.tsv").read_bytes()
    response = client.post(
        reverse("analytics:upload"), {"file": SimpleUploadedFile("trj1.tsv", data)}
    )
    # The import runs as a task (issue 21); its page sends on to the report once done.
    assert response.status_code == 302 and "/jobs/" in response["Location"]
    response = client.get(response["Location"])
    report = UsageReport.objects.get()
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("analytics:report", args=[report.pk])
    )
    page = client.get(response["Location"])
    assert page.status_code == 200 and "Total_Item_Requests" in page.content.decode()
    assert "TR_J1" in client.get(reverse("analytics:index")).content.decode()


def test_bad_upload_shows_every_problem_and_stores_nothing(
    librarian_a: Any, counter_data: Path
) -> None:
    client = client_for(librarian_a)
    client.cookies["lifeline_lang"] = "en"
    data = (
        (counter_data / "r51" / "TRJ1_sample_r51.tsv").read_bytes().replace(b"\t526\t", b"\t-526\t")
    )
    response = client.post(
        reverse("analytics:upload"), {"file": SimpleUploadedFile("trj1.tsv", data)}, follow=True
    )
    body = response.content.decode()
    assert response.status_code == 400 and "negative" in body and "Nothing was stored" in body
    assert not UsageReport.objects.exists()


def test_chinese_messages(librarian_a: Any, counter_data: Path) -> None:
    client = client_for(librarian_a)
    data = (
        (counter_data / "r51" / "TRJ1_sample_r51.tsv").read_bytes().replace(b"\t526\t", b"\t-526\t")
    )
    body = client.post(
        reverse("analytics:upload"), {"file": SimpleUploadedFile("trj1.tsv", data)}, follow=True
    ).content.decode()
    assert "负数" in body and "未保存任何数据" in body


def test_roles_and_libraries(
    tech_a: Any, librarian_b: Any, library_a: Any, patron_a: Any, counter_data: Path
) -> None:
    data = (counter_data / "r50" / "Sample-PR_P1.tsv").read_bytes()
    assert (
        client_for(tech_a)
        .post(reverse("analytics:upload"), {"file": SimpleUploadedFile("p.tsv", data)})
        .status_code
        == 403
    )
    assert client_for(patron_a).get(reverse("analytics:index")).status_code == 403
    report = import_file(library_a, data, "p.tsv")
    assert (
        client_for(librarian_b).get(reverse("analytics:report", args=[report.pk])).status_code
        == 404
    )
    assert client_for(tech_a).get(reverse("analytics:report", args=[report.pk])).status_code == 200


def test_staff_map_a_platform_to_a_resource(
    librarian_a: Any, library_a: Any, counter_data: Path
) -> None:
    import_file(library_a, (counter_data / "r50" / "Sample-PR_P1.tsv").read_bytes(), "p.tsv")
    resource = Resource.objects.create(library=library_a, key="x", name="某数据库")
    source = UsageSource.objects.get(platform="Platform 1")
    assert source.resource is None
    client = client_for(librarian_a)
    assert "Platform 1" in client.get(reverse("analytics:sources")).content.decode()
    client.post(
        reverse("analytics:sources"),
        {"source": source.pk, "resource": resource.pk, "library": library_a.code},
    )
    source.refresh_from_db()
    assert source.resource == resource and source.mapped_by_hand


def test_sushi_pages_add_account_harvest_and_log(
    librarian_a: Any, library_a: Any, counter_data: Path, settings: Any
) -> None:
    from lifeline.analytics.models import SushiCredential, SushiHarvest
    from lifeline.analytics.tests.sushi_server import LoopbackSushi

    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]  # the loopback vendor (core.outbound)

    client = client_for(librarian_a)
    with LoopbackSushi(counter_data) as server:
        form = {
            "name": "Loopback",
            "base_url": server.base_url(),
            "release": "5.1",
            "customer_id": "cust-1",
            "requestor_id": "req-1",
            "api_key": "key-1",
            "reports": "tr_j1, dr",
            "timeout_seconds": 5,
            "is_active": "on",
        }
        assert client.post(reverse("analytics:sushi_new"), form).status_code == 302
        cred = SushiCredential.objects.get()
        assert cred.reports == "TR_J1,DR" and cred.api_key == "key-1"
        # Editing without typing the key keeps it.
        client.post(
            reverse("analytics:sushi_edit", args=[cred.pk]),
            form | {"api_key": "", "name": "Renamed"},
        )
        cred.refresh_from_db()
        assert cred.name == "Renamed" and cred.api_key == "key-1"
        bad = client.post(reverse("analytics:sushi_new"), form | {"reports": "TR_X9"})
        assert bad.status_code == 400 and "TR_X9" in bad.content.decode()
        # Tasks run at once under tests: the harvest reaches the loopback server.
        client.post(
            reverse("analytics:sushi_harvest", args=[cred.pk]),
            {"report": "TR_J1", "begin": "2022-01-01", "end": "2022-12-31"},
        )
        harvest = SushiHarvest.objects.get()
        assert harvest.status == "success"
        page = client.get(reverse("analytics:sushi")).content.decode()
        assert "key-1" not in page and "TR_J1" in page
        assert (
            client.post(reverse("analytics:sushi_reimport", args=[harvest.pk])).status_code == 302
        )
        assert UsageReport.objects.get().source_kind == "reimport"
        assert server.errors == []


def test_tech_cannot_manage_sushi(tech_a: Any) -> None:
    client = client_for(tech_a)
    assert client.get(reverse("analytics:sushi")).status_code == 200
    assert client.get(reverse("analytics:sushi_new")).status_code == 403


def test_log_upload_runs_and_shows_figures(
    librarian_a: Any, library_a: Any, settings: Any, tmp_path: Path
) -> None:
    import gzip

    from lifeline.analytics.models import LogImport
    from lifeline.analytics.tests.test_logs import known_log
    from lifeline.registry.choices import RouteKind
    from lifeline.registry.models import AccessRoute

    settings.MEDIA_ROOT = tmp_path
    cnki = Resource.objects.create(library=library_a, key="cnki", name="中国知网")
    AccessRoute.objects.create(resource=cnki, kind=RouteKind.PROXY, url="https://www.cnki.net/")
    lines, _expected = known_log()
    data = gzip.compress(("\n".join(lines) + "\n").encode())
    client = client_for(librarian_a)
    response = client.post(
        reverse("analytics:logs"), {"file": SimpleUploadedFile("ez.log.gz", data)}
    )
    log = LogImport.objects.get()
    assert response.status_code == 302 and log.status == "done"
    page = client.get(reverse("analytics:log", args=[log.pk])).content.decode()
    assert "中国知网" in page and "www.jstor.org" in page and "13, 14" in page
    assert "alice" not in page


def test_charts_page_dashboard_panel_and_export(
    librarian_a: Any, library_a: Any, counter_data: Path, django_assert_max_num_queries: Any
) -> None:
    import io

    from openpyxl import load_workbook

    from lifeline.registry.models import Category, Vendor

    vendor = Vendor.objects.create(library=library_a, key="v", name="知网公司")
    category = Category.objects.create(library=library_a, language="zh", name="中文数据库")
    Resource.objects.create(
        library=library_a, key="p1", name="Platform 1", vendor=vendor, category=category
    )
    import_file(
        library_a, (counter_data / "r51" / "PRP1_sample_r51.json").read_bytes(), "prp1.json"
    )
    client = client_for(librarian_a)
    # A fixed number of aggregate queries, whatever the number of resources or titles: the
    # page also compares with the year before and lists resources and emergencies.
    with django_assert_max_num_queries(35):
        page = client.get(reverse("analytics:charts"), {"start": "2022-01-01", "end": "2022-12-31"})
    body = page.content.decode()
    assert (
        page.status_code == 200
        and body.count("<svg") == 4
        and "知网公司" in body
        and "中文数据库" in body
    )
    xlsx = client.get(
        reverse("analytics:charts"), {"start": "2022-01-01", "end": "2022-12-31", "format": "xlsx"}
    )
    assert load_workbook(io.BytesIO(xlsx.content)).worksheets[0]["A2"].value == "Platform 1"
    dashboard = client.get(reverse("core:dashboard")).content.decode()
    assert reverse("analytics:charts") in dashboard
