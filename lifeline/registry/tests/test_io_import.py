"""Registry import: both header languages and encodings, dry run, idempotence, commands."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation
from openpyxl import Workbook

from lifeline.core.choices import AuditAction
from lifeline.core.models import AuditLog, Library
from lifeline.registry.io.services import Upload, import_registry
from lifeline.registry.models import AccessRoute, Category, Resource, Vendor

VENDORS_ZH = """供应商标识,名称,英文名称,电话,电子邮箱,响应时限（小时）,首选语言
cnki,同方知网,CNKI,010-12345678,help@cnki.example.com,4,中文
elsevier,爱思唯尔,Elsevier,,support@elsevier.example.com,,English
"""

RESOURCES_ZH = """数据库标识,名称,英文名称,所属数据库,供应商,语种,分类,内容类型,主页,订购开始日期,订购结束日期,价格,币种,允许校外访问,并发用户数,文本与数据挖掘
cnki,中国知网,CNKI,,cnki,中文,综合,期刊、学位论文,https://www.cnki.net/,2026-01-01,2026/12/31,"120,000.00",人民币,是,,需申请
cnki-cjfd,中国学术期刊全文数据库,CJFD,cnki,cnki,中文,综合,期刊,https://kns.cnki.net/,2026年1月1日,2026-12-31,,CNY,是,10,未说明
sd,ScienceDirect,,,elsevier,外文,综合,"journals, ebooks",https://www.sciencedirect.com/,,,30000,USD,yes,,allowed
"""  # noqa: E501

ROUTES_EN = """resource key,kind,label,URL,SP login URL,IdP entity ID,target,IP ranges,account user name,account password,available from,available until,instructions
cnki,CARSI one-click login,,,https://fsso.cnki.net/Shibboleth.sso/Login,,https://www.cnki.net/,,,,,,用 CARSI 登录
cnki,campus_ip,,https://www.cnki.net/,,,,"10.10.0.0/16; 202.118.0.0-202.118.15.255",,,,,
sd,proxy,,https://www.sciencedirect.com/,,,,,,,,,
sd,free_access,COVID,https://free.example.com/,,,,,guest,s3cret,2026-02-01,2026-06-30,
"""  # noqa: E501


def up(name: str, text: str, encoding: str = "utf-8", kind: str | None = None) -> Upload:
    return Upload(name, text.encode(encoding), kind)


def full_import(library: Library, dry_run: bool = False) -> Any:
    return import_registry(
        library,
        [
            up("vendors.csv", VENDORS_ZH),
            up("resources.csv", RESOURCES_ZH, "gb18030"),
            up("routes.csv", ROUTES_EN, "utf-8-sig"),
        ],
        dry_run=dry_run,
    )


def test_import_creates_everything_across_encodings_and_header_languages(
    library_a: Library,
) -> None:
    report = full_import(library_a)
    assert report.ok, [str(e) for e in report.errors]
    assert report.applied
    assert report.encodings == {
        "vendors.csv": "UTF-8",
        "resources.csv": "GB18030/GBK",
        "routes.csv": "UTF-8 (BOM)",
    }
    assert report.totals() == {"create": 9, "update": 0, "unchanged": 0, "errors": 0}
    cnki = Resource.objects.get(library=library_a, key="cnki")
    assert cnki.vendor == Vendor.objects.get(key="cnki") and cnki.vendor.response_hours == 4
    assert cnki.price == Decimal("120000.00") and cnki.currency == "CNY"
    assert cnki.content_type_list == ["journals", "theses"]
    assert cnki.text_mining == "on_request"
    assert cnki.subscription_end == dt.date(2026, 12, 31)
    assert "中国知网" in cnki.search_text
    sub = Resource.objects.get(key="cnki-cjfd")
    assert (
        sub.parent == cnki
        and sub.subscription_start == dt.date(2026, 1, 1)
        and sub.concurrent_users == 10
    )
    sd = Resource.objects.get(key="sd")
    assert sd.language == "foreign" and sd.content_type_list == ["ebooks", "journals"]
    assert Category.objects.filter(library=library_a, name="综合").count() == 2  # one per language
    assert Vendor.objects.get(key="elsevier").preferred_language == "en"
    carsi = AccessRoute.objects.get(resource=cnki, kind="carsi")
    assert "entityID=https%3A%2F%2Fidp.nefu.edu.cn" in carsi.wayfless_url()
    campus = AccessRoute.objects.get(resource=cnki, kind="campus_ip")
    assert campus.ip_ranges == "10.10.0.0/16\n202.118.0.0-202.118.15.255"
    free = AccessRoute.objects.get(resource=sd, kind="free_access")
    assert (free.account_username, free.account_password, free.ends_on) == (
        "guest",
        "s3cret",
        dt.date(2026, 6, 30),
    )
    log = AuditLog.objects.get(action=AuditAction.IMPORT)
    assert log.library == library_a and log.after["counts"]["resources"]["create"] == 3
    # Bulk writes: one audit row for the import, not one per record.
    assert AuditLog.objects.count() == 1


def test_reimport_is_idempotent_and_dry_run_writes_nothing(library_a: Library) -> None:
    dry = full_import(library_a, dry_run=True)
    assert dry.ok and not dry.applied and dry.totals()["create"] == 9
    assert (
        not Resource.objects.exists()
        and not Vendor.objects.exists()
        and not Category.objects.exists()
    )
    assert not AuditLog.objects.exists()
    full_import(library_a)
    again = full_import(library_a)
    assert again.ok and again.totals() == {"create": 0, "update": 0, "unchanged": 9, "errors": 0}
    assert Resource.objects.count() == 3 and AccessRoute.objects.count() == 4


def test_update_changes_only_given_columns(library_a: Library) -> None:
    full_import(library_a)
    report = import_registry(
        library_a, [up("r.csv", "key,name,price\ncnki,中国知网,99\n")], dry_run=False
    )
    assert report.ok and report.totals()["update"] == 1
    assert report.rows[0].changed == ["price"] and report.rows[0].changed_headers == ["price"]
    cnki = Resource.objects.get(key="cnki")
    assert (
        cnki.price == Decimal("99.00")
        and cnki.vendor is not None
        and cnki.homepage == "https://www.cnki.net/"
    )


def test_command_dry_run_then_import(
    library_a: Library, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = []
    for name, text, encoding in (
        ("v.csv", VENDORS_ZH, "utf-8"),
        ("r.csv", RESOURCES_ZH, "gbk"),
        ("routes.csv", ROUTES_EN, "utf-8-sig"),
    ):
        (tmp_path / name).write_bytes(text.encode(encoding))
        files.append(str(tmp_path / name))
    with translation.override("en"):
        call_command("import_resources", *files, "--dry-run")
        out = capsys.readouterr()
        assert (
            "Dry run, nothing written: 9 to create" in out.out
            and "r.csv: read as GB18030/GBK" in out.out
        )
        assert "reading" in out.err  # progress on stderr
        assert not Resource.objects.exists()
        call_command("import_resources", *files, "--library", "nefu")
        assert "Imported: 9 to create" in capsys.readouterr().out
    assert Resource.objects.count() == 3


def test_command_errors(
    library_a: Library, library_b: Library, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("key,name,homepage\nok,OK,https://ok.example.com/\nx,X,nope\n", encoding="utf-8")
    with translation.override("en"):
        with pytest.raises(CommandError, match="several libraries"):
            call_command("import_resources", str(bad))
        with pytest.raises(CommandError, match="1 errors: nothing was written"):
            call_command("import_resources", str(bad), "--library", "nefu")
        assert (
            "bad.csv:3: column “3 homepage”: “nope” is not a web address" in capsys.readouterr().err
        )
        with pytest.raises(CommandError, match="above the limit of 10 B"):
            call_command("import_resources", str(bad), "--library", "nefu", "--max-bytes", "10")
        with pytest.raises(CommandError, match="No such file"):
            call_command("import_resources", str(tmp_path / "missing.csv"), "--library", "nefu")
        with pytest.raises(CommandError, match="No library with code “zz”"):
            call_command("import_resources", str(bad), "--library", "zz")
    assert not Resource.objects.exists()


def test_xlsx_workbook_with_all_three_sheets(library_a: Library) -> None:
    wb = Workbook()
    sheets = {"Access routes": ROUTES_EN, "供应商": VENDORS_ZH, "Resources": RESOURCES_ZH}
    wb.remove(wb.active)
    for title, text in sheets.items():
        ws = wb.create_sheet(title)
        for row in csv.reader(io.StringIO(text)):
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    report = import_registry(library_a, [Upload("all.xlsx", buf.getvalue())], dry_run=False)
    assert report.ok, [str(e) for e in report.errors]
    assert report.encodings == {"all.xlsx": "XLSX"} and report.totals()["create"] == 9


def test_forced_kind_and_guessing(library_a: Library) -> None:
    # Only key and name: a vendors file when forced, otherwise resources.
    report = import_registry(
        library_a, [up("v.csv", "key,name\nv1,V\n", kind="vendors")], dry_run=True
    )
    assert report.rows[0].kind == "vendors"
    report = import_registry(library_a, [up("r.csv", "key,name\nr1,R\n")], dry_run=True)
    assert report.rows[0].kind == "resources"
    report = import_registry(
        library_a, [up("v.csv", "供应商标识,名称,微信\nv1,V,wx\n")], dry_run=True
    )
    assert report.rows[0].kind == "vendors"
