"""Every shared export sample is read by its parser, with figures checked against the files."""

from __future__ import annotations

import pytest

from lifeline.research.logic.formats import parse_bytes
from lifeline.research.logic.records import (
    ParseError,
    decode,
    match_key,
    normalise_doi,
    normalise_name,
)
from lifeline.research.tests.conftest import DATA

EXPECTED = {
    "wos-plaintext-wok-tethne.txt": ("wos", 10),
    "wos-plaintext-tethne.txt": ("wos", 100),
    "wos-plaintext-clarivate-mrhelper.txt": ("wos", 10),
    "wos-plaintext-clarivate-bibliometrix.txt": ("wos", 8),
    "wos-plaintext-alldb-synthesisr.txt": ("wos", 4),
    "wos-tabdelimited-utf16le-wosfile.txt": ("wos_tab", 50),
    "wos-tabdelimited-utf8bom-wosfile.txt": ("wos_tab", 50),
    "wos-tabdelimited-utf8bom-scientopy.txt": ("wos_tab", 71),
    "scopus-csv-bibliometrix.csv": ("scopus_csv", 8),
    "scopus-csv-tethne.csv": ("scopus_csv", 20),
    "scopus-ris-synthesisr.ris": ("ris", 92),
    "ris-ieee-litstudy.ris": ("ris", 25),
    "ris-ebsco-synthesisr.ris": ("ris", 4),
    "cnki-refworks-crossreality.txt": ("refworks", 298),
    "cnki-endnote-cnkiconverter.txt": ("endnote", 40),
    "cnki-noteexpress-cnki2bibtex.net": ("noteexpress", 15),
    "cnki-noteexpress-linebreak-cnki2bibtex.net": ("noteexpress", 1),
    "cnki-estudy-mrhelper.txt": ("estudy", 20),
    "wanfang-noteexpress-mrhelper.net": ("noteexpress", 20),
    "cssci-paperlongtail.txt": ("cssci", 96),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_sample_parses(name: str) -> None:
    fmt, records = parse_bytes((DATA / name).read_bytes())
    assert (fmt, len(records)) == EXPECTED[name]
    assert all(r.title for r in records)


def test_wos_fields() -> None:
    _, recs = parse_bytes((DATA / "wos-plaintext-wok-tethne.txt").read_bytes())
    first = recs[0]
    assert first.wos_ut == "000316281300006"
    assert first.doi == "10.1007/s10646-013-1042-4"
    assert first.year == 2013 and first.issn == "0963-9292"
    assert first.authors[0] == "Marigomez, Ionan"
    assert first.cited_dois  # DOIs read out of CR
    assert recs[-1].times_cited == 3


def test_utf16_and_utf8_tab_exports_agree() -> None:
    _, a = parse_bytes((DATA / "wos-tabdelimited-utf16le-wosfile.txt").read_bytes())
    _, b = parse_bytes((DATA / "wos-tabdelimited-utf8bom-wosfile.txt").read_bytes())
    assert [(r.wos_ut, r.doi, r.title) for r in a] == [(r.wos_ut, r.doi, r.title) for r in b]
    assert a[0].times_cited == 420


def test_chinese_exports_fields() -> None:
    _, recs = parse_bytes((DATA / "cnki-refworks-crossreality.txt").read_bytes())
    assert recs[0].authors == ["谢进", "王娜", "杨子奇"] and recs[0].source == "cnki"
    assert sum(1 for r in recs if r.doi) == 122
    _, wf = parse_bytes((DATA / "wanfang-noteexpress-mrhelper.net").read_bytes())
    assert wf[0].source == "wanfang" and wf[0].authors[:2] == ["江文杰", "韩超"]
    _, cs = parse_bytes((DATA / "cssci-paperlongtail.txt").read_bytes())
    assert cs[0].journal == "情报杂志" and cs[0].year == 2019 and cs[0].references


def test_gbk_export_is_read() -> None:
    data = (DATA / "cnki-endnote-cnkiconverter.txt").read_bytes().decode("utf-8").encode("gb18030")
    fmt, recs = parse_bytes(data)
    assert fmt == "endnote" and recs[0].authors == ["吴继琴"]


def test_scopus_two_exports_joined_is_refused_with_its_line() -> None:
    with pytest.raises(ParseError) as exc:
        parse_bytes((DATA / "scopus-csv-litstudy.csv").read_bytes())
    assert exc.value.line == 5


def test_truncated_wos_export_names_the_record() -> None:
    text = (DATA / "wos-plaintext-wok-tethne.txt").read_bytes()
    cut = text[: len(text) // 2]
    with pytest.raises(ParseError) as exc:
        parse_bytes(cut)
    assert exc.value.line is not None and exc.value.line > 1


def test_mixed_export_is_refused() -> None:
    wos = (DATA / "wos-plaintext-alldb-synthesisr.txt").read_bytes()
    ris = (DATA / "ris-ebsco-synthesisr.ris").read_bytes()
    with pytest.raises(ParseError):
        parse_bytes(wos.replace(b"\nEF", b"\n") + ris)


def test_wos_record_without_ut() -> None:
    from lifeline.research.tests.conftest import CITING

    _, recs = parse_bytes(CITING.encode())
    assert recs[1].wos_ut == "" and recs[1].doi == "10.1000/citing.2"
    assert recs[2].cited_dois == ["10.1016/j.ecolind.2011.07.024", "10.1007/s10646-013-1042-4"]


def test_huge_export_is_refused_before_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    from lifeline.research.logic import records

    monkeypatch.setattr(records, "MAX_BYTES", 1000)
    with pytest.raises(ParseError):
        decode(b"x" * 1001)


def test_bibtex_and_garbage_are_refused() -> None:
    with pytest.raises(ParseError):
        parse_bytes((DATA / "scopus-bib-pybibx.bib").read_bytes())
    with pytest.raises(ParseError):
        parse_bytes(b"\x00\x01\x02binary")


@pytest.mark.parametrize(
    ("raw", "doi"),
    [
        ("'10.1016/J.ECOLIND.2015.06.017", "10.1016/j.ecolind.2015.06.017"),
        ('="10.1016/j.x.2015.1"', "10.1016/j.x.2015.1"),
        ("https://doi.org/10.1177/205520762614", "10.1177/205520762614"),
        ("DOI: 10.1080/abc.", "10.1080/abc"),
        ("1.02E+01", ""),
        ("", ""),
    ],
)
def test_excel_mangled_dois(raw: str, doi: str) -> None:
    assert normalise_doi(raw) == doi


def test_name_and_key_normalisation() -> None:
    assert normalise_name("Zhang, San") == normalise_name("ZHANG S.") == "zhang s"
    assert normalise_name("Liu, Fengyuan (60410297700)") == "liu f"
    assert normalise_name("谢 进") == "谢进"
    from lifeline.research.logic.records import Record

    a = Record(source="wos", title="A Study: of Things!", year=2020, authors=["Li, Wei"])
    b = Record(source="cnki", title="a study of things", year=2020, authors=["LI W"])
    assert match_key(a) == match_key(b)


@pytest.mark.parametrize("name", [n for n, (fmt, _count) in EXPECTED.items() if fmt == "wos"])
def test_wos_fast_path_gives_the_line_parsers_records(name: str) -> None:
    """The scanning fast path and the line-by-line parser read every sample the same way,
    line numbers included; the fast path takes each of these well-formed samples."""
    from lifeline.research.logic import wos

    text = decode((DATA / name).read_bytes()).replace("\r\n", "\n").lstrip("\ufeff")
    fast = wos._parse_plain_fast(text)
    assert fast is not None
    assert fast == list(wos.parse_plain_lines(text))


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.replace("\nER\n", "\n", 1),  # a record without ER
        lambda t: t.replace("\nTI ", "\n TI ", 1),  # a field line shifted by one space
        lambda t: t.replace("\nPT J", "\nPT J\nPT J", 1),  # PT inside a record
        lambda t: t.replace("\nER\n", "\nER\nTI stray\n", 1),  # a field between records
        lambda t: t.replace("\nAU ", "\nAU \n\n   ", 1),  # a continuation after a blank line
        lambda t: t[: t.rindex("\nER")],  # truncated
    ],
)
def test_wos_odd_files_leave_the_fast_path(change: object) -> None:
    """Whatever is unusual goes to the line parser, which names the defect's line or reads
    the file the way it always has; the two never disagree."""
    from lifeline.research.logic import wos

    text = change(  # type: ignore[operator]
        decode((DATA / "wos-plaintext-tethne.txt").read_bytes()).lstrip("\ufeff")
    )
    assert wos._parse_plain_fast(text) is None
    try:
        records = list(wos.parse_plain_lines(text))
    except ParseError as exc:
        assert exc.line
    else:
        assert records
