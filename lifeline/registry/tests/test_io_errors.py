"""Every bad-input path of the registry import: a clear message naming file, line and column,
and nothing written."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import pytest
from django.utils import translation
from openpyxl import Workbook

from lifeline.core.models import AuditLog, Library
from lifeline.registry.io.services import Upload, import_registry
from lifeline.registry.models import AccessRoute, Category, Resource, Vendor


@pytest.fixture(autouse=True)
def _in_english() -> Iterator[None]:
    with translation.override("en"):
        yield


def run(
    library: Library, text: str | bytes, name: str = "f.csv", kind: str | None = None
) -> list[str]:
    data = text if isinstance(text, bytes) else text.encode()
    report = import_registry(library, [Upload(name, data, kind)], dry_run=False)
    assert not report.applied
    return [str(e) for e in report.errors]


def assert_nothing_written() -> None:
    assert (
        not Resource.objects.exists()
        and not Vendor.objects.exists()
        and not Category.objects.exists()
    )
    assert not AccessRoute.objects.exists() and not AuditLog.objects.exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("名称,语种\n知网,中文\n", "f.csv:1: Required column “数据库标识” / “key” is missing."),
        ("key,name,colour\nok,x,red\n", "f.csv:1: column “3 colour”: Unknown column “colour”."),
        (
            "key,name,名称\nok,x,y\n",
            "f.csv:1: column “3 名称”: Column “名称” repeats column 2 name.",
        ),
        ("key,name,\nok,x,y\n", "f.csv:1: column “3”: This column has no header."),
        (
            "key,name\nok,x\nok,y\n",
            "f.csv:3: column “1 key”: Duplicate: the same key is already on line 2 of f.csv.",
        ),
        (
            "key,name,homepage\nok,x,www.cnki.net\n",
            "f.csv:2: column “3 homepage”: “www.cnki.net” is not a web address",
        ),
        (
            "key,name,订购开始日期\nok,x,2026-13-01\n",
            "f.csv:2: column “3 订购开始日期”: “2026-13-01” is not a date",
        ),
        (
            "key,name,language\nok,x,Klingon\n",
            "f.csv:2: column “3 language”: “Klingon” is not one of the allowed values",
        ),
        (
            'key,name,content types\nok,x,"journals, comics"\n',
            "“comics” is not one of the allowed values",
        ),
        ("key,name,price\nok,x,-5\n", "“-5” must be a number of zero or more."),
        ("key,name,price\nok,x,abc\n", "“abc” is not a number."),
        ("key,name,trial\nok,x,maybe\n", "“maybe” is not yes or no"),
        ("key,name\nbad key!,x\n", "f.csv:2: column “1 key”: “bad key!” is not a valid key"),
        ("key,name\nok,\n", "f.csv:2: column “2 name”: This value is required."),
        (
            "key,name,vendor\nok,x,nobody\n",
            "f.csv:2: column “3 vendor”: No vendor with key or name “nobody”",
        ),
        (
            "key,name,parent\nok,x,ghost\n",
            "f.csv:2: column “3 parent”: No resource with key “ghost”",
        ),
        ("key,name,parent\na,x,b\nb,y,a\n", "would end up inside itself"),
        (
            "key,name,订购开始日期,订购结束日期\nok,x,2026-05-01,2026-01-01\n",
            "f.csv:2: column “4 订购结束日期”: The subscription ends before it starts.",
        ),
        ("key,name\nok,x,extra\n", "f.csv:2: The row has more cells than the header has columns."),
        (
            "key,name\n" + "ok," + "x" * 300 + "\n",
            "f.csv:2: column “2 name”: Ensure this value has at most 250 characters",
        ),
    ],
)
def test_resource_errors(library_a: Library, text: str, expected: str) -> None:
    errors = run(library_a, text)
    assert any(expected in e for e in errors), errors
    assert_nothing_written()


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ("ok,vpn,,notaurl,,", "f.csv:2: column “4 URL”: “notaurl” is not a web address"),
        (
            "ok,campus_ip,,,10.0.0.300/24,",
            "f.csv:2: column “5 IP ranges”: “10.0.0.300/24” is not an IP address or range.",
        ),
        ("ok,teleport,,https://x.example.com/,,", "“teleport” is not one of the allowed values"),
        (
            "ok,free_access,,https://x.example.com/,,",
            "f.csv:2: column “6 available until”: Temporary free access needs an end date.",
        ),
        ("ok,vpn,,,,", "f.csv:2: column “4 URL”: This kind of route needs a URL."),
        (
            "ghost,vpn,,https://x.example.com/,,",
            "f.csv:2: column “1 resource key”: No resource with key “ghost”",
        ),
        (
            "ok,vpn,,https://x.example.com/,,\nok,VPN,,https://y.example.com/,,",
            "f.csv:3: column “3 label”: Duplicate",
        ),
        ("ok,vpn,,https://x.example.com/,,2026-02-30", "“2026-02-30” is not a date"),
    ],
)
def test_route_errors(library_a: Library, rows: str, expected: str) -> None:
    Resource.objects.create(library=library_a, key="ok", name="OK")
    errors = run(library_a, "resource key,kind,label,URL,IP ranges,available until\n" + rows + "\n")
    assert any(expected in e for e in errors), errors
    assert AccessRoute.objects.count() == 0


def test_one_bad_row_among_good_ones_writes_nothing(library_a: Library) -> None:
    rows = "".join(f"r{i},Resource {i},https://r{i}.example.com/\n" for i in range(50))
    errors = run(library_a, "key,name,homepage\n" + rows + "bad,Bad,ftp://nope\n")
    assert errors == [
        "f.csv:52: column “3 homepage”: “ftp://nope” is not a web address (http:// or https://)."
    ]
    assert_nothing_written()


def test_error_in_second_file_blocks_the_first(library_a: Library) -> None:
    report = import_registry(
        library_a,
        [
            Upload("vendors.csv", "供应商标识,名称\nv1,供应商\n".encode()),
            Upload("r.csv", b"key,name,vendor\nr1,R,v2\n"),
        ],
        dry_run=False,
    )
    assert [str(e) for e in report.errors] == [
        "r.csv:2: column “3 vendor”: No vendor with key or name “v2” in this library or this file."
    ]
    assert_nothing_written()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x00\x01\x02\x03binary\x00" * 50, "This is a binary file"),
        (bytes(range(128, 256)) * 20, "neither UTF-8 nor GBK/GB18030"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
            "Old Excel .xls files are not supported",
        ),
        (b"PK\x03\x04 not really a zip", "damaged"),
        (b"", "The file is empty."),
        (b"\n\n  \n", "The file is empty."),
        (b'key,name\nok,"unterminated\n', None),
    ],
)
def test_garbage_files(library_a: Library, data: bytes, expected: str | None) -> None:
    errors = run(library_a, data, "junk.csv")
    assert errors and errors[0].startswith("junk.csv")
    if expected:
        assert expected in errors[0], errors
    assert_nothing_written()


def test_xlsx_zip_bomb_is_refused(library_a: Library) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", b"0" * (70 * 1024 * 1024))
    # The one ZIP bomb rule (core.uploads.check_zip), for bytes that did not come through
    # read_upload (a command's file): above 64 MB, at most 200 times the packed size.
    errors = run(library_a, buf.getvalue(), "bomb.xlsx")
    assert "possible ZIP bomb" in errors[0]


def test_xlsx_errors_name_sheet_row_and_column_letter(library_a: Library) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "资源"
    ws.append(["数据库标识", "名称", "主页"])
    ws.append(["ok", "好", "https://ok.example.com/"])
    ws.append(["bad", "坏", "javascript:alert(1)"])
    buf = io.BytesIO()
    wb.save(buf)
    errors = run(library_a, buf.getvalue(), "book.xlsx")
    assert errors == [
        "book.xlsx › 资源:3: column “C 主页”: “javascript:alert(1)” is not a web address (http:// or https://)."  # noqa: E501
    ]


def test_gbk_file_with_chinese_headers_is_detected(library_a: Library) -> None:
    report = import_registry(
        library_a,
        [Upload("gbk.csv", "数据库标识,名称,语种\nwf,万方数据,中文\n".encode("gbk"))],
        dry_run=False,
    )
    assert report.ok and report.encodings == {"gbk.csv": "GB18030/GBK"}
    assert Resource.objects.get(key="wf").name == "万方数据"


def test_libraries_are_kept_apart(library_a: Library, library_b: Library) -> None:
    Vendor.objects.create(library=library_b, key="cnki", name="知网")
    errors = run(library_a, "key,name,vendor\nr,R,cnki\n")
    assert "No vendor with key or name “cnki”" in errors[0]
    Resource.objects.create(library=library_b, key="same", name="B's")
    report = import_registry(library_a, [Upload("f.csv", b"key,name\nsame,A's\n")], dry_run=False)
    assert report.totals()["create"] == 1
    assert Resource.objects.get(library=library_b, key="same").name == "B's"


def test_a_clash_while_writing_rolls_everything_back(library_a: Library) -> None:
    """Another librarian adds the same key between our check and our write: nothing is kept."""

    checks: list[str] = []

    def meanwhile(stage: str, done: int, total: int) -> None:
        checks.extend([stage] if stage == "checking" else [])
        if len(checks) == 2 and not Resource.objects.exists():  # resources checked, not yet written
            Resource.objects.create(library=library_a, key="r1", name="Added meanwhile")

    files = [
        Upload("v.csv", "供应商标识,名称\nv1,V\n".encode()),
        Upload("r.csv", b"key,name,vendor\nr1,R,v1\n"),
    ]
    report = import_registry(library_a, files, dry_run=False, progress=meanwhile)
    assert not report.applied and "The registry changed while importing" in str(report.errors[0])
    assert not Vendor.objects.exists()
    assert list(Resource.objects.values_list("name", flat=True)) == ["Added meanwhile"]
    assert not AuditLog.objects.filter(action="import").exists()
