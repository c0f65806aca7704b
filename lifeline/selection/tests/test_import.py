"""Vendor catalogues and holdings: real MARC 21 and CNMARC files, spreadsheets with Chinese
headers in UTF-8 and GBK, and the bad input of the issue (nothing half-imported)."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pymarc
import pytest
from django.test import override_settings
from django.utils import translation
from openpyxl import Workbook

from lifeline.core.models import Library
from lifeline.selection import services
from lifeline.selection.choices import LineStatus, MarcFlavour, SourceFormat
from lifeline.selection.logic.marc import ImportRefused
from lifeline.selection.models import Catalogue, Holding, Title
from lifeline.selection.tests.conftest import CNMARC_XML, cnmarc_records, iso2709, read


def _import(library: Library, data: bytes, **kwargs: Any) -> Catalogue:
    return services.import_catalogue(library, data, name="test", **kwargs)


def _refused(library: Library, data: bytes, **kwargs: Any) -> list[str]:
    with translation.override("en"), pytest.raises(ImportRefused) as info:
        _import(library, data, **kwargs)
    assert not Catalogue.objects.exists() and not Title.objects.exists()
    return info.value.problems


def test_cnmarc_xml_reads_isbn_title_price_and_clc(library_a: Library) -> None:
    catalogue = _import(library_a, CNMARC_XML.read_bytes(), file_name=CNMARC_XML.name)
    assert catalogue.source_format == SourceFormat.MARCXML
    assert catalogue.flavour == MarcFlavour.UNIMARC
    assert catalogue.lines == 10
    first = Title.objects.get(catalogue=catalogue, position=0)
    assert first.isbn == "9787503717444"
    assert "中国发展报告" in first.title
    assert first.price == Decimal("68.00")
    assert first.clc == "F124" and first.clc_class == "F"
    assert first.publisher == "中国统计出版社" and first.year == 1994
    # "CNY赠90.00" (a gift copy's price) still reads as a price.
    assert Title.objects.filter(catalogue=catalogue, price__isnull=False).count() == 9


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_cnmarc_iso2709_in_utf8_and_gbk(library_a: Library, encoding: str) -> None:
    data = iso2709(cnmarc_records(), encoding)
    catalogue = _import(library_a, data, flavour=MarcFlavour.UNIMARC)
    assert catalogue.source_format == SourceFormat.ISO2709 and catalogue.lines == 10
    titles = {t.isbn: t for t in Title.objects.filter(catalogue=catalogue)}
    assert "中国发展报告" in titles["9787503717444"].title
    assert titles["9787503717444"].price == Decimal("68.00")


def test_marc21_real_file(library_a: Library) -> None:
    catalogue = _import(library_a, read("marc21-marc8-pymarc-marc.dat"))
    assert catalogue.flavour == MarcFlavour.MARC21 and catalogue.lines == 20
    first = Title.objects.get(catalogue=catalogue, position=0)
    assert first.isbn == "9780201616224" and first.title.startswith("The pragmatic programmer")
    assert first.author.startswith("Hunt")


def test_marc21_chinese_and_marcxml_in_sru(library_a: Library) -> None:
    cjk = _import(library_a, read("marc21-utf8-cjk-xbib-amstransactions.mrc"))
    assert Title.objects.get(catalogue=cjk).price == Decimal("52.00")
    sru = _import(library_a, read("marcxml-sru-cjk-dp2-sample_marcxml.xml"))
    assert sru.lines == 10
    assert Title.objects.filter(catalogue=sru, publisher="社会科学文献出版社").exists()


def test_unimarc_with_newline_after_the_last_record(library_a: Library) -> None:
    catalogue = _import(library_a, read("unimarc-pymarc-testunimarc.dat"))
    assert catalogue.flavour == MarcFlavour.UNIMARC
    assert Title.objects.get(catalogue=catalogue).isbn == "9788804406822"


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("marc21-broken-pymarc-bad_records.mrc", "Record 2 (byte 127)"),
        ("marc21-broken-yaz-marc4.mrc", "Record 1 (byte 0)"),
        ("marc21-broken-rubymarc-utf8_with_bad_bytes.mrc", "Record 1 (byte 0)"),
        ("marcxml-broken-rubymarc-three-records-second-bad.xml", "Line 72 of the XML"),
    ],
)
def test_broken_marc_is_refused_whole_naming_the_record(
    library_a: Library, name: str, where: str
) -> None:
    problems = _refused(library_a, read(name))
    assert any(where in p for p in problems), problems


def test_truncated_file_names_the_last_record(library_a: Library) -> None:
    data = iso2709(cnmarc_records(), "utf-8")
    problems = _refused(library_a, data[: len(data) - 300])
    assert problems == [problems[0]] and problems[0].startswith("Record 10 (byte")
    assert "truncated" in problems[0]


def test_wrong_record_length_is_named(library_a: Library) -> None:
    data = bytearray(iso2709(cnmarc_records()[:2], "utf-8"))
    data[0:5] = b"%05d" % (int(data[0:5]) - 7)
    problems = _refused(library_a, bytes(data))
    assert problems[0].startswith("Record 1 (byte 0)")


def test_cnmarc_sent_as_marc21_is_refused(library_a: Library) -> None:
    problems = _refused(library_a, iso2709(cnmarc_records(), "utf-8"), flavour=MarcFlavour.MARC21)
    assert "CNMARC" in problems[0] and "MARC 21" in problems[0]
    assert problems[0].startswith("Record 1")


def test_bad_isbn_checksum_refuses_the_catalogue(library_a: Library) -> None:
    records = cnmarc_records()
    records[3]["010"]["a"] = "978-7-5037-1744-5"
    problems = _refused(library_a, iso2709(records, "utf-8"))
    assert problems == [
        f"Record 4 (byte {_offset(records, 3)}): the ISBN 9787503717445 fails its checksum."
    ]


def test_streamed_import_refused_half_way_leaves_nothing_and_search_working(
    library_a: Library,
) -> None:
    """Records 1–3 are written before record 4 is refused: the transaction takes them back, and
    on SQLite the FTS5 trigger the import drops while it writes is there again."""
    from lifeline.selection import browsing
    from lifeline.selection.models import Campaign

    records = cnmarc_records()
    records[3]["010"]["a"] = "978-7-5037-1744-5"
    _refused(library_a, iso2709(records, "utf-8"))
    catalogue = _import(library_a, iso2709(cnmarc_records(), "utf-8"))
    campaign = Campaign.objects.create(
        library=library_a, name="c", starts_on="2020-01-01", ends_on="2020-01-02", budget=1
    )
    campaign.catalogues.set([catalogue])
    rows, _more = browsing.browse_titles(campaign, query="中国发展报告")
    assert "9787503717444" in [t.isbn for t in rows]  # filled in one statement after the rows
    Title.objects.create(library=library_a, catalogue=catalogue, position=99, title="湿地水文学")
    rows, _more = browsing.browse_titles(campaign, query="水文")
    assert [t.title for t in rows] == ["湿地水文学"]  # added one by one: the trigger works


def _offset(records: list[pymarc.Record], index: int) -> int:
    return len(iso2709(records[:index], "utf-8"))


def test_xml_with_entities_is_refused(library_a: Library) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        b'<collection xmlns="http://www.loc.gov/MARC21/slim"><record><datafield tag="245" '
        b'ind1=" " ind2=" "><subfield code="a">&b;</subfield></datafield></record></collection>'
    )
    assert "document type" in _refused(library_a, bomb)[0]


@override_settings(SELECTION_MAX_FILE_BYTES=1000)
def test_a_file_over_the_limit_is_refused_before_reading(library_a: Library) -> None:
    problems = _refused(library_a, b"0" * 1001)
    assert "above the limit" in problems[0]


def _xlsx(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


HEADER = ["ISBN", "题名", "责任者", "出版社", "出版年", "定价", "中图分类号"]


def test_spreadsheet_with_chinese_headers(library_a: Library) -> None:
    data = _xlsx(
        [
            HEADER,
            [
                9787111213826,
                "Java编程思想",
                "埃克尔 著",
                "机械工业出版社",
                2007,
                "108.00元",
                "TP312",
            ],
            ["7-301-04815-7", "红楼梦", "曹雪芹", "人民文学出版社", "1996", "CNY45", "I242.4"],
        ]
    )
    catalogue = _import(library_a, data, file_name="书目.xlsx")
    rows = list(Title.objects.filter(catalogue=catalogue).order_by("position"))
    assert [r.isbn for r in rows] == ["9787111213826", "9787301048153"]
    assert [r.price for r in rows] == [Decimal("108.00"), Decimal("45.00")]
    assert rows[0].clc_class == "T" and rows[1].clc_class == "I"


def test_gbk_csv_is_read(library_a: Library) -> None:
    text = (
        ",".join(HEADER) + "\n9787111213826,Java编程思想,埃克尔,机械工业出版社,2007,￥108,TP312\n"
    )
    catalogue = _import(library_a, text.encode("gbk"), file_name="list.csv")
    assert Title.objects.get(catalogue=catalogue).title == "Java编程思想"


def test_spreadsheet_bad_lines_are_named_and_nothing_written(library_a: Library) -> None:
    data = _xlsx(
        [
            HEADER,
            ["9787111213826", "好书", "", "", "", "38.00元", ""],
            ["9787111213827", "坏书号", "", "", "", "38", ""],
            ["9787301048153", "无价", "", "", "", "面议", ""],
            ["", "", "", "", "", "", ""],
            ["9787301048153", "", "", "", "", "", ""],
        ]
    )
    problems = _refused(library_a, data, file_name="list.xlsx")
    assert problems == [
        "list.xlsx: line 3: the ISBN 9787111213827 fails its checksum.",
        "list.xlsx: line 4: “面议” is not a price.",
        "list.xlsx: line 6: no title.",
    ]


def test_spreadsheet_without_title_column(library_a: Library) -> None:
    problems = _refused(
        library_a, _xlsx([["ISBN", "foo"], ["9787111213826", "x"]]), file_name="x.xlsx"
    )
    assert "题名" in problems[0]


def test_holdings_mark_lines_held_by_isbn_and_by_work(
    library_a: Library, library_b: Library
) -> None:
    catalogue = _import(library_a, CNMARC_XML.read_bytes())
    first, second = Title.objects.filter(catalogue=catalogue).order_by("position")[:2]
    # The library holds the first title under its ISBN and the second under another ISBN
    # (a reprint): same title, author and publisher.
    isbns = f"ISBN\n{first.isbn}\n"
    counts = services.import_holdings(library_a, isbns.encode(), file_name="isbns.csv")
    assert counts["holdings"] == 1 and counts["held"] == 1
    Holding.objects.create(
        library=library_a,
        isbn="9787111213826",
        work_key=second.work_key,
        title=second.title,
    )
    services.mark_titles(library_a)
    statuses = dict(Title.objects.filter(catalogue=catalogue).values_list("pk", "status"))
    assert statuses[first.pk] == LineStatus.HELD and statuses[second.pk] == LineStatus.HELD
    assert list(statuses.values()).count(LineStatus.NEW) == 8
    # Holdings of another library change nothing here.
    services.import_holdings(library_b, iso2709(cnmarc_records(), "utf-8"), file_name="b.mrc")
    assert Title.objects.filter(catalogue=catalogue, status=LineStatus.HELD).count() == 2


def test_holdings_from_marc_export_and_bare_isbn_list(library_a: Library) -> None:
    counts = services.import_holdings(
        library_a, iso2709(cnmarc_records(), "gb18030"), file_name="h.iso"
    )
    assert counts["holdings"] == 10
    counts = services.import_holdings(
        library_a, b"9787111213826\n7-301-04815-7\n", file_name="h.txt"
    )
    assert counts["holdings"] == 2  # replaces the set before
    with translation.override("en"), pytest.raises(ImportRefused) as info:
        services.import_holdings(library_a, b"9787111213826\n9787111213827\n", file_name="h.txt")
    assert info.value.problems == ["h.txt: line 2: the ISBN 9787111213827 fails its checksum."]
    assert Holding.objects.filter(library=library_a).count() == 2
