"""A year of past requests imported (GBK CSV and XLSX) and the seed's figures read back from it."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from lifeline.conftest import client_for
from lifeline.core.models import AuditLog, ImportJob
from lifeline.delivery import services
from lifeline.delivery.logic import importer, stats
from lifeline.delivery.models import DeliveryRequest, Supplier

pytestmark = pytest.mark.django_db

TYPES = ["外文期刊", "外文图书", "中文期刊", "中文图书", "教材", "学位论文", "标准", "专利"]
SUPPLIERS = ["worldlib其他数据库", "worldlib人工智能在线咨询"]


def year_csv(rows: int = 1200, supplied: int = 1150) -> str:
    """A year (2020) of requests, rows spread over the days; `supplied` of them delivered."""
    lines = ["编号,提交时间,完成时间,题名,文献类型,结果,服务群,供应方,ISSN,刊名"]
    for i in range(rows):
        day = dt.date(2020, 1, 1) + dt.timedelta(days=i * 366 // rows)
        done = i < supplied
        lines.append(
            ",".join(
                [
                    f"WL-{i:05d}",
                    f"{day} 09:00",
                    f"{day} {10 + i % 10}:00" if done else "",
                    f"题名{i}",
                    TYPES[i % 8],
                    "已提供" if done else "未满足",
                    f"WorldLib群{i % 2 + 1}",
                    SUPPLIERS[i % 2] if done else "",
                    "0028-0836" if i % 3 == 0 else "",
                    "Nature" if i % 3 == 0 else "",
                ]
            )
        )
    return "\n".join(lines) + "\n"


def test_year_import_gives_fill_rate_to_one_decimal(library_a: Any) -> None:
    data = year_csv().encode("gbk")
    result = importer.import_requests(library_a, "2020.csv", data)
    assert (result.created, result.updated, result.suppliers_created) == (1200, 0, 2)
    s = stats.summary(library_a, dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    assert (s["requested"], s["supplied"], s["fill_rate"]) == (1200, 1150, 95.8)
    # Turnarounds of 1..10 service hours, 115 of each: nearest-rank median 5 (575 of 1150 at or
    # below it), 90th percentile 9 (1035 of 1150) — the same on SQLite and PostgreSQL.
    assert s["median_hours"] == 5.0 and s["p90_hours"] == 9.0
    # Re-running the same file adds nothing: keyed on the external id.
    again = importer.import_requests(library_a, "2020.csv", data)
    assert (again.created, again.updated) == (0, 1200)
    assert DeliveryRequest.objects.filter(library=library_a).count() == 1200
    assert AuditLog.objects.filter(action="import", model="delivery.DeliveryRequest").count() == 2


def test_tables_2_and_3_of_the_seed(library_a: Any) -> None:
    importer.import_requests(library_a, "2020.csv", year_csv().encode("utf-8"))
    # Table 2: WorldLib service groups 1 and 2 together, January to October.
    channels = stats.per_channel(library_a, dt.date(2020, 1, 1), dt.date(2020, 10, 31))
    assert [c["channel"] for c in channels] == ["WorldLib群1", "WorldLib群2"]
    jan_oct = DeliveryRequest.objects.filter(created_at__date__lte=dt.date(2020, 10, 31))
    assert sum(c["requested"] for c in channels) == jan_oct.count()
    assert sum(c["supplied"] for c in channels) == jan_oct.filter(status="delivered").count()
    # Table 3: supplied per service, 2020-01-01 to 09-30.
    suppliers = stats.per_supplier(library_a, dt.date(2020, 1, 1), dt.date(2020, 9, 30))
    assert {s["supplier__name"] for s in suppliers} == set(SUPPLIERS)
    assert (
        sum(s["supplied"] for s in suppliers)
        == DeliveryRequest.objects.filter(
            status="delivered", created_at__date__lte=dt.date(2020, 9, 30)
        ).count()
    )
    months = stats.per_month(library_a, dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    assert len(months) == 12 and sum(m["requested"] for m in months) == 1200
    assert len(stats.per_type(library_a, dt.date(2020, 1, 1), dt.date(2020, 12, 31))) == 8


def test_bad_file_names_line_and_column_and_writes_nothing(library_a: Any) -> None:
    text = year_csv(5, 5).splitlines()
    text[2] = text[2].replace("已提供", "飞走了")
    cells = text[4].split(",")
    cells[1] = "2020-13-45 09:00"
    text[4] = ",".join(cells)
    text.append(text[1])  # the same external id twice
    with pytest.raises(importer.ImportFailed) as exc:
        importer.import_requests(library_a, "bad.csv", "\n".join(text).encode("gbk"))
    errors = exc.value.messages
    assert any(e.startswith("Line 3, column “status”") for e in errors)
    assert any(e.startswith("Line 5, column “created_at”") for e in errors)
    assert any(e.startswith("Line 7, column “external_id”") and "line 2" in e for e in errors)
    assert DeliveryRequest.objects.count() == 0 and Supplier.objects.count() == 0
    with pytest.raises(importer.ImportFailed, match="missing column"):
        importer.import_requests(library_a, "x.csv", b"title,status\nA,delivered\n")


def test_xlsx_import_in_the_background(
    library_a: Any, delivery_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["external_id", "submitted", "title", "status", "type", "supplier"])
    ws.append(["X1", dt.datetime(2020, 5, 1, 9), "A", "delivered", "foreign_article", "CASHL"])
    ws.append(["X2", dt.date(2020, 5, 2), "B", "unfilled", "Foreign book", ""])
    buf = io.BytesIO()
    wb.save(buf)
    client = client_for(delivery_a)
    client.cookies["lifeline_lang"] = "en"
    url = reverse("delivery:import", args=[library_a.code])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"file": SimpleUploadedFile("h.xlsx", buf.getvalue())})
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("core:job", args=[job.pk])
    assert DeliveryRequest.objects.count() == 2
    page = client.get(response["Location"]).content.decode()
    assert "2 requests created" in page and 'http-equiv="refresh"' not in page
    job.refresh_from_db()
    assert not job.file  # the uploaded file (names, e-mails) is not kept once imported
    # A bad file: the job page lists the problems, nothing is written.
    bad = b"external_id,submitted,title,status\nA,x,T,lost\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"file": SimpleUploadedFile("bad.csv", bad)})
    page = client.get(response["Location"]).content.decode()
    assert "Line 2, column" in page and DeliveryRequest.objects.count() == 2
    assert client.get(url).status_code == 200


def test_statistics_page_charts_and_xlsx(library_a: Any, delivery_a: Any, english: Any) -> None:
    importer.import_requests(library_a, "2020.csv", year_csv(120, 115).encode())
    english.force_login(delivery_a)
    url = reverse("delivery:statistics", args=[library_a.code])
    page = english.get(url, {"start": "2020-01-01", "end": "2020-12-31"}).content.decode()
    assert "95.8%" in page and "<svg" in page and "Fill rate" in page
    xlsx = english.get(url, {"start": "2020-01-01", "end": "2020-12-31", "format": "xlsx"})
    wb = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    summary = {row[0]: row[1] for row in wb["Summary"].iter_rows(values_only=True)}
    assert summary["Fill rate (%)"] == 95.8 and summary["Requested"] == 120
    assert set(wb.sheetnames) >= {"Per month", "Per type", "Per channel", "Per supplier"}


def test_helpers_for_other_modules(library_a: Any, held_journal: Any, patron_a: Any) -> None:
    importer.import_requests(library_a, "2020.csv", year_csv(30, 20).encode())
    services.submit(
        library_a,
        {"title": "Held", "issn": "0028-0836", "year": 2020},
        patron=patron_a,
        now=dt.datetime(2020, 6, 1, 3, tzinfo=dt.UTC),
    )
    volume = services.volume_between(library_a, dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    assert volume == {"requested": 30, "supplied": 20, "fill_rate": 66.7}
    demand = services.unheld_demand(library_a, dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    top = demand[0]
    assert (top["title"], top["issn"], top["count"]) == (
        "Nature",
        "0028-0836",
        10,
    )  # the deflected request is not "unheld demand"
    assert set(top) == {"title", "issn", "isbn", "count"}


def test_command_line_import(library_a: Any, tmp_path: Any) -> None:
    from django.core.management import CommandError, call_command

    path = tmp_path / "2020.csv"
    path.write_bytes(year_csv(50, 48).encode("gbk"))
    out = io.StringIO()
    call_command("import_delivery", str(path), library=library_a.code, stdout=out)
    assert out.getvalue().startswith("50 created")
    path.write_bytes(b"external_id,submitted,title,status\nA,2020-01-01,T,lost\n")
    with pytest.raises(CommandError, match="Line 2"):
        call_command("import_delivery", str(path), library=library_a.code)


def test_progress_is_reported_and_shown(library_a: Any, delivery_a: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(importer, "PROGRESS_EVERY", 100)
    seen: list[tuple[str, int, int]] = []
    importer.import_requests(
        library_a, "y.csv", year_csv(300, 290).encode(), lambda *a: seen.append(a)
    )
    assert seen == [
        ("checking", 99, 300),
        ("checking", 199, 300),
        ("checking", 299, 300),
        ("writing", 300, 300),
    ]
    job = ImportJob.objects.create(
        library=library_a,
        kind="delivery.history",
        title="big.csv",
        status="running",
        done=500,
        total=2000,
        created_by=delivery_a,
    )
    client = client_for(delivery_a)
    client.cookies["lifeline_lang"] = "en"
    page = client.get(reverse("core:job", args=[job.pk])).content.decode()
    assert 'http-equiv="refresh"' in page and 'value="25"' in page and "500 of 2000" in page
