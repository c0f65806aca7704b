"""Exports: CSV with BOM, XLSX in both languages, formula injection neutralised, EZproxy
stanzas, and the round trip export → import changes nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation
from openpyxl import load_workbook

from lifeline.core.models import Library
from lifeline.registry.io.exporting import export_csv, export_ezproxy, export_xlsx
from lifeline.registry.io.services import Upload, import_registry
from lifeline.registry.models import AccessRoute, Category, Resource, Vendor

EVIL = "=cmd|' /C calc'!A0"


@pytest.fixture(autouse=True)
def _in_english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def registry(library_a: Library) -> Library:
    vendor = Vendor.objects.create(
        library=library_a, key="cnki", name="同方知网", phone="010-1234", notes=EVIL
    )
    cat = Category.objects.create(library=library_a, language="zh", name="综合", name_en="General")
    cnki = Resource.objects.create(
        library=library_a,
        key="cnki",
        name="中国知网",
        name_en="CNKI",
        vendor=vendor,
        category=cat,
        homepage="https://www.cnki.net/",
        price=Decimal("1234.50"),
        subscription_end=dt.date(2026, 12, 31),
        description=EVIL,
        walk_in_only=True,
    )
    cnki.set_content_types(["journals", "theses"])
    cnki.save()
    Resource.objects.create(
        library=library_a, key="cnki-sub", name="子库", parent=cnki, language="foreign"
    )
    AccessRoute.objects.create(
        resource=cnki, kind="proxy", url="https://www.cnki.net/kns", target="https://kns.cnki.net/"
    )
    AccessRoute.objects.create(
        resource=cnki,
        kind="proxy",
        label="second",
        url="https://ezproxy.nefu.edu.cn/login?url=https://oversea.cnki.net/",
    )
    AccessRoute.objects.create(
        resource=cnki,
        kind="account",
        url="https://www.cnki.net/",
        account_username="u",
        account_password="secret-pw",
    )
    evil = Resource.objects.create(
        library=library_a, key="evil", name="Evil\nURL http://attacker.example/"
    )
    AccessRoute.objects.create(resource=evil, kind="proxy", url="https://evil.example.org/")
    return library_a


def test_csv_has_bom_chinese_headers_and_neutralised_formulas(registry: Library) -> None:
    data = export_csv(registry, "resources", "zh-hans")
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["数据库标识", "名称", "英文名称"]
    cnki = next(r for r in rows if r[0] == "cnki")
    assert "'" + EVIL in cnki and "期刊、学位论文" in cnki and "是" in cnki and "中文" in cnki
    vendors = export_csv(registry, "vendors", "en").decode("utf-8-sig")
    assert vendors.splitlines()[0].startswith("key,name,English name") and "'" + EVIL in vendors


def test_passwords_only_on_request(registry: Library) -> None:
    assert b"secret-pw" not in export_csv(registry, "routes", "en")
    assert b"secret-pw" in export_csv(registry, "routes", "en", secrets=True)


def test_xlsx_english_sheets_and_formula_is_text(registry: Library) -> None:
    wb = load_workbook(io.BytesIO(export_xlsx(registry, "en")))
    assert wb.sheetnames == ["Vendors", "Resources", "Access routes"]
    ws = wb["Resources"]
    header = [c.value for c in ws[1]]
    assert header[:4] == ["key", "name", "English name", "parent database"]
    values = next(
        [c.value for c in row] for row in ws.iter_rows(min_row=2) if row[0].value == "cnki"
    )
    assert values[header.index("description")] == "'" + EVIL
    assert values[header.index("content types")] == "Journals, Theses"
    assert [r[0].value for r in ws.iter_rows(min_row=2)] == [
        "cnki",
        "evil",
        "cnki-sub",
    ]  # parents first
    assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_round_trip_changes_nothing(registry: Library, language: str) -> None:
    report = import_registry(
        registry, [Upload("all.xlsx", export_xlsx(registry, language))], dry_run=False
    )
    assert report.ok, [str(e) for e in report.errors]
    assert report.totals() == {"create": 0, "update": 0, "unchanged": 8, "errors": 0}
    uploads = [
        Upload(f"{k}.csv", export_csv(registry, k, language))
        for k in ("routes", "vendors", "resources")
    ]
    report = import_registry(registry, uploads, dry_run=False)
    assert report.ok and report.totals()["unchanged"] == 8
    assert AccessRoute.objects.get(kind="account").account_password == "secret-pw"
    assert Resource.objects.get(key="cnki").description == EVIL


def test_round_trip_into_another_library_copies_everything(
    registry: Library, library_b: Library
) -> None:
    report = import_registry(
        library_b, [Upload("all.xlsx", export_xlsx(registry, "zh-hans"))], dry_run=False
    )
    assert report.ok and report.totals()["create"] == 8
    copy = Resource.objects.get(library=library_b, key="cnki")
    assert (
        copy.category.name == "综合"
        and copy.vendor.library == library_b
        and copy.price == Decimal("1234.50")
    )
    assert Resource.objects.get(library=library_b, key="cnki-sub").parent == copy


def test_ezproxy_stanzas(registry: Library) -> None:
    text = export_ezproxy(registry)
    assert (
        "Title 中国知网 (CNKI)\nURL https://www.cnki.net/kns\nDJ cnki.net\nDJ kns.cnki.net\n"
        in text
    )
    # The proxy prefix is taken off a URL stored with it.
    assert "URL https://oversea.cnki.net/\nDJ oversea.cnki.net\n" in text
    # A newline in a name cannot smuggle in a directive of its own.
    assert (
        "Title Evil URL http://attacker.example/\nURL https://evil.example.org/\nDJ evil.example.org"  # noqa: E501
        in text
    )
    assert "\nURL http://attacker" not in text
    assert "account" not in text and text.count("Title ") == 3


def test_export_command(registry: Library, tmp_path: Path) -> None:
    out = tmp_path / "r.xlsx"
    call_command(
        "export_resources",
        "--format",
        "xlsx",
        "--lang",
        "en",
        "--output",
        str(out),
        "--library",
        "nefu",
    )
    assert load_workbook(out).sheetnames == ["Vendors", "Resources", "Access routes"]
    call_command(
        "export_resources", "--format", "csv", "--kind", "routes", "-o", str(tmp_path / "r.csv")
    )
    assert (
        (tmp_path / "r.csv").read_bytes().startswith(b"\xef\xbb\xbf\xe6\x95\xb0")
    )  # BOM, then 数据库标识
    call_command("export_resources", "--format", "ezproxy", "-o", str(tmp_path / "ez.txt"))
    assert "DJ cnki.net" in (tmp_path / "ez.txt").read_text()


def test_export_command_needs_library_when_several(
    registry: Library, library_b: Library, tmp_path: Path
) -> None:
    with pytest.raises(CommandError, match="several libraries"):
        call_command("export_resources", "-o", str(tmp_path / "x.xlsx"))
    with pytest.raises(CommandError, match="No library with code “nope”"):
        call_command("export_resources", "--library", "nope", "-o", str(tmp_path / "x.xlsx"))
