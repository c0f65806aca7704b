"""Exports of the Chinese databases: CNKI, Wanfang and VIP in RefWorks, EndNote (Refer) and
NoteExpress layouts, CNKI E-Study (知网研学) and CSSCI.

Hand-written: these are vendor text layouts with no published grammar and no maintained Python
reader (the few GitHub converters each cover one vendor and one year). Each reader follows the
samples' tags and reports the line where a record goes wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from django.utils.translation import gettext as _

from lifeline.research.logic.records import (
    ParseError,
    Record,
    int_or_none,
    normalise_doi,
    split_names,
    year_of,
)

Fields = dict[str, list[str]]


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _source(database: str, default: str = "cnki") -> str:
    db = database.lower()
    if "万方" in database or "wanfang" in db:
        return "wanfang"
    if "维普" in database or "vip" in db or "cqvip" in db:
        return "vip"
    if "cnki" in db or "知网" in database:
        return "cnki"
    return default


def _authors(values: list[str]) -> list[str]:
    """`谢进;王娜`, `吴继琴,王五` (Chinese names: commas separate) or `Li, Wei; Wang, Fang`."""
    out: list[str] = []
    for v in values:
        latin = re.search(r"[A-Za-z]", v) is not None
        out += split_names(v, ";；" if latin else ";；,，")
    return out


def _tagged(
    text: str, tag_re: re.Pattern[str], starts: str, build: Callable[[Fields, int], Record]
) -> Iterator[Record]:
    fields: Fields | None = None
    start = 0
    last = ""
    for number, raw in enumerate(_lines(text), start=1):
        line = raw.lstrip("\ufeff")
        if not line.strip():
            continue
        match = tag_re.match(line)
        if match is None:
            if fields is not None and last:
                fields[last][-1] += " " + line.strip()
                continue
            raise ParseError(
                _("not a field line of this export: %(text)s") % {"text": line[:60]}, number
            )
        tag, value = match.group(1).strip(), match.group(2).strip()
        if tag == starts:
            if fields is not None:
                yield build(fields, start)
            fields, start = {}, number
        elif fields is None:
            raise ParseError(_("a field outside any record"), number)
        fields.setdefault(tag, []).append(value)
        last = tag
    if fields is not None:
        yield build(fields, start)


def _one(fields: Fields, *tags: str) -> str:
    for tag in tags:
        values = [v for v in fields.get(tag, []) if v]
        if values:
            return values[0]
    return ""


def _refworks(fields: Fields, line: int) -> Record:
    return Record(
        source=_source(_one(fields, "DS")),
        line=line,
        title=_one(fields, "T1"),
        authors=_authors(fields.get("A1", []) + fields.get("AU", [])),
        year=year_of(_one(fields, "YR", "FD")),
        journal=_one(fields, "JF", "JO"),
        issn=_one(fields, "SN"),
        volume=_one(fields, "vo", "VO"),
        issue=_one(fields, "IS"),
        pages=_one(fields, "OP", "SP"),
        doi=normalise_doi(_one(fields, "DO")),
        doc_type=_one(fields, "RT"),
        language=_one(fields, "LA").strip(";"),
        affiliations=_authors(fields.get("AD", [])),
    )


def parse_refworks(text: str) -> Iterator[Record]:
    return _tagged(text, re.compile(r"^([A-Za-z][A-Za-z0-9]) ?(.*)$"), "RT", _refworks)


def _endnote(fields: Fields, line: int) -> Record:
    return Record(
        source=_source(_one(fields, "%W")),
        line=line,
        title=_one(fields, "%T"),
        authors=_authors(fields.get("%A", [])),
        year=year_of(_one(fields, "%D")),
        journal=_one(fields, "%J", "%B"),
        issn=_one(fields, "%@"),
        volume=_one(fields, "%V"),
        issue=_one(fields, "%N"),
        pages=_one(fields, "%P"),
        doi=normalise_doi(_one(fields, "%R")),
        doc_type=_one(fields, "%0"),
        affiliations=_authors(fields.get("%+", [])),
    )


def parse_endnote(text: str) -> Iterator[Record]:
    return _tagged(text, re.compile(r"^(%\S) ?(.*)$"), "%0", _endnote)


def _noteexpress(fields: Fields, line: int) -> Record:
    return Record(
        source=_source(_one(fields, "Database Provider", "SrcDatabase")),
        line=line,
        title=_one(fields, "Title"),
        authors=_authors(fields.get("Author", [])),
        year=year_of(_one(fields, "Year")),
        journal=_one(fields, "Journal", "Secondary Title"),
        issn=_one(fields, "ISBN/ISSN", "ISSN"),
        volume=_one(fields, "Volume"),
        issue=_one(fields, "Issue"),
        pages=_one(fields, "Pages"),
        doi=normalise_doi(_one(fields, "DOI")),
        doc_type=_one(fields, "Reference Type"),
        language=_one(fields, "Language"),
        times_cited=int_or_none(_one(fields, "Times Cited")),
        affiliations=_authors(fields.get("Author Address", [])),
    )


def parse_noteexpress(text: str) -> Iterator[Record]:
    return _tagged(text, re.compile(r"^\{([^}]+)\}:\s?(.*)$"), "Reference Type", _noteexpress)


def _estudy(fields: Fields, line: int) -> Record:
    return Record(
        source=_source(_one(fields, "SrcDatabase"), "cnki"),
        line=line,
        title=_one(fields, "Title"),
        authors=_authors(fields.get("Author", [])),
        year=year_of(_one(fields, "Year", "PubTime")),
        journal=_one(fields, "Source"),
        issn=_one(fields, "ISSN"),
        volume=_one(fields, "Roll"),
        issue=_one(fields, "Period"),
        pages=_one(fields, "Page"),
        doi=normalise_doi(_one(fields, "DOI")),
        affiliations=_authors(fields.get("Organ", [])),
    )


def parse_estudy(text: str) -> Iterator[Record]:
    # `Title-题名: …`: the English half of the label is the tag.
    return _tagged(text, re.compile(r"^([A-Za-z]+)(?:-[^:：]*)?[:：]\s?(.*)$"), "DataType", _estudy)


def _cssci(fields: Fields, line: int) -> Record:
    vol = _one(fields, "年代卷期")
    issue = re.search(r"\((\w+)\)", vol)
    return Record(
        source="cssci",
        line=line,
        title=_one(fields, "来源篇名"),
        authors=_authors([a.replace("/", ";") for a in fields.get("来源作者", [])]),
        year=year_of(vol),
        journal=_one(fields, "期刊"),
        volume=(m.group(1) if (m := re.match(r"\d{4},(\d+)", vol)) else ""),
        issue=issue.group(1) if issue else "",
        pages=vol.rsplit(":", 1)[1] if ":" in vol else "",
        affiliations=[a.strip() for a in re.split(r"/(?=\[)", _one(fields, "机构名称")) if a],
        references=[r for r in fields.get("参考文献", [])[1:] if r],
        doc_type="Journal Article",
    )


def parse_cssci(text: str) -> Iterator[Record]:
    """`【来源篇名】…` blocks; a banner before the first one and dashed separators are skipped;
    `【参考文献】` is followed by numbered lines, one per reference."""
    fields: Fields | None = None
    start = 0
    last = ""
    for number, raw in enumerate(_lines(text), start=1):
        line = raw.strip().lstrip("\ufeff")
        match = re.match(r"^【([^】]+)】(.*)$", line)
        if match:
            tag = re.sub(r"\s+", "", match.group(1))
            value = match.group(2).strip()
            if tag == "来源篇名":
                if fields is not None:
                    yield _cssci(fields, start)
                fields, start = {}, number
            elif fields is None:
                raise ParseError(_("a field outside any record"), number)
            fields.setdefault(tag, []).append(value)
            last = tag
        elif fields is not None and line and not re.fullmatch(r"-{5,}", line):
            if last == "参考文献":
                fields[last].append(re.sub(r"^\d+\.", "", line))
            elif last:
                fields[last][-1] += line
    if fields is None:
        raise ParseError(_("no CSSCI record found"), 1)
    yield _cssci(fields, start)
